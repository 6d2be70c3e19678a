//! [`Console`]: what a training run shows while it runs: a progress bar per epoch (drawn only on
//! a terminal), one summary line per epoch, warnings, and a closing line. `nabla compare` gives
//! each run a label that prefixes its lines.

use super::run_folder::EpochMetrics;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

pub struct Console {
    quiet: bool,
    /// `[2/4 optimizer=adam]` for a run among several; `None` for a single run.
    label: Option<String>,
    bar: ProgressBar,
}

impl Console {
    pub fn new(quiet: bool, label: Option<String>) -> Console {
        Console {
            quiet,
            label,
            bar: ProgressBar::hidden(),
        }
    }

    fn prefix(&self) -> String {
        self.label
            .as_ref()
            .map_or(String::new(), |l| format!("{l} "))
    }

    /// Announces the run: the network and data for a single run, one line for a labelled one.
    pub fn begin(
        &self,
        network: &str,
        parameters: usize,
        train: usize,
        test: usize,
        folder: &Path,
    ) {
        if self.quiet {
            return;
        }
        let summary = format!(
            "{parameters} parameters, {train} training and {test} test images, run folder {}",
            folder.display()
        );
        match &self.label {
            None => println!("{network}\n{summary}"),
            Some(label) => println!("{label} {summary}"),
        }
    }

    pub fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        if self.quiet {
            return;
        }
        // indicatif draws nothing when stderr is not a terminal, so piped output stays clean.
        self.bar = ProgressBar::new(batches as u64);
        self.bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.bar
            .set_prefix(format!("{}epoch {epoch}/{epochs}", self.prefix()));
    }

    /// After each step: every 20 steps the bar shows the running loss, accuracy and speed.
    pub fn step(&self, step: usize, loss: f64, acc: f64, samples_per_second: f64) {
        self.bar.inc(1);
        if step % 20 == 0 {
            self.bar.set_message(format!(
                "loss {loss:.4} acc {:.2}% {samples_per_second:.0} samples/s",
                100.0 * acc
            ));
        }
    }

    pub fn epoch_finished(&self, m: &EpochMetrics, epochs: usize) {
        self.bar.finish_and_clear();
        println!(
            "{}epoch {:>2}/{}  lr {:.2e}  train loss {:.4} acc {:.2}%  test loss {:.4} acc {:.2}%  {:.1}s ({:.0} samples/s)",
            self.prefix(),
            m.epoch,
            epochs,
            m.lr,
            m.train_loss,
            100.0 * m.train_acc,
            m.test_loss,
            100.0 * m.test_acc,
            m.seconds,
            m.samples_per_second
        );
    }

    /// A warning on stderr, above the bar.
    pub fn warning(&self, message: &str) {
        let prefix = self.prefix();
        self.bar.suspend(|| eprintln!("warning: {prefix}{message}"));
    }

    pub fn note(&self, message: &str) {
        println!("{}{message}", self.prefix());
    }
}
