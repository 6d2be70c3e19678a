//! How a classifier's answers fall: the confusion matrix of true against predicted classes,
//! and from it accuracy and each class's precision, recall and F1 score with its support, as
//! scikit-learn's `confusion_matrix` and `classification_report` give them.
//!
//! A score whose denominator is zero (precision of a class never predicted, recall of a class
//! that never occurs) is 0, scikit-learn's default (`zero_division="warn"` gives 0); so is the
//! accuracy of no samples.

use super::shown_name;
use crate::error::{Error, Result};
use std::fmt;

/// Counts of samples by true class (rows) and predicted class (columns).
///
/// ```
/// use nabla_nn::report::ConfusionMatrix;
/// let classes = vec!["cat".to_string(), "dog".to_string()];
/// // true:      cat cat cat dog dog
/// // predicted: cat cat dog dog cat
/// let m = ConfusionMatrix::from_indices(&[0, 0, 0, 1, 1], &[0, 0, 1, 1, 0], classes)?;
/// assert_eq!(m.count(0, 1), 1); // one cat taken for a dog
/// assert_eq!(m.accuracy(), 0.6);
/// assert_eq!(m.precision(0), 2.0 / 3.0); // of three "cat" answers, two were cats
/// assert_eq!(m.recall(1), 0.5); // of two dogs, one was found
/// assert_eq!(m.support(0), 3);
/// println!("{m}\n{}", m.report());
/// # Ok::<(), nabla_nn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: Vec<String>,
    /// Row-major `[true class][predicted class]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// The matrix of `actual` against `predicted` class indices (one pair per sample) over the
    /// named `classes`. Refuses no classes, slices of different lengths and an index that is
    /// not a class.
    pub fn from_indices(
        actual: &[i64],
        predicted: &[i64],
        classes: Vec<String>,
    ) -> Result<ConfusionMatrix> {
        const CONTEXT: &str = "confusion matrix";
        let n = classes.len();
        if n == 0 {
            return Err(Error::invalid(CONTEXT, "no classes"));
        }
        if actual.len() != predicted.len() {
            return Err(Error::invalid(
                CONTEXT,
                format!(
                    "{} true classes but {} predictions",
                    actual.len(),
                    predicted.len()
                ),
            ));
        }
        let class = |which: &str, i: usize, value: i64| {
            usize::try_from(value)
                .ok()
                .filter(|&c| c < n)
                .ok_or_else(|| {
                    Error::invalid(
                        CONTEXT,
                        format!("{which} class of sample {i} is {value}, not one of the {n} classes 0..{n}"),
                    )
                })
        };
        let mut counts = vec![0u64; n * n];
        for (i, (&a, &p)) in actual.iter().zip(predicted).enumerate() {
            counts[class("true", i, a)? * n + class("predicted", i, p)?] += 1;
        }
        Ok(ConfusionMatrix { classes, counts })
    }

    /// The class names, in class-index order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Samples of true class `actual` predicted as `predicted`.
    #[track_caller]
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        let n = self.classes.len();
        assert!(
            actual < n && predicted < n,
            "confusion matrix: no cell ({actual}, {predicted}) among {n} classes"
        );
        self.counts[actual * n + predicted]
    }

    /// Samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Samples whose predicted class is their true class (the diagonal).
    pub fn correct(&self) -> u64 {
        (0..self.classes.len()).map(|c| self.count(c, c)).sum()
    }

    /// The fraction of samples predicted correctly (0 for no samples).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// Samples whose true class is `class` (its row's sum).
    #[track_caller]
    pub fn support(&self, class: usize) -> u64 {
        (0..self.classes.len()).map(|p| self.count(class, p)).sum()
    }

    /// Samples predicted as `class` (its column's sum).
    #[track_caller]
    pub fn predicted(&self, class: usize) -> u64 {
        (0..self.classes.len()).map(|a| self.count(a, class)).sum()
    }

    /// Of the samples predicted as `class`, the fraction that are (0 when none is).
    #[track_caller]
    pub fn precision(&self, class: usize) -> f64 {
        ratio(self.count(class, class), self.predicted(class))
    }

    /// Of the samples of `class`, the fraction predicted as it (0 when there are none).
    #[track_caller]
    pub fn recall(&self, class: usize) -> f64 {
        ratio(self.count(class, class), self.support(class))
    }

    /// The harmonic mean of precision and recall, `2 tp / (2 tp + fp + fn)` as scikit-learn
    /// computes it (0 when the class is neither present nor predicted).
    #[track_caller]
    pub fn f1(&self, class: usize) -> f64 {
        let tp = self.count(class, class);
        let wrong = self.predicted(class) + self.support(class) - 2 * tp;
        ratio(2 * tp, 2 * tp + wrong)
    }

    /// Every class's scores with accuracy and the macro and support-weighted averages, as
    /// scikit-learn's `classification_report`; its `Display` is that report's table.
    pub fn report(&self) -> ClassificationReport {
        let classes: Vec<(String, ClassScores)> = self
            .classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let scores = ClassScores {
                    precision: self.precision(c),
                    recall: self.recall(c),
                    f1: self.f1(c),
                    support: self.support(c),
                };
                (name.clone(), scores)
            })
            .collect();
        let total = self.total();
        let average = |weight: &dyn Fn(&ClassScores) -> f64, sum_of_weights: f64| {
            let mean = |score: fn(&ClassScores) -> f64| {
                let sum: f64 = classes.iter().map(|(_, s)| weight(s) * score(s)).sum();
                if sum_of_weights == 0.0 {
                    0.0
                } else {
                    sum / sum_of_weights
                }
            };
            ClassScores {
                precision: mean(|s| s.precision),
                recall: mean(|s| s.recall),
                f1: mean(|s| s.f1),
                support: total,
            }
        };
        let macro_avg = average(&|_| 1.0, classes.len() as f64);
        let weighted_avg = average(&|s| s.support as f64, total as f64);
        ClassificationReport {
            accuracy: self.accuracy(),
            classes,
            macro_avg,
            weighted_avg,
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    /// The matrix as a table: a row per true class, a column per predicted class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.classes.iter().map(|c| shown_name(c)).collect();
        let corner = "true \\ predicted";
        let label_width = names
            .iter()
            .map(|n| n.chars().count())
            .chain([corner.len()])
            .max()
            .unwrap_or(0);
        let cell_width = names
            .iter()
            .map(|n| n.chars().count())
            .chain(self.counts.iter().map(|c| c.to_string().len()))
            .max()
            .unwrap_or(1);
        write!(f, "{corner:<label_width$}")?;
        for name in &names {
            write!(f, " {name:>cell_width$}")?;
        }
        for (a, name) in names.iter().enumerate() {
            write!(f, "\n{name:<label_width$}")?;
            for p in 0..names.len() {
                write!(f, " {:>cell_width$}", self.count(a, p))?;
            }
        }
        Ok(())
    }
}

/// Precision, recall and F1 score of one class (or their average), and its support.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Samples of the class (for an average: all samples).
    pub support: u64,
}

/// scikit-learn's `classification_report` of a [`ConfusionMatrix`].
#[derive(Clone, Debug, PartialEq)]
pub struct ClassificationReport {
    /// Each class's name and scores, in class-index order.
    pub classes: Vec<(String, ClassScores)>,
    pub accuracy: f64,
    /// The unweighted mean over classes (classes without samples count, as zeros).
    pub macro_avg: ClassScores,
    /// The mean over classes weighted by support.
    pub weighted_avg: ClassScores,
}

impl fmt::Display for ClassificationReport {
    /// scikit-learn's layout: scores with two decimals, then accuracy and the two averages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.classes.iter().map(|(c, _)| shown_name(c)).collect();
        let w = names
            .iter()
            .map(|n| n.chars().count())
            .chain(["weighted avg".len()])
            .max()
            .unwrap_or(0);
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &ClassScores| {
            writeln!(
                f,
                "{name:>w$}  {:>9.2} {:>9.2} {:>9.2} {:>9}",
                s.precision, s.recall, s.f1, s.support
            )
        };
        writeln!(
            f,
            "{:>w$}  {:>9} {:>9} {:>9} {:>9}\n",
            "", "precision", "recall", "f1-score", "support"
        )?;
        for (name, (_, scores)) in names.iter().zip(&self.classes) {
            row(f, name, scores)?;
        }
        writeln!(
            f,
            "\n{:>w$}  {:>9} {:>9} {:>9.2} {:>9}",
            "accuracy", "", "", self.accuracy, self.macro_avg.support
        )?;
        row(f, "macro avg", &self.macro_avg)?;
        row(f, "weighted avg", &self.weighted_avg)
    }
}
