//! Agreement with PyTorch on random expressions: `tests/data/random_expressions.json` holds
//! 300 expressions in the expression language with random points, and their float64 value,
//! gradient and Hessian computed by PyTorch from the same text (written by
//! `tools/pytorch_reference/random_expressions.py`, which PyTorch evaluates with Python's own
//! operator precedence). nabla parses each one and must agree in value and gradient by reverse
//! and forward mode to 1e-9 relative, and in the Hessian, forward over reverse and reverse over
//! reverse, to 1e-8 (relative, or absolute below magnitude 1).

use nabla_inspect::expr::{self, Mode};
use serde_json::Value;

const DATA: &str = include_str!("data/random_expressions.json");

/// The largest error seen: `|a − b|` relative to the larger magnitude, or to `floor` if that
/// is larger.
struct Worst {
    floor: f64,
    error: f64,
    what: String,
}

impl Worst {
    fn new(floor: f64) -> Worst {
        Worst {
            floor,
            error: 0.0,
            what: String::new(),
        }
    }

    fn see(&mut self, got: f64, want: f64, what: impl FnOnce() -> String) {
        let e = (got - want).abs() / got.abs().max(want.abs()).max(self.floor);
        // A NaN error counts as the worst.
        if e > self.error || e.is_nan() {
            self.error = e;
            self.what = format!("{} (nabla {got}, PyTorch {want})", what());
        }
    }
}

#[test]
fn values_gradients_and_hessians_agree_with_pytorch() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 300);
    // Values and gradients: purely relative. Hessians: some entries are zero analytically but
    // come out as ±1e-16 from rounding, so below magnitude 1 the error is absolute.
    let mut first = Worst::new(f64::MIN_POSITIVE);
    let mut second = Worst::new(1.0);
    for case in cases {
        let source = case["expr"].as_str().unwrap();
        let e = expr::parse(source).unwrap_or_else(|err| panic!("{source}: {err}"));
        let at: Vec<(&str, f64)> = case["at"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_f64().unwrap()))
            .collect();
        let mut names: Vec<&str> = e.variables().iter().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            at.iter().map(|p| p.0).collect::<Vec<_>>(),
            "{source}"
        );
        let values = expr::bind(&e, &at).unwrap();
        for mode in [Mode::Reverse, Mode::Forward] {
            let result = expr::gradient(&e, &values, mode).unwrap();
            first.see(result.value, case["value"].as_f64().unwrap(), || {
                format!("value of {source}")
            });
            for (name, g) in e.variables().iter().zip(&result.gradient) {
                first.see(*g, case["grad"][name].as_f64().unwrap(), || {
                    format!("∂/∂{name} of {source} ({mode:?})")
                });
            }
            let hessian = expr::hessian(&e, &values, mode).unwrap();
            for (u, row) in e.variables().iter().zip(&hessian) {
                for (v, h) in e.variables().iter().zip(row) {
                    second.see(*h, case["hessian"][u][v].as_f64().unwrap(), || {
                        format!("∂²/∂{u}∂{v} of {source} ({mode:?})")
                    });
                }
            }
        }
    }
    println!(
        "worst first-order error {:e}: {}\nworst second-order error {:e}: {}",
        first.error, first.what, second.error, second.what
    );
    assert!(first.error <= 1e-9, "{}", first.what);
    assert!(second.error <= 1e-8, "{}", second.what);
}
