//! `nabla grad` end to end: the textbook outputs, the JSON shape, Hessians against closed
//! forms, forward mode against reverse mode, the graph files, and one-line errors for bad
//! expressions and bindings.

use serde_json::Value;
use std::process::{Command, Output};

fn nabla(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nabla"))
        .arg("grad")
        .args(args)
        .output()
        .expect("the nabla binary runs")
}

fn stdout(args: &[&str]) -> String {
    let out = nabla(args);
    assert!(
        out.status.success(),
        "nabla grad {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&stdout(&all)).expect("one JSON object")
}

/// stderr of a run that must fail with exit status 1 and print nothing on stdout.
fn failure(args: &[&str]) -> String {
    let out = nabla(args);
    assert_eq!(out.status.code(), Some(1), "nabla grad {args:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn textbook_loss_gradient_as_json() {
    let out = stdout(&["(w*x+b-5)^2", "--at", "x=2,w=3,b=1", "--json"]);
    assert_eq!(
        out,
        "{\"value\": 4, \"grad\": {\"w\": 8, \"x\": 12, \"b\": 4}}\n"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"], 4.0);
    assert_eq!(
        (
            v["grad"]["x"].as_f64(),
            v["grad"]["w"].as_f64(),
            v["grad"]["b"].as_f64()
        ),
        (Some(12.0), Some(8.0), Some(4.0))
    );
}

#[test]
fn apple_example_prints_the_textbook_gradients() {
    let out = stdout(&["apple*count*tax", "--at", "apple=100,count=2,tax=1.1"]);
    // 100·2·1.1 and 1.1·100 are not exact in binary: printed to the last bit.
    assert_eq!(
        out,
        "f = apple*count*tax
  at apple = 100, count = 2, tax = 1.1
f         = 220.00000000000003
∂f/∂apple = 2.2
∂f/∂count = 110.00000000000001
∂f/∂tax   = 200
(gradient by reverse mode: one backward pass)
"
    );
    let v = json(&["apple*count*tax", "--at", "apple=100,count=2,tax=1.1"]);
    assert!(close(v["value"].as_f64().unwrap(), 220.0, 1e-15));
    assert!(close(v["grad"]["apple"].as_f64().unwrap(), 2.2, 1e-15));
    assert!(close(v["grad"]["count"].as_f64().unwrap(), 110.0, 1e-15));
    assert!(close(v["grad"]["tax"].as_f64().unwrap(), 200.0, 1e-15));
}

#[test]
fn explain_prints_every_node_of_the_apple_example() {
    let out = stdout(&[
        "apple*count*tax",
        "--at",
        "apple=100,count=2,tax=1.1",
        "--explain",
    ]);
    let explanation = out.split_once("one backward pass)\n\n").unwrap().1;
    assert_eq!(
        explanation,
        "Backward pass of L = apple*count*tax = 220, node by node (∂L/∂v: the gradient of L with respect to v):

[1] ×: apple*count*tax = 220
    upstream gradient: 1 (∂L/∂L)
    to apple*count (= 200): local ∂(apple*count*tax)/∂(apple*count) = tax = 1.1; 1.1 × 1 = 1.1
    to tax (= 1.1): local ∂(apple*count*tax)/∂tax = apple*count = 200; 200 × 1 = 200

[2] tax: ∂L/∂tax = 200

[3] ×: apple*count = 200
    upstream gradient: 1.1
    to apple (= 100): local ∂(apple*count)/∂apple = count = 2; 2 × 1.1 = 2.2
    to count (= 2): local ∂(apple*count)/∂count = apple = 100; 100 × 1.1 = 110

[4] apple: ∂L/∂apple = 2.2

[5] count: ∂L/∂count = 110
"
    );
}

#[test]
fn explain_names_operations_by_their_source_text() {
    let out = stdout(&["(w*x+b-5)^2", "--at", "x=2,w=3,b=1", "--explain"]);
    for line in [
        "[1] ^2: (w*x+b-5)^2 = 4",
        "    to w*x+b-5 (= 2): local ∂((w*x+b-5)^2)/∂(w*x+b-5) = 2·(w*x+b-5)¹ = 2·2¹ = 4; 4 × 1 = 4",
        "    to 5: no gradient (constant)",
        "    to b (= 1): local ∂(w*x+b)/∂b = 1; 1 × 4 = 4",
        "    to x (= 2): local ∂(w*x)/∂x = w = 3; 3 × 4 = 12",
        "[7] x: ∂L/∂x = 12",
    ] {
        assert!(out.contains(line), "{line}\n---\n{out}");
    }
}

#[test]
fn order_two_gives_the_hessian_against_closed_forms() {
    let (x, y) = (1.5f64, -0.5f64);
    let (s, c) = ((x * y).sin(), (x * y).cos());
    // f = x²y + sin(xy)
    let want = [
        ("x", "x", 2.0 * y - y * y * s),
        ("x", "y", 2.0 * x + c - x * y * s),
        ("y", "x", 2.0 * x + c - x * y * s),
        ("y", "y", -x * x * s),
    ];
    for mode in ["reverse", "forward"] {
        let v = json(&[
            "x^2*y + sin(x*y)",
            "--at",
            "x=1.5,y=-0.5",
            "--order",
            "2",
            "--mode",
            mode,
        ]);
        assert!(close(
            v["grad"]["x"].as_f64().unwrap(),
            2.0 * x * y + y * c,
            1e-14
        ));
        assert!(close(
            v["grad"]["y"].as_f64().unwrap(),
            x * x + x * c,
            1e-14
        ));
        for (u, w, h) in want {
            let got = v["hessian"][u][w].as_f64().unwrap();
            assert!(close(got, h, 1e-14), "{mode} ∂²f/∂{u}∂{w}: {got} vs {h}");
        }
    }
    let text = stdout(&["x^2*y + sin(x*y)", "--at", "x=1.5,y=-0.5", "--order", "2"]);
    assert!(
        text.contains("\nHessian ∂²f/∂u∂v (reverse over reverse):\n"),
        "{text}"
    );
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Hessian"))
        .skip(1)
        .collect();
    assert_eq!(table.len(), 3);
    assert_eq!(table[0].split_whitespace().collect::<Vec<_>>(), ["x", "y"]);
    assert!(table[1].trim_start().starts_with("x "));
}

#[test]
fn forward_mode_agrees_with_reverse_mode() {
    for (expression, at) in [
        ("(w*x+b-5)^2", "x=2,w=3,b=1"),
        ("apple*count*tax", "apple=100,count=2,tax=1.1"),
        (
            "sigmoid(a*b) + max(a, b)^b - log(abs(a) + 1)/sqrt(b)",
            "a=-0.7,b=1.3",
        ),
        ("tanh(x)^x + relu(x - 1)*cos(x) - min(x, 2)", "x=1.25"),
    ] {
        let reverse = json(&[expression, "--at", at]);
        let forward = json(&[expression, "--at", at, "--mode", "forward"]);
        assert_eq!(reverse["value"], forward["value"], "{expression}");
        for (name, g) in reverse["grad"].as_object().unwrap() {
            let f = forward["grad"][name].as_f64().unwrap();
            assert!(
                close(g.as_f64().unwrap(), f, 1e-14),
                "{expression} ∂/∂{name}"
            );
        }
    }
    let text = stdout(&["x*x", "--at", "x=3", "--mode", "forward"]);
    assert!(
        text.ends_with("∂f/∂x = 6\n(gradient by forward mode: one JVP per variable)\n"),
        "{text}"
    );
}

#[test]
fn graph_files_hold_values_and_gradients() {
    let dir = std::env::temp_dir().join(format!("nabla-grad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (dot, svg) = (dir.join("apple.dot"), dir.join("apple.svg"));
    let out = nabla(&[
        "apple*count*tax",
        "--at",
        "apple=100,count=2,tax=1.1",
        "--dot",
        dot.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!("wrote {}\nwrote {}\n", dot.display(), svg.display())
    );
    let dot = std::fs::read_to_string(&dot).unwrap();
    assert!(
        dot.contains("label=\"[4] apple\\n= 100\\ngrad 2.2\""),
        "{dot}"
    );
    assert!(dot.contains("label=\"[1] ×\\n= 220\\ngrad 1\""), "{dot}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    for label in [
        ">[4] apple<",
        ">[5] count<",
        ">[2] tax<",
        ">[3] ×<",
        ">= 220<",
        ">grad 110<",
        ">grad 2.2<",
    ] {
        assert!(svg.contains(label), "{label}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rankdir_lr_draws_left_to_right_and_other_values_are_refused() {
    let dir = std::env::temp_dir().join(format!("nabla-grad-lr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (dot, svg) = (dir.join("fan.dot"), dir.join("fan.svg"));
    let out = nabla(&[
        "x*x + sin(x)",
        "--at",
        "x=2",
        "--rankdir",
        "LR",
        "--dot",
        dot.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(&dot)
            .unwrap()
            .contains("  rankdir=LR;\n")
    );
    // Left to right: x (the source) left of sin, sin left of the output +.
    let svg = std::fs::read_to_string(&svg).unwrap();
    let x_of = |title: &str| {
        let at = svg.find(&format!(">{title}</text>")).unwrap();
        let opening = &svg[svg[..at].rfind("<text").unwrap()..at];
        let x = opening
            .split("x=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        x.parse::<f64>().unwrap()
    };
    assert!(x_of("[4] x") < x_of("[2] sin") && x_of("[2] sin") < x_of("[1] +"));
    std::fs::remove_dir_all(&dir).unwrap();
    let refused = nabla(&["x", "--at", "x=1", "--rankdir", "up"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        stderr.starts_with("error: invalid value 'up' for '--rankdir <RANKDIR>'"),
        "{stderr}"
    );
    assert!(stderr.contains("[possible values: TB, LR]"), "{stderr}");
}

#[test]
fn leading_minus_and_constant_expressions() {
    assert_eq!(
        stdout(&["-x^2", "--at", "x=3", "--json"]),
        "{\"value\": -9, \"grad\": {\"x\": -6}}\n"
    );
    assert_eq!(
        stdout(&["2^10", "--json"]),
        "{\"value\": 1024, \"grad\": {}}\n"
    );
    assert_eq!(stdout(&["2^10"]), "f = 2^10\nf = 1024\n");
}

#[test]
fn a_value_for_a_variable_the_expression_does_not_use_is_an_error() {
    assert_eq!(
        failure(&["x", "--at", "x=1,y=2"]),
        "error: --at: `y` is given a value but x does not use it (its variables: x)\n"
    );
    assert_eq!(
        failure(&["2^10", "--at", "w=1"]),
        "error: --at: `w` is given a value but 2^10 does not use it (its variables: none)\n"
    );
}

#[test]
fn json_writes_infinities_and_nan_as_distinct_strings() {
    let v = json(&["log(x)", "--at", "x=0"]);
    assert_eq!(
        (v["value"].as_str(), v["grad"]["x"].as_str()),
        (Some("-inf"), Some("inf"))
    );
    let v = json(&["sqrt(x)", "--at", "x=-1"]);
    assert_eq!(
        (v["value"].as_str(), v["grad"]["x"].as_str()),
        (Some("nan"), Some("nan"))
    );
}

#[test]
fn a_flat_sum_of_202_terms_is_accepted_and_deep_nesting_refused() {
    let sum = vec!["x"; 202].join("+");
    assert_eq!(
        stdout(&[&sum, "--at", "x=0.5", "--json"]),
        "{\"value\": 101, \"grad\": {\"x\": 202}}\n"
    );
    let product = vec!["x"; 10_000].join("*");
    assert_eq!(
        stdout(&[&product, "--at", "x=1", "--json"]),
        "{\"value\": 1, \"grad\": {\"x\": 10000}}\n"
    );
    let deep = format!("{}x{}", "(".repeat(201), ")".repeat(201));
    let error = failure(&[&deep, "--at", "x=1"]);
    assert!(
        error.starts_with(
            "error: syntax error at column 201: the expression nests deeper than 200 levels\n"
        ),
        "{error}"
    );
}

#[test]
fn a_long_bad_expression_echoes_a_bounded_excerpt() {
    // 100 kB (a command-line argument holds at most 128 kB on Linux).
    let long = format!(
        "{} + $ + {}",
        vec!["x"; 25_000].join("+"),
        vec!["x"; 25_000].join("+")
    );
    let error = failure(&[&long, "--at", "x=1"]);
    assert_eq!(error.lines().count(), 3, "{error}");
    assert!(error.len() < 300, "{} bytes: {error}", error.len());
    assert!(
        error.starts_with("error: syntax error at column 50003: unexpected character `$`\n  …"),
        "{error}"
    );
    assert!(error.contains("+x + $ + x+"), "{error}");
    let name = "a".repeat(100_000);
    let error = failure(&["x", "--at", &format!("x=1,{name}=2")]);
    assert!(error.len() < 300, "{} bytes: {error}", error.len());
}

#[test]
fn syntax_errors_point_at_the_column() {
    assert_eq!(
        failure(&["(w*x+", "--at", "x=1"]),
        "error: syntax error at column 6: expected a number, a variable, a function call or `(`, found the end of the expression\n  (w*x+\n       ^\n"
    );
    assert_eq!(
        failure(&["2*foo(x)", "--at", "x=1"]),
        "error: syntax error at column 3: unknown function `foo`; the functions are exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, max, min\n  2*foo(x)\n    ^\n"
    );
    assert_eq!(
        failure(&["x y"]),
        "error: syntax error at column 3: unexpected `y` after a complete expression (is an operator missing?)\n  x y\n    ^\n"
    );
}

#[test]
fn bad_bindings_are_one_line_errors() {
    assert_eq!(
        failure(&["x*y", "--at", "x=1"]),
        "error: no value for the variable `y`: add y=VALUE to --at\n"
    );
    assert_eq!(
        failure(&["x", "--at", "x=one"]),
        "error: --at: the value of x, `one`, is not a number\n"
    );
    assert_eq!(
        failure(&["x", "--at", "x"]),
        "error: --at: `x` is not NAME=VALUE\n"
    );
}

/// NaN in, NaN out, as in PyTorch: relu and max give NaN at NaN, and their derivative there is
/// PyTorch's, 1 (relu's gradient is stopped only where x ≤ 0; max sends it to both operands).
#[test]
fn nan_propagates_through_relu_and_max() {
    for mode in ["reverse", "forward"] {
        for expression in ["relu(x)", "max(x, 0)", "min(0, x)"] {
            let out = stdout(&[expression, "--at", "x=nan", "--mode", mode]);
            assert!(
                out.contains("f     = NaN\n∂f/∂x = 1\n"),
                "{expression}: {out}"
            );
        }
    }
}
