//! The chain rule, printed node by node in the order backward ran: for each operation the
//! upstream gradient (the sum of what its consumers sent, written out where it fans out), each
//! input's local derivative from the operation's rule, and their product sent to that input;
//! for each leaf, what reached it.

use crate::error::{Error, Result};
use crate::format::{compact, op_label};
use crate::trace::{Input, Trace, key};
use nabla_core::{Node, Tensor};
use std::collections::HashMap;
use std::fmt::Write;

/// Descriptions longer than this are cut.
const MAX_DESCRIPTION: usize = 60;
/// Operands nested deeper than this are written as `…`.
const MAX_DEPTH: usize = 8;

/// Explains the backward pass a trace recorded through a scalar graph.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::{Trace, explain};
/// let x = Tensor::scalar(3.0f64).requires_grad();
/// let y = Tensor::scalar(4.0f64).requires_grad();
/// let (_, trace) = Trace::new().with_name(&x, "x").with_name(&y, "y").record(|| {
///     (&x * &y).backward()
/// });
/// let text = explain(&trace).unwrap();
/// assert!(text.contains("to x (= 3): local ∂(a*b)/∂a = b = 4; 4 × 1 = 4"));
/// assert!(text.contains("y: ∂L/∂y = 3"));
/// ```
pub fn explain(trace: &Trace) -> Result<String> {
    let steps = trace.steps();
    let Some(first) = steps.first() else {
        return Err(Error::NoBackward);
    };
    let mut received: HashMap<usize, Vec<(String, f64)>> = HashMap::new();
    let mut out = String::new();
    let root_value = match trace.op(&first.node) {
        Some(record) => scalar(&record.output, &describe(trace, &first.node, 0).0)?,
        None => f64::NAN,
    };
    let _ = writeln!(
        out,
        "Backward pass of L = {} = {}, node by node (∂L/∂v: the gradient of L with respect to v):",
        describe(trace, &first.node, 0).0,
        compact(root_value)
    );
    for (number, step) in steps.iter().enumerate() {
        let upstream = scalar(&step.grad_output, &describe(trace, &step.node, 0).0)?;
        let sum = sum_text(received.remove(&key(&step.node)), upstream);
        out.push('\n');
        if let Some(leaf) = step.node.variable() {
            let name = trace.name_of(leaf).unwrap_or("leaf");
            let _ = writeln!(out, "[{}] {name}: ∂L/∂{name} = {sum}", number + 1);
            continue;
        }
        let (description, _) = describe(trace, &step.node, 0);
        let label = op_label(step.node.name());
        let Some(record) = trace.op(&step.node) else {
            let _ = writeln!(out, "[{}] {label}: upstream gradient {sum}", number + 1);
            continue;
        };
        let _ = writeln!(
            out,
            "[{}] {label}: {description} = {}",
            number + 1,
            compact(scalar(&record.output, &description)?)
        );
        let upstream_note = if number == 0 { " (∂L/∂L)" } else { "" };
        let _ = writeln!(out, "    upstream gradient: {sum}{upstream_note}");
        let inputs = record
            .inputs
            .iter()
            .map(|input| input_value(trace, input))
            .collect::<Result<Vec<f64>>>()?;
        let output = scalar(&record.output, &description)?;
        for (i, input) in record.inputs.iter().enumerate() {
            let (what, _) = describe_input(trace, input, 1);
            let sent = step.grad_inputs.get(i).cloned().flatten();
            let (Input::Node(target), Some(sent)) = (input, sent) else {
                let _ = writeln!(out, "    to {what}: no gradient (constant)");
                continue;
            };
            let sent = scalar(&sent, &what)?;
            let rule = local_rule(step.node.name(), i, &inputs, output);
            let local = rule
                .as_ref()
                .and_then(|r| r.1)
                .or_else(|| (upstream != 0.0).then(|| sent / upstream));
            let formula = rule.map_or_else(|| "grad_in/upstream".to_string(), |r| r.0);
            let local = local.map_or_else(|| "undetermined".to_string(), compact);
            // `∂(a+b)/∂a = 1` needs no `= 1` after it.
            let formula = if formula.ends_with(&format!(" = {local}")) {
                formula
            } else {
                format!("{formula} = {local}")
            };
            let _ = writeln!(
                out,
                "    to {what} (= {}): local {formula}; {local} × {} = {}",
                compact(inputs[i]),
                factor(upstream),
                compact(sent)
            );
            let source = if matches_other(&record.inputs, i) {
                format!("{description}, input {}", i + 1)
            } else {
                description.clone()
            };
            received
                .entry(key(target))
                .or_default()
                .push((source, sent));
        }
    }
    Ok(out)
}

/// Whether input `i` is the same node as another input (`x*x`): contributions then say which.
fn matches_other(inputs: &[Input], i: usize) -> bool {
    let Input::Node(node) = &inputs[i] else {
        return false;
    };
    inputs.iter().enumerate().any(|(j, other)| {
        j != i && matches!(other, Input::Node(n) if std::sync::Arc::ptr_eq(n, node))
    })
}

/// `total`, or the contributions written out as a sum when several consumers sent some.
fn sum_text(contributions: Option<Vec<(String, f64)>>, total: f64) -> String {
    match contributions {
        Some(parts) if parts.len() > 1 => {
            let terms: Vec<String> = parts
                .iter()
                .map(|(from, v)| format!("{} (from {from})", compact(*v)))
                .collect();
            format!("{} = {}", terms.join(" + "), compact(total))
        }
        _ => compact(total),
    }
}

/// A number written as a factor of a product: `(-1)` rather than `-1`.
fn factor(v: f64) -> String {
    if v < 0.0 {
        format!("({})", compact(v))
    } else {
        compact(v)
    }
}

fn scalar(t: &Tensor, what: &str) -> Result<f64> {
    if t.numel() == 1 {
        Ok(t.to_f64_vec()[0])
    } else {
        Err(Error::NotScalar {
            what: what.to_string(),
            shape: t.shape().to_vec(),
        })
    }
}

fn input_value(trace: &Trace, input: &Input) -> Result<f64> {
    let what = describe_input(trace, input, 1).0;
    match input {
        Input::Constant(t) => scalar(t, &what),
        Input::Node(node) => match (node.variable(), trace.op(node)) {
            (Some(leaf), _) => scalar(leaf, &what),
            (None, Some(record)) => scalar(&record.output, &what),
            (None, None) => Ok(f64::NAN),
        },
    }
}

/// Binding strengths of a description's outermost operator, for parentheses: `+ -` 1,
/// `* /` 2, unary minus 3, `^` 4, anything atomic 9.
const ATOM: u8 = 9;
const NEG: u8 = 3;

fn describe_input(trace: &Trace, input: &Input, depth: usize) -> (String, u8) {
    match input {
        Input::Node(node) => describe(trace, node, depth),
        Input::Constant(t) => match trace.name_of(t) {
            Some(name) => (name.to_string(), ATOM),
            None if t.numel() == 1 => (compact(t.to_f64_vec()[0]), ATOM),
            None => ("const".into(), ATOM),
        },
    }
}

/// How a node reads as a formula of its inputs (`apple*count`), with its binding strength.
fn describe(trace: &Trace, node: &Node, depth: usize) -> (String, u8) {
    if let Some(name) = trace.node_name(node) {
        return (cut(name), ATOM);
    }
    if node.variable().is_some() {
        return ("leaf".into(), ATOM);
    }
    let label = op_label(node.name());
    let Some(record) = trace.op(node) else {
        return (label, ATOM);
    };
    if depth > MAX_DEPTH {
        return ("…".into(), ATOM);
    }
    let mut args: Vec<(String, u8)> = record
        .inputs
        .iter()
        .map(|i| describe_input(trace, i, depth + 1))
        .collect();
    // A one-input arithmetic node took a constant that is not recorded as an input: `x+c`.
    if args.len() == 1 && matches!(label.as_str(), "add" | "mul" | "div" | "pow") {
        args.push(("c".into(), ATOM));
    }
    let infix = match (label.as_str(), args.len()) {
        ("add", 2) => Some(("+", 1, false)),
        ("sub", 2) => Some(("-", 1, false)),
        ("mul", 2) => Some(("*", 2, false)),
        ("div", 2) => Some(("/", 2, false)),
        ("pow", 2) => Some(("^", 4, true)),
        _ => None,
    };
    let (text, strength) = match infix {
        Some((op, strength, right_assoc)) => {
            let wrap = |(text, s): &(String, u8), tight: bool| {
                if *s < strength || (tight && *s == strength) {
                    format!("({text})")
                } else {
                    text.clone()
                }
            };
            let left = wrap(&args[0], right_assoc);
            let right = wrap(&args[1], op == "-" || op == "/");
            (format!("{left}{op}{right}"), strength)
        }
        None if label == "neg" && args.len() == 1 => {
            let (inner, s) = &args[0];
            let text = if *s < NEG {
                format!("-({inner})")
            } else {
                format!("-{inner}")
            };
            (text, NEG)
        }
        None => {
            let name = match label.as_str() {
                "maximum" => "max",
                "minimum" => "min",
                other => other,
            };
            let list: Vec<&str> = args.iter().map(|(t, _)| t.as_str()).collect();
            (format!("{name}({})", list.join(", ")), ATOM)
        }
    };
    (cut(&text), strength)
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(MAX_DESCRIPTION - 1).collect();
        short.push('…');
        short
    }
}

/// The textbook local derivative of input `i` of a node, as a formula in `a`, `b` (inputs) or
/// `x` (the only input), with its value at the recorded point when the inputs determine it.
fn local_rule(
    node_name: &str,
    i: usize,
    inputs: &[f64],
    output: f64,
) -> Option<(String, Option<f64>)> {
    let rule = |formula: &str, value: Option<f64>| Some((formula.to_string(), value));
    let (a, b) = (inputs.first().copied()?, inputs.get(1).copied());
    // relu's derivative as PyTorch takes it: 0 where x ≤ 0, 1 elsewhere (NaN included).
    let step = |v: f64| if v <= 0.0 { 0.0 } else { 1.0 };
    match (node_name, b, i) {
        ("AddBackward", Some(_), 0) => rule("∂(a+b)/∂a = 1", Some(1.0)),
        ("AddBackward", Some(_), _) => rule("∂(a+b)/∂b = 1", Some(1.0)),
        ("AddBackward", None, _) => rule("∂(x+c)/∂x = 1", Some(1.0)),
        ("SubBackward", Some(_), 0) => rule("∂(a-b)/∂a = 1", Some(1.0)),
        ("SubBackward", Some(_), _) => rule("∂(a-b)/∂b = -1", Some(-1.0)),
        ("MulBackward", Some(b), 0) => rule("∂(a*b)/∂a = b", Some(b)),
        ("MulBackward", Some(_), _) => rule("∂(a*b)/∂b = a", Some(a)),
        ("MulBackward", None, _) => rule("∂(x*c)/∂x = c", None),
        ("DivBackward", Some(b), 0) => rule("∂(a/b)/∂a = 1/b", Some(1.0 / b)),
        ("DivBackward", Some(b), _) => rule("∂(a/b)/∂b = -a/b²", Some(-a / (b * b))),
        ("DivBackward", None, _) => rule("∂(x/c)/∂x = 1/c", None),
        ("PowBackward", Some(b), 0) => rule("∂(a^b)/∂a = b*a^(b-1)", Some(b * a.powf(b - 1.0))),
        ("PowBackward", Some(_), _) => rule(
            "∂(a^b)/∂b = a^b*ln(a)",
            Some(if a == 0.0 { 0.0 } else { output * a.ln() }),
        ),
        ("PowBackward", None, _) => rule("∂(x^p)/∂x = p*x^(p-1)", None),
        ("NegBackward", _, _) => rule("∂(-x)/∂x = -1", Some(-1.0)),
        ("ExpBackward", _, _) => rule("∂exp(x)/∂x = exp(x)", Some(output)),
        ("LogBackward", _, _) => rule("∂log(x)/∂x = 1/x", Some(1.0 / a)),
        ("SqrtBackward", _, _) => rule("∂sqrt(x)/∂x = 1/(2*sqrt(x))", Some(0.5 / output)),
        ("AbsBackward", _, _) => rule(
            "∂abs(x)/∂x = sign(x)",
            Some(if a == 0.0 || a.is_nan() {
                0.0
            } else {
                a.signum()
            }),
        ),
        ("SinBackward", _, _) => rule("∂sin(x)/∂x = cos(x)", Some(a.cos())),
        ("CosBackward", _, _) => rule("∂cos(x)/∂x = -sin(x)", Some(-a.sin())),
        ("TanhBackward", _, _) => rule("∂tanh(x)/∂x = 1-tanh(x)²", Some(1.0 - output * output)),
        ("SigmoidBackward", _, _) => rule(
            "∂sigmoid(x)/∂x = sigmoid(x)*(1-sigmoid(x))",
            Some(output * (1.0 - output)),
        ),
        ("ReluBackward", _, _) => rule("∂relu(x)/∂x = 0 if x ≤ 0 else 1", Some(step(a))),
        ("MaximumBackward" | "MinimumBackward", Some(b), _) => {
            let (me, other) = if i == 0 { (a, b) } else { (b, a) };
            let loses = if node_name == "MaximumBackward" {
                me < other
            } else {
                me > other
            };
            // Where either is NaN neither loses: both get the whole gradient, as in PyTorch.
            let value = if me == other {
                0.5
            } else if loses {
                0.0
            } else {
                1.0
            };
            let op = if node_name == "MaximumBackward" {
                "max"
            } else {
                "min"
            };
            let side = if i == 0 { "a" } else { "b" };
            rule(
                &format!("∂{op}(a,b)/∂{side} = 0 where {side} loses, ½ on a tie, else 1"),
                Some(value),
            )
        }
        _ => None,
    }
}
