//! The cost argument for the two modes of automatic differentiation, measured:
//! for f: Rⁿ → R the gradient costs one reverse pass whatever n, but n forward passes; for
//! g: R → Rᵐ the Jacobian costs one forward pass whatever m, but m reverse passes.
//!
//! `cargo bench -p nabla-core --bench autodiff_modes` prints a table and JSON and writes
//! `docs/autodiff_modes.svg`.

use nabla_core::{DType, JacobianMode, Tensor, jacobian};
use plotters::prelude::*;
use std::time::Instant;

const SIZES: [usize; 4] = [10, 100, 1000, 10_000];

/// Best wall time of `f` over three runs, in seconds.
fn time(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Rⁿ → R: a scalar loss of a vector.
fn many_to_one(x: &Tensor) -> Tensor {
    (x.sin() * x).sum()
}

/// R → Rᵐ: a curve sampled at m frequencies.
fn one_to_many(t: &Tensor, m: usize) -> Tensor {
    (t * &Tensor::arange(0.0f64, m as f64, 1.0)).sin()
}

struct Row {
    size: usize,
    reverse: f64,
    forward: f64,
}

fn measure(f: impl Fn(usize, JacobianMode) -> Tensor) -> Vec<Row> {
    SIZES
        .iter()
        .map(|&size| Row {
            size,
            reverse: time(|| {
                f(size, JacobianMode::Reverse);
            }),
            forward: time(|| {
                f(size, JacobianMode::Forward);
            }),
        })
        .collect()
}

fn plot(path: &str, gradient: &[Row], jacobian: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(450);
    for (area, rows, title) in [
        (left, gradient, "gradient of f: R^n -> R"),
        (right, jacobian, "Jacobian of g: R -> R^m"),
    ] {
        let all: Vec<f64> = rows.iter().flat_map(|r| [r.reverse, r.forward]).collect();
        let (lo, hi) = all
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (5f64..20_000f64).log_scale(),
                (lo / 2.0..hi * 2.0).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("n (inputs) or m (outputs)")
            .y_desc("seconds")
            .draw()?;
        for (mode, color, pick) in [
            (
                "reverse mode",
                &BLUE,
                (|r: &Row| r.reverse) as fn(&Row) -> f64,
            ),
            ("forward mode", &RED, |r: &Row| r.forward),
        ] {
            let points: Vec<(f64, f64)> = rows.iter().map(|r| (r.size as f64, pick(r))).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(mode)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() {
    let gradient = measure(|n, mode| {
        jacobian(
            many_to_one,
            &Tensor::linspace(-1.0, 1.0, n, DType::F64),
            mode,
        )
        .unwrap()
    });
    let jacobian_rows = measure(|m, mode| {
        jacobian(
            |t| one_to_many(t, m),
            &Tensor::from_vec(vec![0.3f64], &[1]),
            mode,
        )
        .unwrap()
    });
    println!(
        "{:>8} {:>14} {:>14}   {:>14} {:>14}",
        "size", "grad reverse", "grad forward", "jac reverse", "jac forward"
    );
    for (g, j) in gradient.iter().zip(&jacobian_rows) {
        println!(
            "{:>8} {:>12.3}ms {:>12.3}ms   {:>12.3}ms {:>12.3}ms",
            g.size,
            g.reverse * 1e3,
            g.forward * 1e3,
            j.reverse * 1e3,
            j.forward * 1e3
        );
    }
    let json = |rows: &[Row]| {
        rows.iter()
            .map(|r| serde_json::json!({"size": r.size, "reverse_seconds": r.reverse, "forward_seconds": r.forward}))
            .collect::<Vec<_>>()
    };
    println!(
        "{}",
        serde_json::json!({"gradient_rn_to_r": json(&gradient), "jacobian_r_to_rm": json(&jacobian_rows)})
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/autodiff_modes.svg");
    plot(path, &gradient, &jacobian_rows).expect("plot written");
    println!("plot: docs/autodiff_modes.svg");
}
