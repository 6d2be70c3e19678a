//! Long and deep expressions: a flat run of `+` or `*` is one nesting level however long, and
//! parsing, evaluating, backward, the Hessian, the explanation and the graph of a 10,000-term
//! chain finish on a test thread's stack (2 MiB) without overflowing it.

use nabla_inspect::GraphOptions;
use nabla_inspect::expr::{self, Mode};

/// Runs `f` on a thread with `bytes` of stack, as a test thread has by default.
fn on_small_stack(bytes: usize, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(bytes)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_flat_sum_of_202_terms_is_not_too_deep() {
    let sum = vec!["x"; 202].join("+");
    let e = expr::parse(&sum).unwrap();
    let result = expr::gradient(&e, &[1.5], Mode::Reverse).unwrap();
    assert_eq!((result.value, result.gradient), (303.0, vec![202.0]));
    let product = vec!["x"; 202].join("*");
    let e = expr::parse(&product).unwrap();
    let result = expr::gradient(&e, &[1.0], Mode::Forward).unwrap();
    assert_eq!((result.value, result.gradient), (1.0, vec![202.0]));
}

#[test]
fn ten_thousand_terms_evaluate_and_differentiate_on_a_small_stack() {
    on_small_stack(2 << 20, || {
        let source = vec!["x"; 10_000].join(" + ") + " - y/2";
        let e = expr::parse(&source).unwrap();
        assert_eq!(e.variables(), ["x", "y"]);
        let slope = 10_000.0;
        let recording = expr::record(&e, &[2.0, 4.0]).unwrap();
        let evaluation = recording.evaluation();
        assert_eq!(evaluation.value, slope * 2.0 - 2.0);
        assert_eq!(evaluation.gradient, vec![slope, -0.5]);
        let forward = expr::gradient(&e, &[2.0, 4.0], Mode::Forward).unwrap();
        assert_eq!(forward.gradient, evaluation.gradient);
        for mode in [Mode::Forward, Mode::Reverse] {
            assert_eq!(
                expr::hessian(&e, &[2.0, 4.0], mode).unwrap(),
                vec![vec![0.0, 0.0], vec![0.0, 0.0]]
            );
        }
        let explanation = recording.explain().unwrap();
        assert!(explanation.contains("∂L/∂x"));
        let graph = recording.graph(GraphOptions::default());
        assert!(graph.to_svg().starts_with("<svg"));
        assert!(graph.to_dot().starts_with("digraph"));
    });
}

#[test]
fn real_nesting_is_still_bounded() {
    let too_deep = [
        format!("{}x{}", "(".repeat(201), ")".repeat(201)),
        format!("{}x{}", "exp(".repeat(201), ")".repeat(201)),
        format!("{}x", "-".repeat(201)),
        vec!["x"; 202].join("^"),
    ];
    for source in too_deep {
        let message = expr::parse(&source).unwrap_err().to_string();
        assert!(
            message.contains("the expression nests deeper than 200 levels"),
            "{message}"
        );
    }
    assert!(expr::parse(&format!("{}x{}", "(".repeat(150), ")".repeat(150))).is_ok());
}

#[test]
fn a_megabyte_bad_expression_gets_a_short_message() {
    let half = vec!["x"; 250_000].join("+");
    let source = format!("{half} + 1e + {half}");
    let message = expr::parse(&source).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "syntax error at column 500003: malformed number `1e`: the exponent needs digits\n  \
             …{}…\n  {}^",
            &source[499_972..500_032],
            " ".repeat(31)
        )
    );
    let name = "v".repeat(1 << 20);
    let message = expr::parse(&format!("{name}(x)")).unwrap_err().to_string();
    assert!(message.len() < 400, "{} bytes", message.len());
    assert!(message.contains(&format!("unknown function `{}…`", "v".repeat(40))));
    let e = expr::parse("x").unwrap();
    let message = expr::bind(&e, &[("x", 1.0), (&name, 2.0)])
        .unwrap_err()
        .to_string();
    assert!(message.len() < 200, "{} bytes", message.len());
}

#[cfg(target_os = "linux")]
#[test]
fn a_hessian_larger_than_the_machine_is_refused_before_it_is_computed() {
    // 2^17 distinct variables: a Hessian of 2^34 entries, 412 GB.
    let names: Vec<String> = (0..1 << 17).map(|i| format!("v{i}")).collect();
    let e = expr::parse(&names.join("+")).unwrap();
    let values = vec![1.0; names.len()];
    let message = expr::hessian(&e, &values, Mode::Forward)
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with(
            "hessian: the Hessian of 131072 variables would need 412.3 GB; this machine has "
        ),
        "{message}"
    );
}
