//! `nabla compare`: trains several runs that differ in one setting (optimiser, initialisation,
//! activation, batch norm or learning rate) with the trainer of `nabla train`, one after another
//! in one process, each in its own run folder under the output folder; then draws every run's
//! curves on one chart (`compare.svg`), writes `compare.json` and prints a results table.

mod report;
mod vary;

use crate::CliResult;
use crate::commands::train::{
    ComparedRun, Console, RunFolder, SettingsArgs, compare_svg, load_data, train,
};
use clap::Args;
use report::{CompareReport, RunReport, print_table};
use std::path::{Path, PathBuf};
use vary::Setting;

#[derive(Args)]
pub struct CompareArgs {
    /// The setting that differs between runs.
    #[arg(long, value_enum)]
    vary: Setting,
    /// The values it takes, one run each, e.g. `--values sgd,momentum,adagrad,adam`.
    #[arg(long, value_delimiter = ',', required = true)]
    values: Vec<String>,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Output folder (default: a new `runs/compare-N`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

const REPORT: &str = "compare.json";
const CHART: &str = "compare.svg";

/// The output folder: `out`, or the first free `runs/compare-N`; never one holding a comparison.
fn output_folder(out: Option<&Path>) -> CliResult<PathBuf> {
    let dir = match out {
        Some(d) => d.to_path_buf(),
        None => (1..)
            .map(|n| PathBuf::from(format!("runs/compare-{n}")))
            .find(|p| !p.exists())
            .expect("an unused comparison number"),
    };
    if dir.join(REPORT).exists() {
        return Err(format!(
            "{}: already holds a comparison; choose another --out",
            dir.display()
        )
        .into());
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("{}: cannot create the output folder: {e}", dir.display()))?;
    Ok(dir)
}

fn write(path: &Path, contents: &str) -> CliResult {
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()).into())
}

pub fn run(args: &CompareArgs) -> CliResult {
    let configs = vary::configs(args.vary, &args.values, &args.settings)?;
    let dir = output_folder(args.out.as_deref())?;
    let data = load_data(&configs[0])?;
    for config in &configs {
        config.check_memory(&data.schema, nabla_nn::memory::available())?;
    }
    let options = args.settings.options();
    let setting = args.vary.name();
    let mut report = CompareReport::new(args.vary, &args.values);
    for (i, (value, config)) in args.values.iter().zip(&configs).enumerate() {
        let run_dir = dir.join(format!("{setting}-{value}"));
        let label = format!("[{}/{} {setting}={value}]", i + 1, configs.len());
        let mut console = Console::new(args.quiet, Some(label));
        let outcome = RunFolder::new_run(Some(&run_dir))
            .and_then(|folder| train(config, &data, &folder, &options, None, &mut console));
        if let Err(e) = &outcome {
            console.warning(&format!("failed: {e}"));
        }
        report
            .runs
            .push(RunReport::new(value, &run_dir, config, outcome));
        write(
            &dir.join(REPORT),
            &(serde_json::to_string_pretty(&report)? + "\n"),
        )?;
        let curves: Vec<ComparedRun> = report
            .runs
            .iter()
            .map(|r| ComparedRun {
                name: r.value.clone(),
                history: r.metrics.clone(),
                error: r.error.clone(),
            })
            .collect();
        let title = format!("{} runs varying {setting}", configs.len());
        write(&dir.join(CHART), &compare_svg(&title, &curves)?)?;
    }
    print_table(&report);
    println!("wrote {} and {} in {}", REPORT, CHART, dir.display());
    if report.runs.iter().all(|r| r.error.is_some()) {
        return Err(format!("every run failed; see {}", dir.join(REPORT).display()).into());
    }
    Ok(())
}
