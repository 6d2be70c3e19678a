//! The expression language of `nabla grad` on arbitrary text: parse, bind, gradient in both
//! modes, Hessian in both modes, the chain-rule explanation and the graph as SVG and DOT.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nabla_inspect::GraphOptions;
use nabla_inspect::expr::{self, Mode};

/// Values the variables take, in turn: ordinary, zero, negative, large.
const VALUES: [f64; 5] = [0.5, -1.25, 2.0, 0.0, 1e3];
/// The Hessian takes one pass per variable over a graph of every node: kept small.
const HESSIAN_VARIABLES: usize = 6;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = expr::parse(source) else {
        return;
    };
    let names: Vec<String> = e.variables().to_vec();
    let at: Vec<(&str, f64)> = names
        .iter()
        .zip(VALUES.iter().cycle())
        .map(|(n, v)| (n.as_str(), *v))
        .collect();
    let values = expr::bind(&e, &at).expect("every variable is bound");
    let reverse = expr::gradient(&e, &values, Mode::Reverse);
    let forward = expr::gradient(&e, &values, Mode::Forward);
    assert_eq!(reverse.is_ok(), forward.is_ok());
    if names.len() <= HESSIAN_VARIABLES {
        let _ = expr::hessian(&e, &values, Mode::Forward);
        let _ = expr::hessian(&e, &values, Mode::Reverse);
    }
    if let Ok(recording) = expr::record(&e, &values) {
        let _ = recording.explain();
        let graph = recording.graph(GraphOptions::default());
        let _ = graph.to_svg();
        let _ = graph.to_dot();
    }
});
