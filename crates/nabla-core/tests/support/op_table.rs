//! What every row of an op table gets checked for, shared by the tables of the core and of the
//! layer library: gradients against central differences in f64, second derivatives, forward
//! mode against reverse mode, every node replayed and checked on its own, and that the table
//! exercises every rule its crate defines.

#![allow(dead_code)]

use nabla_core::autograd::formula::{At, Local};
use nabla_core::autograd::observe::{BackwardEvent, ForwardEvent, Observer, observe};
use nabla_core::{
    BackwardOptions, GradcheckOptions, Tensor, check_nodes, gradcheck, gradgradcheck, jvp, try_grad,
};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// A row: its name, the function, and the (f64) inputs it is checked at.
pub type Row = (&'static str, fn(&[Tensor]) -> Tensor, Vec<Tensor>);

/// Deterministic inputs away from kinks: `sin(0.37 i + k)` scaled and shifted.
pub fn input(shape: &[usize], k: f64, scale: f64, shift: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec(
        (0..n)
            .map(|i| (0.37 * i as f64 + k).sin() * scale + shift)
            .collect(),
        shape,
    )
}

pub fn any(shape: &[usize], k: f64) -> Tensor {
    input(shape, k, 1.0, 0.0)
}

pub fn positive(shape: &[usize], k: f64) -> Tensor {
    input(shape, k, 0.5, 1.5)
}

/// Rows whose gradients disagree with central differences, with the worst entry.
pub fn gradcheck_failures(rows: &[Row], options: impl Fn(&str) -> GradcheckOptions) -> Vec<String> {
    rows.iter()
        .filter_map(|(name, f, inputs)| {
            let outcome = gradcheck(f, inputs, options(name)).unwrap();
            (!outcome.passed()).then(|| format!("{name}: {outcome}"))
        })
        .collect()
}

/// Rows whose second derivatives disagree with central differences of their gradients.
pub fn gradgradcheck_failures(
    rows: &[Row],
    options: impl Fn(&str) -> GradcheckOptions,
) -> Vec<String> {
    rows.iter()
        .filter_map(|(name, f, inputs)| {
            let outcome = gradgradcheck(f, inputs, options(name)).unwrap();
            (!outcome.passed()).then(|| format!("{name}: {outcome}"))
        })
        .collect()
}

/// Rows where forward mode disagrees with reverse mode by the dot-product test: for a tangent
/// `v` of every input and a cotangent `w` of the output, `⟨w, J·v⟩ = Σᵢ ⟨Jᵀ·w, vᵢ⟩`, within
/// `tolerance(name)` relative.
pub fn forward_reverse_failures(rows: &[Row], tolerance: impl Fn(&str) -> f64) -> Vec<String> {
    rows.iter()
        .filter_map(|(name, f, inputs)| {
            let tangents: Vec<Tensor> = inputs
                .iter()
                .enumerate()
                .map(|(i, x)| input(x.shape(), 7.0 + i as f64, 1.0, 0.3))
                .collect();
            let (y, jv) = jvp(f, inputs, &tangents).unwrap();
            let w = input(y.shape(), 11.0, 1.0, 0.2);
            let forward = (&w * &jv).sum().item::<f64>();
            let leaves: Vec<Tensor> = inputs.iter().map(|x| x.detach().requires_grad()).collect();
            let refs: Vec<&Tensor> = leaves.iter().collect();
            let out = f(&leaves);
            let pulled = try_grad(&[&out], Some(&[&w]), &refs, BackwardOptions::default()).unwrap();
            let reverse: f64 = pulled
                .iter()
                .zip(&tangents)
                .map(|(g, v)| (g * v).sum().item::<f64>())
                .sum();
            ((forward - reverse).abs() > tolerance(name) * (1.0 + reverse.abs()))
                .then(|| format!("{name}: forward {forward} vs reverse {reverse}"))
        })
        .collect()
}

/// Nodes of the rows' graphs that cannot be replayed, or whose rule disagrees with central
/// differences of the replay ([`check_nodes`], node by node).
pub fn node_check_failures(
    rows: &[Row],
    options: impl Fn(&str) -> GradcheckOptions,
) -> Vec<String> {
    rows.iter()
        .flat_map(|(name, f, inputs)| {
            let leaves: Vec<Tensor> = inputs.iter().map(|x| x.detach().requires_grad()).collect();
            check_nodes(|| f(&leaves), options(name))
                .unwrap()
                .into_iter()
                .filter(|c| !c.outcome.as_ref().is_some_and(|o| o.passed()))
                .map(move |c| format!("{name}: {c}"))
        })
        .collect()
}

/// The rule keys of the nodes the rows record, run on inputs that require gradients.
pub fn rules_exercised(rows: &[Row]) -> BTreeSet<&'static str> {
    #[derive(Default)]
    struct Rules(BTreeSet<&'static str>);
    impl Observer for Rules {
        fn forward(&mut self, event: &ForwardEvent) {
            if let Some(node) = event.output.grad_fn() {
                self.0.insert(node.rule());
            }
        }
    }
    let ((), seen) = observe(Rules::default(), || {
        for (_, f, inputs) in rows {
            let leaves: Vec<Tensor> = inputs.iter().map(|x| x.detach().requires_grad()).collect();
            f(&leaves);
        }
    });
    seen.0
}

/// What differs between the rules a table exercises and those its crate declares: declared
/// rules no row reaches, and rules met that are not declared.
pub fn coverage_gaps(exercised: &BTreeSet<&'static str>, declared: &[&'static str]) -> Vec<String> {
    let declared: BTreeSet<&'static str> = declared.iter().copied().collect();
    let mut gaps: Vec<String> = declared
        .difference(exercised)
        .map(|r| format!("rule {r} has no row"))
        .collect();
    gaps.extend(
        exercised
            .difference(&declared)
            .map(|r| format!("rule {r} is met but not declared")),
    );
    gaps
}

/// The `impl Backward for` blocks in the Rust sources under `dir` whose rule key is not in
/// `declared`: a key is the string returned by the block's `fn rule`, else by its `fn name`; a
/// block whose `rule` is `self.0.rule()` belongs to a family, whose keys its `rule_keys!` lists.
pub fn undeclared_rules(dir: &Path, declared: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut files = vec![dir.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let Some(rest) = line
                .strip_prefix("impl")
                .and_then(|l| l.split_once(" Backward for "))
            else {
                continue;
            };
            let ty = rest.1.trim_end_matches(" {");
            // The block runs to the next line that closes an item at the top level.
            let block: Vec<&str> = lines[at..]
                .iter()
                .take_while(|l| **l != "}")
                .copied()
                .collect();
            let key = |f: &str| {
                let start = block.iter().position(|l| l.contains(f))?;
                block[start..]
                    .iter()
                    .take(4)
                    .find_map(|l| l.trim().strip_prefix('"')?.strip_suffix('"'))
            };
            let family = block.iter().any(|l| l.trim() == "self.0.rule()");
            match key("fn rule(").or_else(|| key("fn name(")) {
                _ if family || ty == "AccumulateGrad" => {}
                Some(k) if declared.contains(&k) => {}
                Some(k) => found.push(format!("{}: {ty} has rule {k}", path.display())),
                None => found.push(format!("{}: {ty} has no constant rule key", path.display())),
            }
        }
    }
    found
}

/// Rules the rows reach that state no formula, or one that disagrees with what the engine
/// computed: a formula must have one entry per input, and an elementwise local derivative at
/// the recorded values, times the upstream gradient and summed to the input's shape, must be
/// exactly what backward sent that input.
pub fn formula_failures(rows: &[Row]) -> Vec<String> {
    #[derive(Default)]
    struct Seen {
        /// By node id: the inputs and output the operation ran on.
        forward: HashMap<usize, (Vec<Tensor>, Tensor)>,
        recorded: BTreeSet<&'static str>,
        checked: BTreeSet<&'static str>,
        failures: Vec<String>,
    }
    impl Observer for Seen {
        fn forward(&mut self, event: &ForwardEvent) {
            if let Some(node) = event.output.grad_fn() {
                let inputs = event.inputs.iter().map(|t| t.detach()).collect();
                self.forward
                    .insert(node.id(), (inputs, event.output.detach()));
                self.recorded.insert(node.rule());
            }
        }
        fn backward(&mut self, event: &BackwardEvent) {
            let node = event.node;
            let Some((inputs, output)) = self.forward.get(&node.id()) else {
                return;
            };
            if node.variable().is_some() {
                return;
            }
            self.checked.insert(node.rule());
            let at = At { inputs, output };
            let Some(formula) = node.formula(Some(&at)) else {
                self.failures
                    .push(format!("{} states no formula", node.rule()));
                return;
            };
            if formula.inputs.len() != node.next_functions().len() {
                self.failures.push(format!(
                    "{}: {} formula entries for {} inputs",
                    node.rule(),
                    formula.inputs.len(),
                    node.next_functions().len()
                ));
            }
            for (i, local) in formula.inputs.iter().enumerate() {
                let (Local::Elementwise { value, .. }, Some(Some(sent))) =
                    (local, event.grad_inputs.get(i))
                else {
                    continue;
                };
                let Some(value) = value else {
                    self.failures
                        .push(format!("{}: input {i} has no value", node.rule()));
                    continue;
                };
                let stated = (event.grad_output * value).sum_to(sent.shape());
                let (a, b) = (stated.to_f64_vec(), sent.to_f64_vec());
                if a.iter()
                    .zip(&b)
                    .any(|(x, y)| (x - y).abs() > 1e-12 * (1.0 + y.abs()))
                {
                    self.failures.push(format!(
                        "{}: input {i}: the formula's derivative gives {a:?}, backward sent {b:?}",
                        node.rule()
                    ));
                }
            }
        }
    }
    let ((), seen) = observe(Seen::default(), || {
        for (_, f, inputs) in rows {
            let leaves: Vec<Tensor> = inputs.iter().map(|x| x.detach().requires_grad()).collect();
            f(&leaves).sum().backward();
        }
    });
    let mut failures = seen.failures;
    failures.extend(
        seen.recorded
            .difference(&seen.checked)
            .map(|r| format!("{r}: no backward ran through it")),
    );
    failures
}
