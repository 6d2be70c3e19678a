//! [`Console`]: what a training run shows while it runs: a progress bar per epoch with its
//! estimated time left (drawn only on a terminal), one summary line per epoch, warnings, and a
//! closing line. `nabla compare` gives each run a label that prefixes its lines.

use super::run_folder::EpochMetrics;
use indicatif::{ProgressBar, ProgressStyle};
use nabla_nn::train::StepEnd;
use std::cell::RefCell;
use std::path::Path;

pub struct Console {
    quiet: bool,
    /// `[2/4 optimizer=adam]` for a run among several; `None` for a single run.
    label: Option<String>,
    bar: RefCell<ProgressBar>,
}

/// The sizes of the sets a run uses, for its opening line.
pub struct SetSizes {
    pub train: usize,
    pub val: Option<usize>,
    pub test: Option<usize>,
}

impl Console {
    pub fn new(quiet: bool, label: Option<String>) -> Console {
        Console {
            quiet,
            label,
            bar: RefCell::new(ProgressBar::hidden()),
        }
    }

    fn prefix(&self) -> String {
        self.label
            .as_ref()
            .map_or(String::new(), |l| format!("{l} "))
    }

    /// Announces the run: the network and data for a single run, one line for a labelled one.
    pub fn begin(&self, network: &str, parameters: usize, sizes: &SetSizes, folder: &Path) {
        if self.quiet {
            return;
        }
        let mut sets = format!("{} training", sizes.train);
        if let Some(n) = sizes.val {
            sets.push_str(&format!(", {n} validation"));
        }
        match sizes.test {
            Some(n) => sets.push_str(&format!(" and {n} test samples")),
            None => sets.push_str(" samples and no test set"),
        }
        let summary = format!(
            "{parameters} parameters, {sets}, run folder {}",
            folder.display()
        );
        match &self.label {
            None => println!("{network}\n{summary}"),
            Some(label) => println!("{label} {summary}"),
        }
    }

    pub fn epoch_started(&self, epoch: usize, epochs: usize, batches: usize) {
        if self.quiet {
            return;
        }
        // indicatif draws nothing when stderr is not a terminal, so piped output stays clean.
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, {eta} left)",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}epoch {epoch}/{epochs}", self.prefix()));
        *self.bar.borrow_mut() = bar;
    }

    /// After each step (from 1): every 20 steps the bar shows the running loss, accuracy (or
    /// mean absolute error) and speed, formatted only on those steps.
    pub fn step(&self, step: &StepEnd) {
        let bar = self.bar.borrow();
        bar.inc(1);
        if step.step % 20 == 1 {
            let m = &step.running;
            bar.set_message(format!(
                "{} {:.0} samples/s",
                figures(m.loss, m.accuracy, m.mae),
                step.samples_per_second
            ));
        }
    }

    pub fn epoch_finished(&self, m: &EpochMetrics, epochs: usize) {
        self.bar.borrow().finish_and_clear();
        let mut line = format!(
            "{}epoch {:>2}/{}  lr {:.2e}  train {}",
            self.prefix(),
            m.epoch,
            epochs,
            m.lr,
            figures(m.train_loss, m.train_acc, m.train_mae)
        );
        if let Some(loss) = m.val_loss {
            line.push_str(&format!("  val {}", figures(loss, m.val_acc, m.val_mae)));
        }
        if let Some(loss) = m.test_loss {
            line.push_str(&format!("  test {}", figures(loss, m.test_acc, m.test_mae)));
        }
        println!(
            "{line}  {:.1}s ({:.0} samples/s)",
            m.seconds, m.samples_per_second
        );
    }

    /// A warning on stderr, above the bar.
    pub fn warning(&self, message: &str) {
        let prefix = self.prefix();
        self.bar
            .borrow()
            .suspend(|| eprintln!("warning: {prefix}{message}"));
    }

    pub fn note(&self, message: &str) {
        println!("{}{message}", self.prefix());
    }

    /// Advice on the run's settings, as a note; silent with `--quiet` and among the runs of a
    /// comparison, which share their settings.
    pub fn tip(&self, message: &str) {
        if !self.quiet && self.label.is_none() {
            self.note(message);
        }
    }
}

/// `loss 0.1234 acc 97.50%` (classification) or `loss 0.1234 mae 0.2000` (regression).
pub fn figures(loss: f64, acc: Option<f64>, mae: Option<f64>) -> String {
    match (acc, mae) {
        (Some(acc), _) => format!("loss {loss:.4} acc {:.2}%", 100.0 * acc),
        (None, Some(mae)) => format!("loss {loss:.4} mae {mae:.4}"),
        (None, None) => format!("loss {loss:.4}"),
    }
}
