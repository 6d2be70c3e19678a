//! The chain rule, node by node in the order backward ran, on any graph with a scalar output:
//! for each operation its shape and value, the upstream gradient (the sum of what its consumers
//! sent, written out where it fans out), and for each input the rule the operation states
//! ([`nabla_core::autograd::formula`]) in the terms of that node's own inputs: an elementwise
//! local derivative, instantiated at the recorded values and valued by the engine's own code,
//! times the upstream gradient; or a matrix form (`∂L/∂x = (∂L/∂h)·W`); then what the input
//! received. Tensors are shown by their values when small, by statistics otherwise.
//!
//! [`explanation`] gives the steps as data ([`Explanation`]), for front ends that draw them;
//! [`explain`] prints them.

use crate::error::{Error, Result};
use crate::format::{compact, op_label, values};
use crate::trace::{Input, Trace, key};
use nabla_core::autograd::formula::{At, Binding, Formula, Hole, Local, Notation};
use nabla_core::{Node, Tensor};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::{self, Write};
use std::sync::Arc;

/// Descriptions longer than this are cut.
const MAX_DESCRIPTION: usize = 60;
/// Operands nested deeper than this are written as `…`.
const MAX_DEPTH: usize = 8;
/// An operation whose description is longer than this is referred to by its step, `[n]`.
const MAX_REFERENCE: usize = 24;

/// How an explanation is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ExplainOptions {
    /// Tensors of at most this many elements are shown by their values, larger ones by their
    /// minimum, mean and maximum.
    pub max_values: usize,
    /// Explains a `linear` step as the textbook draws the Affine layer: a matrix product
    /// `X·Wᵀ` (step `[n b]`, with `dX = dY·(Wᵀ)ᵀ` and `d(Wᵀ) = Xᵀ·dY`) and the addition of the
    /// bias (step `[n a]`), rather than as one fused operation.
    pub unfused_linear: bool,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            max_values: 12,
            unfused_linear: false,
        }
    }
}

/// A tensor as an explanation shows it: its values when it is small, statistics always.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    pub shape: Vec<usize>,
    /// Every element, row-major, when there are at most [`ExplainOptions::max_values`].
    pub values: Option<Vec<f64>>,
    pub min: f64,
    pub mean: f64,
    pub max: f64,
    /// The text: `4`, `[[1, 2], [3, 4]]`, or `min -0.3, mean 0.01, max 0.4`.
    pub text: String,
}

impl Values {
    fn of(t: &Tensor, max: usize) -> Values {
        let data = t.to_f64_vec();
        let n = data.len().max(1) as f64;
        let (min, max_v) = data
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let mean = data.iter().sum::<f64>() / n;
        let text = values(t, max).unwrap_or_else(|| {
            format!(
                "min {}, mean {}, max {}",
                compact(min),
                compact(mean),
                compact(max_v)
            )
        });
        Values {
            shape: t.shape().to_vec(),
            values: (data.len() <= max).then_some(data),
            min,
            mean,
            max: max_v,
            text,
        }
    }

    fn scalar(&self) -> Option<f64> {
        match self.values.as_deref() {
            Some([v]) => Some(*v),
            _ => None,
        }
    }
}

/// How one input of an operation got its gradient.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Rule {
    /// Elementwise: `local` is `∂output/∂input` (`derivative` in the inputs' names, `instantiated`
    /// with their values when they are numbers), the input receiving the upstream gradient times
    /// it, summed to its shape where it was broadcast.
    Elementwise {
        derivative: String,
        instantiated: Option<String>,
        local: Option<Values>,
        summed: bool,
    },
    /// A map of the upstream gradient, such as a matrix product: `∂L/∂x = (∂L/∂h)·W`.
    Map { gradient: String },
    /// An input that takes no gradient (a constant, indices).
    Constant,
    /// The rule states no formula; only what it sent is known.
    Unstated,
}

/// One input of an explained operation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputStep {
    /// How the input reads: a name, a sub-expression, or `[n]` for a long one explained at step n.
    pub name: String,
    /// Which input of the operation it is, from 1.
    pub position: usize,
    pub value: Option<Values>,
    pub rule: Rule,
    /// What the operation sent to it.
    pub sent: Option<Values>,
}

/// One node backward ran through.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExplainedStep {
    /// The step's number, `[n]`, from 1 in the order backward ran (graph pictures label their
    /// nodes with it).
    pub number: usize,
    /// For a fused operation explained in parts ([`ExplainOptions::unfused_linear`]), which
    /// part: `a` (the last one computed, explained first), `b`, ….
    pub part: Option<char>,
    /// The operation's symbol (`×`, `sigmoid`, `linear`); `None` for a leaf.
    pub symbol: Option<String>,
    /// The node as the inputs' names make it: `w*x + b`, `relu(x·W1ᵀ + b1)`; a leaf's name.
    pub name: String,
    pub value: Option<Values>,
    /// The gradient of the output with respect to this node.
    pub upstream: Values,
    /// Where several consumers sent gradients, each one: the consumer and what it sent.
    pub contributions: Vec<(String, Values)>,
    /// The operation's inputs (empty for a leaf).
    pub inputs: Vec<InputStep>,
}

/// The chain rule of a recorded backward pass, step by step ([`explanation`]); its `Display`
/// is [`explain`]'s text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The output, `L`, as its inputs' names make it.
    pub output: String,
    pub value: Values,
    pub steps: Vec<ExplainedStep>,
}

/// Explains the backward pass a trace recorded through a graph with a scalar output.
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
/// assert!(text.contains("to x (= 3): local ∂(x*y)/∂x = y = 4; 4 × 1 = 4"));
/// assert!(text.contains("y: ∂L/∂y = 3"));
/// ```
pub fn explain(trace: &Trace) -> Result<String> {
    Ok(explanation(trace, ExplainOptions::default())?.to_string())
}

/// The steps [`explain`] prints, as data: each node's shape and values (or statistics), its
/// upstream gradient and where it came from, and each input's rule with the numbers it used.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::{ExplainOptions, Rule, Trace, explanation};
/// let x = Tensor::from_vec(vec![1.0f64, -2.0], &[2]).requires_grad();
/// let (_, trace) = Trace::new().with_name(&x, "x").record(|| x.relu().sum().backward());
/// let steps = explanation(&trace, ExplainOptions::default()).unwrap().steps;
/// let Rule::Elementwise { local, .. } = &steps[1].inputs[0].rule else { panic!() };
/// assert_eq!(local.as_ref().unwrap().values, Some(vec![1.0, 0.0])); // ReLU's mask
/// ```
pub fn explanation(trace: &Trace, options: ExplainOptions) -> Result<Explanation> {
    let steps = trace.steps();
    let Some(first) = steps.first() else {
        return Err(Error::NoBackward);
    };
    let mut numbers: HashMap<usize, usize> = HashMap::new();
    for (i, step) in steps.iter().enumerate() {
        numbers.entry(key(&step.node)).or_insert(i + 1);
    }
    let namer = Namer {
        trace,
        numbers: &numbers,
    };
    let output = namer.describe(&first.node, 0).0;
    let root = match trace.op(&first.node) {
        Some(record) => record.output.clone(),
        None => first.grad_output.clone(),
    };
    if root.numel() != 1 {
        return Err(Error::NotScalar {
            what: output,
            shape: root.shape().to_vec(),
        });
    }
    let show = |t: &Tensor| Values::of(t, options.max_values);
    let mut received: HashMap<usize, Vec<(String, Tensor)>> = HashMap::new();
    let mut explained = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        let node = &step.node;
        let contributions: Vec<(String, Values)> = match received.remove(&key(node)) {
            Some(parts) if parts.len() > 1 => {
                parts.iter().map(|(f, g)| (f.clone(), show(g))).collect()
            }
            _ => Vec::new(),
        };
        let upstream = show(&step.grad_output);
        if let Some(leaf) = node.variable() {
            explained.push(ExplainedStep {
                number: index + 1,
                part: None,
                symbol: None,
                name: trace.name_of(leaf).unwrap_or("leaf").to_string(),
                value: Some(show(leaf)),
                upstream,
                contributions,
                inputs: Vec::new(),
            });
            continue;
        }
        let name = namer.describe(node, 0).0;
        let record = trace.op(node);
        let input_values: Option<Vec<Tensor>> =
            record.and_then(|r| r.inputs.iter().map(|input| namer.value(input)).collect());
        let formula = match (&input_values, record) {
            (Some(inputs), Some(r)) => node.formula(Some(&At {
                inputs,
                output: &r.output,
            })),
            _ => node.formula(None),
        };
        let me = namer.reference(node);
        let mut inputs = Vec::new();
        for (i, input) in record
            .map(|r| r.inputs.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let sent = step.grad_inputs.get(i).cloned().flatten();
            let operand = namer.operand(input);
            let rule = match (input, &sent, formula.as_ref().and_then(|f| f.inputs.get(i))) {
                (Input::Constant(_), _, _) | (_, None, _) | (_, _, Some(Local::None)) => {
                    Rule::Constant
                }
                (_, _, None) => Rule::Unstated,
                (_, Some(sent), Some(Local::Elementwise { derivative, value })) => {
                    let with = |hole: Hole| namer.hole_text(hole, record, &me, None);
                    let with_values =
                        |hole: Hole| namer.hole_text(hole, record, &me, input_values.as_deref());
                    let symbolic = derivative.render(&with);
                    let all_numbers = scalar_holes(derivative, record, input_values.as_deref());
                    let instantiated = all_numbers
                        .then(|| derivative.render(&with_values))
                        .filter(|text| *text != symbolic);
                    Rule::Elementwise {
                        derivative: format!("∂{}/∂{} = {symbolic}", wrap(&me), wrap(&operand)),
                        instantiated,
                        local: value.as_ref().map(show),
                        summed: sent.shape() != step.grad_output.shape(),
                    }
                }
                (_, Some(_), Some(Local::Map { gradient })) => {
                    let with = |hole: Hole| namer.hole_text(hole, record, &me, None);
                    Rule::Map {
                        gradient: format!("∂L/∂{} = {}", wrap(&operand), gradient.render(&with)),
                    }
                }
            };
            if let (Input::Node(target), Some(sent)) = (input, &sent) {
                let from = if repeated(&record.expect("inputs come from the record").inputs, i) {
                    format!("{name}, input {}", i + 1)
                } else {
                    name.clone()
                };
                received
                    .entry(key(target))
                    .or_default()
                    .push((from, sent.clone()));
            }
            inputs.push(InputStep {
                name: operand.0,
                position: i + 1,
                value: input_values.as_ref().map(|v| show(&v[i])),
                rule,
                sent: sent.as_ref().map(show),
            });
        }
        let fused = ExplainedStep {
            number: index + 1,
            part: None,
            symbol: Some(symbol(node, formula.as_ref())),
            name,
            value: record.map(|r| show(&r.output)),
            upstream,
            contributions,
            inputs,
        };
        match (record, &input_values) {
            (Some(r), Some(values))
                if options.unfused_linear && node.rule() == "LinearBackward" =>
            {
                let operands: Vec<(String, Binding)> =
                    r.inputs.iter().map(|i| namer.operand(i)).collect();
                explained.extend(unfuse(fused, &operands, values, step, &show));
            }
            _ => explained.push(fused),
        }
    }
    Ok(Explanation {
        output,
        value: show(&root),
        steps: explained,
    })
}

/// A `linear` step `Y = X·Wᵀ + b` as the textbook's Affine layer: the addition of the bias
/// (part `a`), then the matrix product `X·Wᵀ` (part `b`), with the gradients the fused rule sent
/// (`d(Wᵀ)` is the transpose of what `W` received).
fn unfuse(
    fused: ExplainedStep,
    operands: &[(String, Binding)],
    values: &[Tensor],
    step: &crate::trace::Step,
    show: &dyn Fn(&Tensor) -> Values,
) -> Vec<ExplainedStep> {
    let (x, w) = (&operands[0], &operands[1]);
    let transposed = format!("{}ᵀ", wrap(w));
    let product = format!("{}·{transposed}", wrap_below(x, Binding::Product));
    let product_value = nabla_core::no_grad(|| values[0].matmul(&values[1].t()));
    let sent = |i: usize| step.grad_inputs.get(i).cloned().flatten();
    let one = Some(show(&Tensor::scalar(1.0)));
    let dy = format!("∂L/∂({product})");
    let matmul = ExplainedStep {
        number: fused.number,
        part: Some('b'),
        symbol: Some("matmul".into()),
        name: product.clone(),
        value: Some(show(&product_value)),
        upstream: fused.upstream.clone(),
        contributions: Vec::new(),
        inputs: vec![
            InputStep {
                rule: match fused.inputs[0].rule {
                    Rule::Constant => Rule::Constant,
                    _ => Rule::Map {
                        gradient: format!("∂L/∂{} = {dy}·({transposed})ᵀ", wrap(x)),
                    },
                },
                ..fused.inputs[0].clone()
            },
            InputStep {
                name: transposed.clone(),
                position: 2,
                value: Some(show(&values[1].t())),
                rule: Rule::Map {
                    gradient: format!("∂L/∂({transposed}) = {}ᵀ·{dy}", wrap(x)),
                },
                sent: sent(1).map(|g| show(&g.t())),
            },
        ],
    };
    if values.len() < 3 {
        return vec![ExplainedStep {
            part: None,
            ..matmul
        }];
    }
    let add = ExplainedStep {
        number: fused.number,
        part: Some('a'),
        symbol: Some("+".into()),
        inputs: vec![
            InputStep {
                name: product.clone(),
                position: 1,
                value: Some(show(&product_value)),
                rule: Rule::Elementwise {
                    derivative: format!("∂({})/∂({product}) = 1", fused.name),
                    instantiated: None,
                    local: one.clone(),
                    summed: false,
                },
                sent: Some(fused.upstream.clone()),
            },
            InputStep {
                rule: Rule::Elementwise {
                    derivative: format!("∂({})/∂{} = 1", fused.name, wrap(&operands[2])),
                    instantiated: None,
                    local: one,
                    summed: true,
                },
                ..fused.inputs[2].clone()
            },
        ],
        ..fused
    };
    vec![add, matmul]
}

/// `text` in parentheses when it binds looser than `need`.
fn wrap_below((text, binding): &(String, Binding), need: Binding) -> String {
    if *binding < need {
        format!("({text})")
    } else {
        text.clone()
    }
}

/// The symbol a node is drawn and explained with: its rule's, else its name as people write it.
pub(crate) fn symbol(node: &Node, formula: Option<&Formula>) -> String {
    formula.map_or_else(|| op_label(node.name()), |f| f.symbol.clone())
}

/// Whether every operand `notation` mentions is a single number at the recorded values.
fn scalar_holes(
    notation: &Notation,
    record: Option<&crate::trace::OpRecord>,
    inputs: Option<&[Tensor]>,
) -> bool {
    let Some(inputs) = inputs else {
        return false;
    };
    notation.terms.iter().all(|term| match term {
        nabla_core::autograd::formula::Term::Hole(Hole::Input(i), _) => {
            inputs.get(*i).is_some_and(|t| t.numel() == 1)
        }
        nabla_core::autograd::formula::Term::Hole(Hole::Output, _) => {
            record.is_some_and(|r| r.output.numel() == 1)
        }
        nabla_core::autograd::formula::Term::Hole(Hole::Grad, _) => false,
        nabla_core::autograd::formula::Term::Text(_) => true,
    })
}

/// `text` in parentheses unless it binds as an atom: `∂(w*x)/∂w`.
fn wrap((text, binding): &(String, Binding)) -> String {
    if *binding == Binding::Atom {
        text.clone()
    } else {
        format!("({text})")
    }
}

/// Whether input `i` is the same node as another input (`x*x`): contributions then say which.
fn repeated(inputs: &[Input], i: usize) -> bool {
    let Input::Node(node) = &inputs[i] else {
        return false;
    };
    inputs
        .iter()
        .enumerate()
        .any(|(j, other)| j != i && matches!(other, Input::Node(n) if Arc::ptr_eq(n, node)))
}

/// How nodes read: names, descriptions from their rules' notation, step references.
struct Namer<'a> {
    trace: &'a Trace,
    numbers: &'a HashMap<usize, usize>,
}

impl Namer<'_> {
    /// The value an input had.
    fn value(&self, input: &Input) -> Option<Tensor> {
        match input {
            Input::Constant(t) => Some(t.clone()),
            Input::Node(node) => match node.variable() {
                Some(leaf) => Some(leaf.detach()),
                None => self.trace.op(node).map(|r| r.output.clone()),
            },
        }
    }

    /// How an input reads where it is used.
    fn operand(&self, input: &Input) -> (String, Binding) {
        match input {
            Input::Node(node) => self.reference(node),
            Input::Constant(t) => match self.trace.name_of(t) {
                Some(name) => (name.to_string(), name_binding(name, Binding::Atom)),
                None if t.numel() == 1 => number(t.to_f64_vec()[0]),
                None => ("const".into(), Binding::Atom),
            },
        }
    }

    /// A node where it is used: its description, or `[n]` when that is long.
    fn reference(&self, node: &Node) -> (String, Binding) {
        let described = self.describe(node, 0);
        match self.numbers.get(&key(node)) {
            Some(n) if described.0.chars().count() > MAX_REFERENCE => {
                (format!("[{n}]"), Binding::Atom)
            }
            _ => described,
        }
    }

    /// How a node reads as a formula of its inputs (`apple*count`), with its binding.
    fn describe(&self, node: &Node, depth: usize) -> (String, Binding) {
        let formula = node.formula(None);
        if let Some(name) = self.trace.node_name(node) {
            let binding = formula.as_ref().map_or(Binding::Atom, |f| f.output.binding);
            return (cut(name), name_binding(name, binding));
        }
        if node.variable().is_some() {
            return ("leaf".into(), Binding::Atom);
        }
        let Some(record) = self.trace.op(node) else {
            return (symbol(node, formula.as_ref()), Binding::Atom);
        };
        if depth > MAX_DEPTH {
            return ("…".into(), Binding::Atom);
        }
        let args: Vec<(String, Binding)> = record
            .inputs
            .iter()
            .map(|input| match input {
                Input::Node(n) => self.describe(n, depth + 1),
                constant => self.operand(constant),
            })
            .collect();
        let text = match &formula {
            Some(f) => f.output.render(&|hole| match hole {
                Hole::Input(i) => args.get(i).cloned().unwrap_or(("?".into(), Binding::Atom)),
                _ => ("?".into(), Binding::Atom),
            }),
            None => {
                let list: Vec<&str> = args.iter().map(|(t, _)| t.as_str()).collect();
                format!("{}({})", symbol(node, None), list.join(", "))
            }
        };
        let binding = formula.map_or(Binding::Atom, |f| f.output.binding);
        (cut(&text), binding)
    }

    /// A hole of a rule's notation at a node: an input, the node itself (`me`), or the upstream
    /// gradient `∂L/∂me`; with `values`, inputs and output by their numbers instead.
    fn hole_text(
        &self,
        hole: Hole,
        record: Option<&crate::trace::OpRecord>,
        me: &(String, Binding),
        values: Option<&[Tensor]>,
    ) -> (String, Binding) {
        let inputs = record.map(|r| r.inputs.as_slice()).unwrap_or(&[]);
        match (hole, values) {
            (Hole::Input(i), Some(values)) => values
                .get(i)
                .map_or(("?".into(), Binding::Atom), |t| number(t.to_f64_vec()[0])),
            (Hole::Output, Some(_)) => record.map_or(("?".into(), Binding::Atom), |r| {
                number(r.output.to_f64_vec()[0])
            }),
            (Hole::Input(i), None) => inputs
                .get(i)
                .map_or(("?".into(), Binding::Atom), |input| self.operand(input)),
            (Hole::Output, None) => me.clone(),
            (Hole::Grad, _) => (format!("∂L/∂{}", wrap(me)), Binding::Product),
        }
    }
}

/// A user's name binds as an atom when it is a plain identifier, else as its operation does
/// (an operation named by its source text, `w*x+b`, is still a sum).
fn name_binding(name: &str, operation: Binding) -> Binding {
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        Binding::Atom
    } else {
        operation
    }
}

/// A number as explanations write it (six significant digits), negative ones in parentheses
/// beside an operator.
pub(crate) fn number(v: f64) -> (String, Binding) {
    let binding = if v < 0.0 { Binding::Sum } else { Binding::Atom };
    (compact(v), binding)
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

/// A shape after a name, nothing for a scalar: ` [4, 3]`.
fn shape_suffix(shape: &[usize]) -> String {
    if shape.is_empty() {
        String::new()
    } else {
        format!(" {shape:?}")
    }
}

/// A number as a factor of a product: `(-1)` rather than `-1`.
pub(crate) fn factor(text: &str) -> String {
    if text.starts_with('-') {
        format!("({text})")
    } else {
        text.to_string()
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Backward pass of L = {} = {}, node by node (∂L/∂v: the gradient of L with respect to v):",
            self.output, self.value.text
        )?;
        for step in &self.steps {
            f.write_char('\n')?;
            step.write(f)?;
        }
        Ok(())
    }
}

impl ExplainedStep {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = match self.part {
            Some(part) => format!("{}{part}", self.number),
            None => self.number.to_string(),
        };
        let shape = shape_suffix(&self.upstream.shape);
        let sum = if self.contributions.is_empty() {
            self.upstream.text.clone()
        } else {
            let terms: Vec<String> = self
                .contributions
                .iter()
                .map(|(from, g)| format!("{} (from {from})", g.text))
                .collect();
            format!("{} = {}", terms.join(" + "), self.upstream.text)
        };
        let Some(symbol) = &self.symbol else {
            return writeln!(
                f,
                "[{}] {}{shape}: ∂L/∂{} = {sum}",
                number, self.name, self.name
            );
        };
        match &self.value {
            Some(v) if v.scalar().is_some() || v.values.is_some() => writeln!(
                f,
                "[{}] {symbol}: {}{shape} = {}",
                number, self.name, v.text
            )?,
            Some(v) => writeln!(f, "[{}] {symbol}: {}{shape}: {}", number, self.name, v.text)?,
            None => writeln!(f, "[{}] {symbol}: {}{shape}", number, self.name)?,
        }
        let note = if self.number == 1 && self.part.is_none_or(|p| p == 'a') {
            " (∂L/∂L)"
        } else {
            ""
        };
        writeln!(f, "    upstream gradient: {sum}{note}")?;
        for input in &self.inputs {
            input.write(f, &self.upstream)?;
        }
        Ok(())
    }
}

impl InputStep {
    fn write(&self, f: &mut fmt::Formatter<'_>, upstream: &Values) -> fmt::Result {
        let value = match &self.value {
            Some(v) if v.scalar().is_some() => format!(" (= {})", v.text),
            Some(v) => shape_suffix(&v.shape),
            None => String::new(),
        };
        let sent = self
            .sent
            .as_ref()
            .map_or("?".to_string(), |s| s.text.clone());
        match &self.rule {
            Rule::Constant => writeln!(f, "    to {}: no gradient (constant)", self.name),
            Rule::Unstated => writeln!(
                f,
                "    to {}{value}: sent {sent} (the rule states no formula)",
                self.name
            ),
            Rule::Map { gradient } => {
                writeln!(f, "    to {}{value}: {gradient} = {sent}", self.name)
            }
            Rule::Elementwise {
                derivative,
                instantiated,
                local,
                summed,
            } => {
                let mut rule = derivative.clone();
                if let Some(numbers) = instantiated {
                    let _ = write!(rule, " = {numbers}");
                }
                let local_text = local.as_ref().map_or("?".to_string(), |l| l.text.clone());
                if !rule.ends_with(&format!(" = {local_text}")) {
                    let _ = write!(rule, " = {local_text}");
                }
                let scalar = |v: Option<&Values>| v.and_then(Values::scalar).is_some();
                if scalar(local.as_ref()) && scalar(Some(upstream)) && !summed {
                    writeln!(
                        f,
                        "    to {}{value}: local {rule}; {local_text} × {} = {sent}",
                        self.name,
                        factor(&upstream.text)
                    )
                } else {
                    let sum = if *summed { ", summed to its shape" } else { "" };
                    writeln!(
                        f,
                        "    to {}{value}: local {rule}; upstream ⊙ local{sum} = {sent}",
                        self.name
                    )
                }
            }
        }
    }
}
