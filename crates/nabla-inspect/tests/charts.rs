//! The charts read as a learner expects, checked on the SVG itself: whole-number epoch ticks,
//! powers of ten on log axes, percentages for accuracy, legends beside the plot (never over a
//! line), and a failed run drawn with its note.

use nabla_inspect::diagnostics::{Failure, Panel, Series, line_chart_svg};
use std::collections::BTreeMap;

/// A text of the SVG: its position and content.
struct Label {
    x: f64,
    y: f64,
    text: String,
}

fn labels(svg: &str) -> Vec<Label> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| Label {
            x: n.attribute("x").unwrap().parse().unwrap(),
            y: n.attribute("y").unwrap().parse().unwrap(),
            text: n.text().unwrap_or("").trim().to_string(),
        })
        .collect()
}

/// Whether `text` is a tick label: a number, a percentage or a power of ten.
fn is_tick(text: &str) -> bool {
    let t = text.trim_end_matches('%');
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || "-.×⁻⁰¹²³⁴⁵⁶⁷⁸⁹".contains(c))
}

/// The tick labels of the x axis (the row of tick labels sharing the lowest position) and of
/// the y axis (the column sharing one x), left to right and top to bottom.
fn axes(svg: &str) -> (Vec<String>, Vec<String>) {
    let ticks: Vec<Label> = labels(svg)
        .into_iter()
        .filter(|l| is_tick(&l.text))
        .collect();
    let mut rows: BTreeMap<i64, Vec<&Label>> = BTreeMap::new();
    let mut columns: BTreeMap<i64, Vec<&Label>> = BTreeMap::new();
    for l in &ticks {
        rows.entry(l.y.round() as i64).or_default().push(l);
        columns.entry(l.x.round() as i64).or_default().push(l);
    }
    let mut x_axis = rows
        .into_values()
        .rev()
        .find(|r| r.len() >= 2)
        .unwrap_or_default();
    x_axis.sort_by(|a, b| a.x.total_cmp(&b.x));
    let mut y_axis = columns
        .into_values()
        .max_by_key(Vec::len)
        .unwrap_or_default();
    y_axis.sort_by(|a, b| a.y.total_cmp(&b.y));
    let text = |v: Vec<&Label>| v.into_iter().map(|l| l.text.clone()).collect();
    (text(x_axis), text(y_axis))
}

fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
        ..Series::default()
    }
}

fn panel(series: Vec<Series>) -> Panel {
    Panel {
        title: "t".into(),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series,
        ..Panel::default()
    }
}

#[test]
fn epoch_axes_tick_whole_numbers_only() {
    for epochs in [2, 3, 7, 10, 50] {
        let points = (1..=epochs).map(|e| (e as f64, 1.0 / e as f64)).collect();
        let svg = line_chart_svg("run", &[panel(vec![line("train", points)])]).unwrap();
        let (x, _) = axes(&svg);
        assert!(x.len() >= 2, "{epochs} epochs: {x:?}");
        assert!(
            x.iter().all(|t| t.parse::<u64>().is_ok()),
            "{epochs} epochs: {x:?}"
        );
        assert!(x.contains(&epochs.to_string()) || epochs > 10, "{x:?}");
    }
}

#[test]
fn log_axes_tick_powers_of_ten() {
    let points = (1..=300)
        .map(|s| (s as f64, 10f64.powf(-7.0 + 7.0 * s as f64 / 300.0)))
        .collect();
    let mut p = panel(vec![line("layer 0 (Linear)", points)]);
    p.log_y = true;
    let (_, y) = axes(&line_chart_svg("norms", &[p]).unwrap());
    assert!(y.len() >= 5, "{y:?}");
    for t in &y {
        let exponent = t
            .strip_prefix("10")
            .unwrap_or_else(|| panic!("{t} in {y:?}"));
        assert!(
            !exponent.is_empty() && exponent.chars().all(|c| "⁻⁰¹²³⁴⁵⁶⁷⁸⁹".contains(c)),
            "{t} in {y:?}"
        );
    }
    assert!(y.contains(&"10⁻³".to_string()), "{y:?}");
}

#[test]
fn accuracy_is_drawn_in_percent() {
    let mut p = panel(vec![line(
        "test",
        vec![(1.0, 0.9547), (2.0, 0.9716), (3.0, 0.9829)],
    )]);
    p.percent = true;
    let (_, y) = axes(&line_chart_svg("accuracy", &[p]).unwrap());
    assert!(y.len() >= 3, "{y:?}");
    assert!(
        y.iter()
            .all(|t| t.ends_with('%') && t.trim_end_matches('%').parse::<f64>().unwrap() > 90.0),
        "{y:?}"
    );
}

#[test]
fn legends_stand_beside_the_plot() {
    let rising = (1..=10).map(|e| (e as f64, e as f64)).collect();
    let flat = (1..=10).map(|e| (e as f64, 10.0)).collect();
    let svg = line_chart_svg(
        "runs",
        &[panel(vec![
            line("rising run", rising),
            line("flat run", flat),
        ])],
    )
    .unwrap();
    let (x, _) = axes(&svg);
    let all = labels(&svg);
    let right_edge = all
        .iter()
        .filter(|l| x.contains(&l.text) && is_tick(&l.text))
        .map(|l| l.x)
        .fold(0.0, f64::max);
    for name in ["rising run", "flat run"] {
        let entry = all.iter().find(|l| l.text == name).unwrap();
        assert!(
            entry.x > right_edge + 10.0,
            "{name} at {} over the plot",
            entry.x
        );
    }
}

#[test]
fn a_failed_run_is_marked_with_its_note_even_without_a_point() {
    let failed = Series {
        name: "lr=10".into(),
        failure: Some(Failure {
            x: 1.0,
            note: "the loss became NaN at epoch 1, step 4".into(),
        }),
        ..Series::default()
    };
    let mut early = line("lr=1", vec![(1.0, 2.0), (2.0, 1.5)]);
    early.failure = Some(Failure {
        x: 3.0,
        note: "the loss became inf at epoch 3, step 1".into(),
    });
    let svg = line_chart_svg(
        "runs",
        &[panel(vec![
            line("lr=0.1", vec![(1.0, 2.0), (3.0, 1.0)]),
            failed,
            early,
        ])],
    )
    .unwrap();
    let texts: Vec<String> = labels(&svg).into_iter().map(|l| l.text).collect();
    assert!(texts.contains(&"lr=10".to_string()), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("failed: the loss became NaN")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("failed: the loss became inf")),
        "{texts:?}"
    );
    let (x, _) = axes(&svg);
    assert_eq!(x.last().map(String::as_str), Some("3"), "{x:?}");
}
