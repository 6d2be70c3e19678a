//! The confusion matrix, classification report and regression report against scikit-learn's
//! (tools/pytorch_reference/sklearn_reports.py), hand-counted cases, and refused input.

#[path = "reference/sklearn_reports.rs"]
mod sklearn_reports;

use nabla_nn::report::{ConfusionMatrix, RegressionReport};
use sklearn_reports as sk;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn five_classes() -> ConfusionMatrix {
    ConfusionMatrix::from_indices(
        &sk::Y_TRUE,
        &sk::Y_PRED,
        names(&["cat", "dog", "bird", "fish", "ant"]),
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15
}

#[test]
fn counts_and_scores_match_scikit_learn() {
    let m = five_classes();
    for a in 0..5 {
        for p in 0..5 {
            assert_eq!(m.count(a, p), sk::MATRIX[a * 5 + p], "cell ({a}, {p})");
        }
    }
    assert_eq!(m.total(), 21);
    assert!(close(m.accuracy(), sk::ACCURACY));
    for c in 0..5 {
        assert!(close(m.precision(c), sk::PRECISION[c]), "precision of {c}");
        assert!(close(m.recall(c), sk::RECALL[c]), "recall of {c}");
        assert!(close(m.f1(c), sk::F1[c]), "f1 of {c}");
        assert_eq!(m.support(c), sk::SUPPORT[c], "support of {c}");
    }
    let report = m.report();
    let triple = |s: &nabla_nn::report::ClassScores| [s.precision, s.recall, s.f1];
    for (ours, theirs) in [
        (triple(&report.macro_avg), sk::MACRO),
        (triple(&report.weighted_avg), sk::WEIGHTED),
    ] {
        assert!(
            ours.iter().zip(theirs).all(|(a, b)| close(*a, b)),
            "{ours:?} vs {theirs:?}"
        );
    }
}

#[test]
fn zero_division_gives_zero_as_scikit_learn() {
    let m = five_classes();
    // "fish" (3) is never predicted and "ant" (4) never occurs.
    assert_eq!(m.predicted(3), 0);
    assert_eq!(m.support(4), 0);
    assert_eq!((m.precision(3), m.recall(4), m.f1(4)), (0.0, 0.0, 0.0));
    let empty = ConfusionMatrix::from_indices(&[], &[], names(&["a", "b"])).unwrap();
    assert_eq!(
        (empty.accuracy(), empty.report().weighted_avg.f1),
        (0.0, 0.0)
    );
}

#[test]
fn report_text_is_scikit_learns() {
    assert_eq!(five_classes().report().to_string(), sk::REPORT);
}

#[test]
fn hand_counted_two_classes() {
    // true:      a a a a b b
    // predicted: a a b b b a   -> [[2, 2], [1, 1]]
    let m =
        ConfusionMatrix::from_indices(&[0, 0, 0, 0, 1, 1], &[0, 0, 1, 1, 1, 0], names(&["a", "b"]))
            .unwrap();
    assert_eq!(
        [m.count(0, 0), m.count(0, 1), m.count(1, 0), m.count(1, 1)],
        [2, 2, 1, 1]
    );
    assert_eq!(m.accuracy(), 0.5);
    assert_eq!((m.precision(0), m.recall(0)), (2.0 / 3.0, 0.5));
    assert_eq!((m.precision(1), m.recall(1)), (1.0 / 3.0, 0.5));
    // F1 of a: 2·(2/3)·(1/2) / (2/3 + 1/2) = 4/7
    assert!(close(m.f1(0), 4.0 / 7.0));
    assert_eq!(
        m.to_string(),
        "true \\ predicted a b\n\
         a                2 2\n\
         b                1 1"
    );
}

#[test]
fn long_class_names_are_cut_in_tables() {
    let long = "a-very-long-class-name-indeed".to_string();
    let m = ConfusionMatrix::from_indices(&[0, 1], &[0, 1], vec![long, "b".into()]).unwrap();
    let table = m.to_string();
    assert!(
        table.contains("a-very-long-clas…") && !table.contains("indeed"),
        "{table}"
    );
    assert!(!m.report().to_string().contains("indeed"));
}

#[test]
fn bad_input_is_refused_with_one_line() {
    let two = || names(&["a", "b"]);
    type Case<'a> = (&'a [i64], &'a [i64], Vec<String>, &'a str);
    let cases: [Case; 4] = [
        (&[0], &[0], vec![], "confusion matrix: no classes"),
        (
            &[0, 1],
            &[0],
            two(),
            "confusion matrix: 2 true classes but 1 predictions",
        ),
        (
            &[0, 2],
            &[0, 1],
            two(),
            "confusion matrix: true class of sample 1 is 2, not one of the 2 classes 0..2",
        ),
        (
            &[0, 1],
            &[-1, 1],
            two(),
            "confusion matrix: predicted class of sample 0 is -1, not one of the 2 classes 0..2",
        ),
    ];
    for (actual, predicted, classes, message) in cases {
        let err = ConfusionMatrix::from_indices(actual, predicted, classes).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}

#[test]
#[should_panic(expected = "no cell (2, 0) among 2 classes")]
fn a_cell_outside_the_matrix_panics_naming_it() {
    let m = ConfusionMatrix::from_indices(&[0], &[1], names(&["a", "b"])).unwrap();
    m.count(2, 0);
}

#[test]
fn regression_scores_match_scikit_learn() {
    let r = RegressionReport::from_values(&sk::R_TRUE, &sk::R_PRED, names(&["a", "b"])).unwrap();
    assert_eq!(r.samples, 5);
    let scores: Vec<_> = r.targets.iter().map(|(_, s)| *s).chain([r.mean]).collect();
    for (i, s) in scores.iter().enumerate() {
        assert!(
            close(s.mse, sk::R_MSE[i]),
            "mse {i}: {} vs {}",
            s.mse,
            sk::R_MSE[i]
        );
        assert!(
            close(s.mae, sk::R_MAE[i]),
            "mae {i}: {} vs {}",
            s.mae,
            sk::R_MAE[i]
        );
        assert!(
            close(s.r2, sk::R_R2[i]),
            "r2 {i}: {} vs {}",
            s.r2,
            sk::R_R2[i]
        );
    }
    let table = r.to_string();
    assert_eq!(table.lines().count(), 5, "{table}");
    assert!(
        table.starts_with("target") && table.contains("\nmean ") && table.ends_with("5 samples")
    );
}

#[test]
fn a_constant_target_predicted_exactly_has_r2_one() {
    let r = RegressionReport::from_values(&[2.0, 2.0], &[2.0, 2.0], names(&["y"])).unwrap();
    assert_eq!((r.mean.mse, r.mean.r2), (0.0, 1.0));
}

#[test]
fn bad_regression_input_is_refused_with_one_line() {
    let cases: [(&[f64], &[f64], usize, &str); 3] = [
        (&[1.0], &[1.0], 0, "regression report: no targets"),
        (
            &[1.0, 2.0, 3.0],
            &[1.0, 2.0, 3.0],
            2,
            "regression report: 3 true values and 3 predictions are not the same positive number of rows of 2 targets",
        ),
        (
            &[],
            &[],
            1,
            "regression report: 0 true values and 0 predictions are not the same positive number of rows of 1 targets",
        ),
    ];
    for (actual, predicted, k, message) in cases {
        let targets = (0..k).map(|j| format!("t{j}")).collect();
        let err = RegressionReport::from_values(actual, predicted, targets).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn top_k_orders_by_value_then_index_with_nan_last() {
    use nabla_nn::report::top_k;
    let row = [0.2, f64::NAN, 0.3, 0.2, 0.3];
    let top = top_k(&row, 5);
    assert_eq!(top.iter().map(|p| p.0).collect::<Vec<_>>(), [2, 4, 0, 3, 1]);
    assert_eq!(top_k(&row, 2), vec![(2, 0.3), (4, 0.3)]);
    assert_eq!(top_k(&row, 9).len(), 5);
    assert!(top_k(&[], 3).is_empty());
}
