//! The data a page needs to step through an expression's chain rule, as the textbook's figures
//! animate the apple example: the graph laid out left to right (nabla's own layered layout),
//! the forward pass node by node with each value, then the backward pass node by node with each
//! node's upstream gradient (the sum of what its consumers sent) and, per input, the local
//! derivative and `upstream × local = contribution`. The formulas and numbers are the
//! [`explanation`](crate::explanation)'s; nothing here restates a derivative.

use super::{bind, parse, record};
use crate::error::{Error, Result};
use crate::explain::{
    ExplainOptions, ExplainedStep, InputStep, Rule, Values, explanation, factor, number,
};
use crate::format::compact;
use crate::graph::{Graph, GraphNode, GraphOptions, NodeKind, RankDir};
use crate::layout::Spacing;
use crate::svg::{box_size, lay_out};
use nabla_core::autograd::formula::{Binding, Hole};
use nabla_core::{Node, Tensor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::collections::HashMap;

/// Distances of the stepper's layout: the graph picture's, with columns far enough apart for
/// an edge's value over its gradient, or its `upstream × local = contribution`, to sit between
/// them.
const SPACING: Spacing = Spacing {
    gap_y: 130.0,
    ..crate::svg::SPACING
};

/// Most nodes drawn, nearest the output first: more is more than a person steps through, and
/// the layout's time grows with the cube of the nodes an edge passes.
const MAX_NODES: usize = 100;

/// An expression's graph with its forward and backward passes, node by node
/// ([`stepper`] builds it). Numbers that are NaN or infinite serialise as `null`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Stepper {
    /// The expression as given.
    pub expression: String,
    pub value: f64,
    /// The drawing's size in pixels.
    pub width: f64,
    pub height: f64,
    /// Node 0 is the output.
    pub nodes: Vec<StepperNode>,
    pub edges: Vec<StepperEdge>,
    /// The operations in the order they were evaluated, innermost first (leaves and constants
    /// have their values from the start).
    pub forward: Vec<ForwardStep>,
    /// The nodes in the order backward ran through them, from the output to the leaves.
    pub backward: Vec<BackwardStep>,
    /// The expression's variables, in order of first appearance (the names a page asks values
    /// for).
    pub variables: Vec<String>,
    /// Each variable's gradient, in order of first appearance.
    pub gradients: Gradients,
    /// Nodes left out of the drawing, which keeps the 100 nearest the output (their steps are
    /// left out too).
    pub omitted: usize,
}

/// A node as drawn: its box's top-left corner `x, y` and size `w, h`, in pixels.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StepperNode {
    pub id: usize,
    /// `"op"`, `"leaf"` (a variable) or `"constant"`.
    pub kind: &'static str,
    /// The operation's symbol (`×`, `sin`), or the variable's name, or the constant's value.
    pub title: String,
    /// The node as the source writes it: `apple*count`.
    pub name: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub value: f64,
    /// `value` to six significant digits.
    pub value_text: String,
    /// The gradient of the output with respect to this node; `None` for a constant.
    pub grad: Option<f64>,
    pub grad_text: Option<String>,
}

/// A value flowing from node `from` into input `input` (from 0) of node `to`, drawn along
/// `route` (its points left to right; the page joins them with curves that leave and enter
/// horizontally).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StepperEdge {
    pub from: usize,
    pub to: usize,
    pub input: usize,
    /// The value flowing forward (`from`'s value).
    pub value: f64,
    /// The gradient `to` sent back along it; `None` into a constant.
    pub grad: Option<f64>,
    pub route: Vec<[f64; 2]>,
}

/// One operation computed: `apple*count = 100*2 = 200`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ForwardStep {
    pub node: usize,
    pub text: String,
}

/// One node backward ran through.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BackwardStep {
    pub node: usize,
    /// The step's number `[n]`, as `nabla grad --explain` numbers it.
    pub number: usize,
    /// `∂L/∂node`: the sum of what each consumer sent (1 at the output).
    pub upstream: f64,
    /// What each consumer sent, in the order they sent it; two or more make a fan-in sum.
    pub from: Vec<Received>,
    /// `∂L/∂(apple*count) = 1.1`, or with a fan-in `∂L/∂x = -0.416147 + 2 + 2 = 3.58385`.
    pub text: String,
    /// What the node sends to each input that takes a gradient (none for a leaf).
    pub inputs: Vec<Sent>,
}

/// A gradient a node received from one consumer, along edge `edge`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Received {
    pub node: usize,
    pub edge: usize,
    pub grad: Option<f64>,
}

/// What a node sends to one input, along edge `edge`: `contribution = upstream × local`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Sent {
    pub node: usize,
    pub edge: usize,
    /// The local derivative, symbolic then at the values: `∂(apple*count)/∂apple = count = 2`.
    pub local: String,
    pub local_value: Option<f64>,
    pub contribution: Option<f64>,
    /// `contribution` to six significant digits.
    pub contribution_text: String,
    /// `1.1 × 2 = 2.2`.
    pub text: String,
}

/// Variables with their gradients, serialised as a JSON object in the variables' order.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients(pub Vec<(String, f64)>);

impl Serialize for Gradients {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, grad) in &self.0 {
            map.serialize_entry(name, grad)?;
        }
        map.end()
    }
}

/// Parses `source`, evaluates it at `at` (a value for each variable, none for any other name)
/// and runs backward, recording everything a page needs to step through both passes. Fails as
/// `nabla grad` does for the same input: a syntax error with its column, a variable without a
/// value, a value for a name the expression does not use; and a name given twice.
///
/// ```
/// use nabla_inspect::expr;
/// let at = [("apple", 100.0), ("count", 2.0), ("tax", 1.1)].map(|(n, v)| (n.to_string(), v));
/// let s = expr::stepper("apple*count*tax", &at).unwrap();
/// assert_eq!(s.forward[0].text, "apple*count = 100*2 = 200");
/// let reached: Vec<&str> = s.backward.iter().map(|b| s.nodes[b.node].name.as_str()).collect();
/// assert_eq!(reached, ["apple*count*tax", "tax", "apple*count", "apple", "count"]);
/// assert_eq!(s.backward[2].inputs[0].text, "1.1 × 2 = 2.2");
/// assert_eq!(s.variables, ["apple", "count", "tax"]);
/// let json = serde_json::to_string(&s).unwrap();
/// assert!(json.contains(r#""gradients":{"apple":2.2,"count":110.00000000000001,"tax":200.0}"#));
/// ```
pub fn stepper(source: &str, at: &[(String, f64)]) -> Result<Stepper> {
    if let Some((name, _)) = at
        .iter()
        .enumerate()
        .find_map(|(i, pair)| at[..i].iter().any(|(n, _)| *n == pair.0).then_some(pair))
    {
        return Err(Error::Twice { name: name.clone() });
    }
    let expression = parse(source)?;
    let pairs: Vec<(&str, f64)> = at.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let recording = record(&expression, &bind(&expression, &pairs)?)?;
    let trace = recording.named_trace();
    let options = GraphOptions {
        max_nodes: MAX_NODES,
        rankdir: RankDir::LeftRight,
        ..GraphOptions::default()
    };
    let graph = Graph::of(&recording.root, &trace, options);
    let steps = if trace.steps().is_empty() {
        Vec::new()
    } else {
        explanation(&trace, ExplainOptions::default())?.steps
    };
    // Without an unfused step, step n is the n-th explained.
    let explained = |node: &GraphNode| node.step.and_then(|n| steps.get(n - 1));
    let by_step: HashMap<usize, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| Some((node.step?, i)))
        .collect();

    let mut nodes: Vec<StepperNode> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(id, node)| {
            let first_line = node.title.lines().next().unwrap_or_default();
            let (title, name) = match explained(node) {
                Some(step) => (
                    step.symbol.clone().unwrap_or_else(|| step.name.clone()),
                    step.name.clone(),
                ),
                None => (first_line.to_string(), first_line.to_string()),
            };
            let value = node.value.as_ref().and_then(scalar).unwrap_or(f64::NAN);
            let grad = node.grad.as_ref().and_then(scalar);
            StepperNode {
                id,
                kind: match node.kind {
                    NodeKind::Op => "op",
                    NodeKind::Leaf => "leaf",
                    NodeKind::Constant => "constant",
                },
                title,
                name,
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0,
                value,
                value_text: compact(value),
                grad,
                grad_text: grad.map(compact),
            }
        })
        .collect();
    let sizes: Vec<(f64, f64)> = nodes
        .iter()
        .map(|n| box_size(lines(n).iter().map(String::as_str)))
        .collect();
    let pairs: Vec<(usize, usize)> = graph.edges.iter().map(|e| (e.from, e.to)).collect();
    let layout = lay_out(&sizes, &pairs, SPACING, true);
    for ((node, &(w, h)), &(cx, cy)) in nodes.iter_mut().zip(&sizes).zip(&layout.centres) {
        (node.x, node.y, node.w, node.h) = (cx - w / 2.0, cy - h / 2.0, w, h);
    }
    let edges: Vec<StepperEdge> = graph
        .edges
        .iter()
        .zip(&layout.routes)
        .map(|(edge, route)| StepperEdge {
            from: edge.from,
            to: edge.to,
            input: edge.input,
            value: nodes[edge.from].value,
            grad: edge.grad.as_ref().and_then(scalar),
            route: route.iter().map(|&(x, y)| [x, y]).collect(),
        })
        .collect();

    let mut numbers: HashMap<usize, usize> = HashMap::new();
    for (i, step) in trace.steps().iter().enumerate() {
        numbers.entry(step.node.id()).or_insert(i + 1);
    }
    let forward = recording
        .operations()
        .filter_map(|t| {
            let node = t.grad_fn()?;
            let number = *numbers.get(&node.id())?;
            let id = *by_step.get(&number)?;
            let step = steps.get(number.checked_sub(1)?)?;
            Some(ForwardStep {
                node: id,
                text: forward_text(&node, &step.inputs, &nodes[id]),
            })
        })
        .collect();
    let backward = steps
        .iter()
        .filter_map(|step| {
            let id = *by_step.get(&step.number)?;
            Some(backward_step(step, id, &graph, &nodes, &edges))
        })
        .collect();
    let evaluation = recording.evaluation();
    Ok(Stepper {
        expression: source.to_string(),
        value: evaluation.value,
        width: layout.width,
        height: layout.height,
        nodes,
        edges,
        forward,
        backward,
        variables: expression.variables().to_vec(),
        gradients: Gradients(
            expression
                .variables()
                .iter()
                .cloned()
                .zip(evaluation.gradient)
                .collect(),
        ),
        omitted: graph.omitted,
    })
}

/// The lines a node's box holds once both passes ran, as the page writes them: title, name
/// (when it differs), `= value`, `grad …`; a constant shows its value only.
fn lines(node: &StepperNode) -> Vec<String> {
    let mut lines = vec![node.title.clone()];
    if node.kind == "constant" {
        return lines;
    }
    if node.name != node.title {
        lines.push(node.name.clone());
    }
    lines.push(format!("= {}", node.value_text));
    lines.extend(node.grad_text.as_ref().map(|g| format!("grad {g}")));
    lines
}

fn scalar(t: &Tensor) -> Option<f64> {
    (t.numel() == 1).then(|| t.to_f64_vec()[0])
}

fn values_scalar(v: &Values) -> Option<f64> {
    match v.values.as_deref() {
        Some([x]) => Some(*x),
        _ => None,
    }
}

/// `apple*count = 100*2 = 200`: the node, its rule's notation at its inputs' values, its value.
fn forward_text(node: &Node, inputs: &[InputStep], me: &StepperNode) -> String {
    let at_values = node.formula(None).and_then(|formula| {
        let numbers: Option<Vec<(String, Binding)>> = inputs
            .iter()
            .map(|i| i.value.as_ref().and_then(values_scalar).map(number))
            .collect();
        let numbers = numbers?;
        Some(formula.output.render(&|hole| {
            match hole {
                Hole::Input(i) => numbers
                    .get(i)
                    .cloned()
                    .unwrap_or(("?".into(), Binding::Atom)),
                _ => ("?".into(), Binding::Atom),
            }
        }))
    });
    match at_values {
        Some(text) if text != me.value_text => format!("{} = {text} = {}", me.name, me.value_text),
        _ => format!("{} = {}", me.name, me.value_text),
    }
}

/// A node's upstream gradient (and where it came from) and what it sent to each input.
fn backward_step(
    step: &ExplainedStep,
    id: usize,
    graph: &Graph,
    nodes: &[StepperNode],
    edges: &[StepperEdge],
) -> BackwardStep {
    let mut from: Vec<Received> = edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.from == id)
        .map(|(k, e)| Received {
            node: e.to,
            edge: k,
            grad: e.grad,
        })
        .collect();
    from.sort_by_key(|r| (graph.nodes[r.node].step, r.edge));
    let me = &nodes[id];
    let named = if me.name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        me.name.clone()
    } else {
        format!("({})", me.name)
    };
    let text = if from.len() > 1 {
        let terms: Vec<String> = from
            .iter()
            .map(|r| factor(&r.grad.map_or("?".into(), compact)))
            .collect();
        format!(
            "∂L/∂{named} = {} = {}",
            terms.join(" + "),
            step.upstream.text
        )
    } else {
        format!("∂L/∂{named} = {}", step.upstream.text)
    };
    let inputs = step
        .inputs
        .iter()
        .filter_map(|input| {
            let edge = edges
                .iter()
                .position(|e| e.to == id && e.input + 1 == input.position)?;
            let sent = input.sent.as_ref();
            let sent_text = sent.map_or("?", |s| s.text.as_str());
            let (local, local_value, text) = match &input.rule {
                Rule::Constant => return None,
                Rule::Elementwise {
                    derivative,
                    instantiated,
                    local,
                    ..
                } => {
                    let local_text = local.as_ref().map_or("?", |l| l.text.as_str());
                    let mut rule = derivative.clone();
                    for part in instantiated.iter().map(String::as_str).chain([local_text]) {
                        if !rule.ends_with(&format!(" = {part}")) {
                            rule = format!("{rule} = {part}");
                        }
                    }
                    let text = format!(
                        "{} × {} = {sent_text}",
                        factor(&step.upstream.text),
                        factor(local_text)
                    );
                    (rule, local.as_ref().and_then(values_scalar), text)
                }
                Rule::Map { gradient } => (gradient.clone(), None, format!("= {sent_text}")),
                Rule::Unstated => (String::new(), None, format!("sent {sent_text}")),
            };
            Some(Sent {
                node: edges[edge].from,
                edge,
                local,
                local_value,
                contribution: sent.and_then(values_scalar),
                contribution_text: sent_text.to_string(),
                text,
            })
        })
        .collect();
    BackwardStep {
        node: id,
        number: step.number,
        upstream: values_scalar(&step.upstream).unwrap_or(f64::NAN),
        from,
        text,
        inputs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|&(n, v)| (n.to_string(), v)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    /// The node named `name`.
    fn node<'a>(s: &'a Stepper, name: &str) -> &'a StepperNode {
        s.nodes.iter().find(|n| n.name == name).unwrap()
    }

    /// The names backward reached, in order.
    fn reached(s: &Stepper) -> Vec<&str> {
        s.backward
            .iter()
            .map(|b| s.nodes[b.node].name.as_str())
            .collect()
    }

    #[test]
    fn the_apple_example_steps_as_the_textbook_draws_it() {
        let values = at(&[("apple", 100.0), ("count", 2.0), ("tax", 1.1)]);
        let s = stepper("apple*count*tax", &values).unwrap();
        assert!(close(s.value, 220.0));
        let grads: Vec<(&str, f64)> = s
            .gradients
            .0
            .iter()
            .map(|(n, g)| (n.as_str(), *g))
            .collect();
        assert_eq!(grads[0], ("apple", 2.2));
        assert!(close(grads[1].1, 110.0) && grads[1].0 == "count");
        assert_eq!(grads[2], ("tax", 200.0));
        // Inputs on the left, the output on the right.
        let (apple, product, output) = (
            node(&s, "apple"),
            node(&s, "apple*count"),
            node(&s, "apple*count*tax"),
        );
        assert!(apple.x + apple.w < product.x && product.x + product.w < output.x);
        assert_eq!(
            (output.id, output.kind, output.title.as_str()),
            (0, "op", "×")
        );
        assert_eq!((apple.kind, apple.title.as_str()), ("leaf", "apple"));
        assert_eq!(product.value_text, "200");
        // Forward: the inner product, then the output.
        let forward: Vec<&str> = s.forward.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(
            forward,
            [
                "apple*count = 100*2 = 200",
                "apple*count*tax = 200*1.1 = 220"
            ]
        );
        // Backward: tax (200) before apple (2.2) and count (110).
        assert_eq!(
            reached(&s),
            ["apple*count*tax", "tax", "apple*count", "apple", "count"]
        );
        let first = &s.backward[0];
        assert_eq!((first.upstream, first.from.len()), (1.0, 0));
        let to_tax = &first.inputs[1];
        assert_eq!(s.nodes[to_tax.node].name, "tax");
        assert_eq!(to_tax.local, "∂(apple*count*tax)/∂tax = apple*count = 200");
        assert_eq!(
            (to_tax.local_value, to_tax.contribution),
            (Some(200.0), Some(200.0))
        );
        assert_eq!(to_tax.text, "1 × 200 = 200");
        let edge = &s.edges[to_tax.edge];
        assert_eq!((edge.to, edge.grad, edge.value), (0, Some(200.0), 1.1));
        let product_step = &s.backward[2];
        assert_eq!(product_step.upstream, 1.1);
        assert_eq!(product_step.text, "∂L/∂(apple*count) = 1.1");
        assert_eq!(product_step.inputs[0].text, "1.1 × 2 = 2.2");
        assert_eq!(
            product_step.inputs[0].local,
            "∂(apple*count)/∂apple = count = 2"
        );
        assert_eq!(product_step.inputs[1].text, "1.1 × 100 = 110");
        assert_eq!(s.backward[3].text, "∂L/∂apple = 2.2");
        assert!(s.backward[3].inputs.is_empty());
        // Every route runs from its source's right side to its target's left side.
        for e in &s.edges {
            let (start, end) = (e.route[0], e.route[e.route.len() - 1]);
            let (from, to) = (&s.nodes[e.from], &s.nodes[e.to]);
            assert!(close(start[0], from.x + from.w) && close(end[0], to.x));
        }
        assert!(s.width >= output.x + output.w && s.height > 0.0);
    }

    #[test]
    fn apples_and_oranges_give_the_textbooks_gradients() {
        let values = at(&[
            ("apple", 100.0),
            ("count", 2.0),
            ("orange", 150.0),
            ("orange_count", 3.0),
            ("tax", 1.1),
        ]);
        let s = stepper("(apple*count + orange*orange_count)*tax", &values).unwrap();
        assert!(close(s.value, 715.0));
        let expected = [
            ("apple", 2.2),
            ("count", 110.0),
            ("orange", 3.3),
            ("orange_count", 165.0),
            ("tax", 650.0),
        ];
        for ((name, grad), (want, value)) in s.gradients.0.iter().zip(expected) {
            assert!(name == want && close(*grad, value), "{name} {grad}");
        }
        let sum = node(&s, "apple*count + orange*orange_count");
        assert_eq!((sum.title.as_str(), sum.grad), ("+", Some(1.1)));
        let step = s.backward.iter().find(|b| b.node == sum.id).unwrap();
        let texts: Vec<&str> = step.inputs.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(texts, ["1.1 × 1 = 1.1", "1.1 × 1 = 1.1"]);
        assert_eq!(s.nodes.len(), 9);
        assert_eq!(
            (s.edges.len(), s.forward.len(), s.backward.len()),
            (8, 4, 9)
        );
    }

    #[test]
    fn a_fan_out_sums_what_each_consumer_sent() {
        let s = stepper("x*x+sin(x)", &at(&[("x", 2.0)])).unwrap();
        let x = node(&s, "x");
        let step = s.backward.last().unwrap();
        assert_eq!(step.node, x.id);
        // sin(x) ran backward first, then x*x sent along both of its inputs.
        let senders: Vec<(&str, Option<usize>)> = step
            .from
            .iter()
            .map(|r| (s.nodes[r.node].name.as_str(), Some(s.edges[r.edge].input)))
            .collect();
        assert_eq!(
            senders,
            [("sin(x)", Some(0)), ("x*x", Some(0)), ("x*x", Some(1))]
        );
        assert_eq!(step.text, "∂L/∂x = (-0.416147) + 2 + 2 = 3.58385");
        let total: f64 = step.from.iter().map(|r| r.grad.unwrap()).sum();
        assert!(close(total, step.upstream) && close(step.upstream, 4.0 + 2f64.cos()));
        assert_eq!(x.grad, Some(step.upstream));
        let sin = s
            .backward
            .iter()
            .find(|b| s.nodes[b.node].name == "sin(x)")
            .unwrap();
        assert_eq!(
            sin.inputs[0].local,
            "∂sin(x)/∂x = cos(x) = cos(2) = -0.416147"
        );
        assert_eq!(sin.inputs[0].text, "1 × (-0.416147) = -0.416147");
        let forward: Vec<&str> = s.forward.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(
            forward,
            [
                "x*x = 2*2 = 4",
                "sin(x) = sin(2) = 0.909297",
                "x*x+sin(x) = 4 + 0.909297 = 4.9093"
            ]
        );
        // x*x's two edges from x are two curves, each with its own gradient.
        let into_square: Vec<&StepperEdge> = s
            .edges
            .iter()
            .filter(|e| e.from == x.id && s.nodes[e.to].name == "x*x")
            .collect();
        assert_eq!(into_square.len(), 2);
        assert_ne!(into_square[0].route, into_square[1].route);
    }

    #[test]
    fn constants_leaves_alone_and_no_variables_step_too() {
        let s = stepper("2*x + 1", &at(&[("x", 3.0)])).unwrap();
        let constants: Vec<&str> = s
            .nodes
            .iter()
            .filter(|n| n.kind == "constant")
            .map(|n| n.title.as_str())
            .collect();
        assert_eq!(constants, ["1", "2"]);
        assert!(
            s.nodes
                .iter()
                .filter(|n| n.kind == "constant")
                .all(|n| n.grad.is_none())
        );
        // A constant takes no gradient: only x gets one from 2*x.
        let product = s
            .backward
            .iter()
            .find(|b| s.nodes[b.node].name == "2*x")
            .unwrap();
        assert_eq!(product.inputs.len(), 1);
        assert_eq!(s.nodes[product.inputs[0].node].name, "x");

        let s = stepper("x", &at(&[("x", 3.0)])).unwrap();
        assert_eq!((s.nodes.len(), s.edges.len(), s.forward.len()), (1, 0, 0));
        assert_eq!(reached(&s), ["x"]);
        assert_eq!(s.backward[0].text, "∂L/∂x = 1");

        let s = stepper("2*3", &[]).unwrap();
        assert_eq!((s.value, s.nodes.len()), (6.0, 1));
        assert!(s.backward.is_empty() && s.gradients.0.is_empty());
    }

    #[test]
    fn variables_are_listed_in_order_of_first_appearance() {
        let s = stepper(
            "y*sin(x) + y + exp(z)",
            &at(&[("x", 1.0), ("y", 2.0), ("z", 0.0)]),
        )
        .unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["variables"], serde_json::json!(["y", "x", "z"]));
        // Function names and numbers are not variables.
        let s = stepper("2e3*exp(1)", &[]).unwrap();
        assert!(s.variables.is_empty());
    }

    #[test]
    fn nan_and_infinity_serialise_as_null() {
        let s = stepper("log(x)", &at(&[("x", 0.0)])).unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["value"], serde_json::Value::Null);
        assert_eq!(json["gradients"]["x"], serde_json::Value::Null);
        assert_eq!(json["nodes"][0]["value_text"], "-inf");
    }

    #[test]
    fn bad_input_fails_as_nabla_grad_does() {
        let error = |source: &str, pairs: &[(&str, f64)]| {
            stepper(source, &at(pairs)).unwrap_err().to_string()
        };
        assert_eq!(
            error("x*", &[("x", 1.0)]),
            "syntax error at column 3: expected a number, a variable, a function call or `(`, found the end of the expression\n  x*\n    ^"
        );
        assert_eq!(error("x*y", &[("x", 1.0)]), "no value for the variable `y`");
        assert_eq!(
            error("x", &[("x", 1.0), ("z", 2.0)]),
            "`z` is given a value but x does not use it (its variables: x)"
        );
        assert_eq!(error("x", &[("x", 1.0), ("x", 2.0)]), "x is given twice");
    }

    #[test]
    fn a_long_expression_is_drawn_capped() {
        let source = vec!["x"; 500].join("+");
        let s = stepper(&source, &at(&[("x", 1.0)])).unwrap();
        assert_eq!((s.nodes.len(), s.value), (MAX_NODES, 500.0));
        assert!(s.omitted > 0);
        assert_eq!(s.gradients.0, [("x".to_string(), 500.0)]);
        assert!(s.backward.iter().all(|b| b.node < s.nodes.len()));
        assert!(s.forward.len() < MAX_NODES);
    }
}
