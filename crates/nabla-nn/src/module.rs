//! The [`Module`] trait every layer implements, and [`Sequential`], the container that chains
//! layers. Names of parameters and buffers follow PyTorch (`0.weight`, `1.running_mean`), so a
//! state dict written here loads into the equivalent `torch.nn` model and back.

use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A differentiable layer or a tree of layers.
///
/// A layer implements [`Module::try_forward`] and [`Module::describe`], lists the tensors it owns
/// in [`Module::local_parameters`] / [`Module::local_buffers`], and a container lists its
/// sub-modules in [`Module::children`]; naming, state dicts and loading follow from those.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::{Linear, ReLU};
/// use nabla_nn::module::{Module, Sequential};
/// let mut rng = Generator::new(0);
/// let mut mlp = Sequential::new();
/// mlp.push(Box::new(Linear::new(4, 3, DType::F32, &mut rng)));
/// mlp.push(Box::new(ReLU));
/// let y = mlp.forward(&Tensor::ones(&[2, 4], DType::F32));
/// assert_eq!(y.shape(), &[2, 3]);
/// let names: Vec<String> = mlp.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias"]);
/// ```
pub trait Module: Send + Sync {
    /// Applies the module, with an error naming the module and the offending input.
    fn try_forward(&self, x: &Tensor) -> Result<Tensor>;

    /// Applies the module; panics with the message of [`Module::try_forward`].
    #[track_caller]
    fn forward(&self, x: &Tensor) -> Tensor {
        crate::error::ok(self.try_forward(x))
    }

    /// A one-line summary such as `Linear(784 -> 100)`; containers list their children.
    fn describe(&self) -> String;

    /// PyTorch's class name of the module (`"Linear"`, `"ReLU"`, `"Conv2d"`, `"BatchNorm1d"`,
    /// `"LSTM"`, `"Sequential"`), for tools that decide what a layer is (diagnostics' per-layer
    /// pictures) without reading [`Module::describe`]. `"Module"` unless the type says.
    ///
    /// ```
    /// use nabla_core::{DType, Generator};
    /// use nabla_nn::layers::{Linear, Sigmoid};
    /// use nabla_nn::module::{Module, Sequential};
    /// let mut net = Sequential::new();
    /// net.push(Box::new(Linear::new(2, 3, DType::F32, &mut Generator::new(0))));
    /// net.push(Box::new(Sigmoid));
    /// let kinds: Vec<&str> = net.layers().iter().map(|l| l.type_name()).collect();
    /// assert_eq!(kinds, ["Linear", "Sigmoid"]);
    /// assert_eq!(net.type_name(), "Sequential");
    /// ```
    fn type_name(&self) -> &'static str {
        "Module"
    }

    /// Parameters owned by this module itself (not its children), with their local names.
    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Buffers owned by this module itself: state saved with the model but not trained
    /// (BatchNorm's running statistics).
    fn local_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Direct sub-modules with their names, so tools can walk the tree.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// States of the random-number generators owned by this module itself (Dropout's mask
    /// stream), with their local names. A checkpoint saves them so a resumed run draws the masks
    /// an uninterrupted one would.
    fn local_generators(&self) -> Vec<(String, Generator)> {
        Vec::new()
    }

    /// Replaces the state of the generator `name` listed by [`Module::local_generators`].
    fn set_local_generator(&self, name: &str, _generator: Generator) -> Result<()> {
        Err(Error::invalid(
            "load_generators",
            format!("{}: has no generator {name:?}", self.describe()),
        ))
    }

    /// Every generator of the tree with its dotted name (`3.generator`), own ones first.
    ///
    /// ```
    /// use nabla_nn::layers::{Dropout, ReLU};
    /// use nabla_nn::module::{Module, Sequential};
    /// let mut net = Sequential::new();
    /// net.push(Box::new(ReLU));
    /// net.push(Box::new(Dropout::new(0.5, 7)));
    /// let saved = net.named_generators();
    /// assert_eq!(saved[0].0, "1.generator");
    /// net.load_generators(&saved).unwrap();
    /// ```
    fn named_generators(&self) -> Vec<(String, Generator)> {
        let mut out = self.local_generators();
        for (name, child) in self.children() {
            out.extend(
                child
                    .named_generators()
                    .into_iter()
                    .map(|(n, g)| (format!("{name}.{n}"), g)),
            );
        }
        out
    }

    /// Restores every generator of the tree from `generators`, by name. The names must be
    /// exactly those of [`Module::named_generators`]; nothing is changed otherwise.
    fn load_generators(&self, generators: &[(String, Generator)]) -> Result<()> {
        let own: Vec<String> = self
            .named_generators()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let incoming: BTreeMap<&str, &Generator> =
            generators.iter().map(|(n, g)| (n.as_str(), g)).collect();
        let missing: Vec<&str> = own
            .iter()
            .map(String::as_str)
            .filter(|n| !incoming.contains_key(n))
            .collect();
        let unexpected: Vec<&str> = incoming
            .keys()
            .copied()
            .filter(|n| !own.iter().any(|o| o == n))
            .collect();
        let mut problems = Vec::new();
        if incoming.len() != generators.len() {
            problems.push("duplicate names".to_string());
        }
        if !missing.is_empty() {
            problems.push(format!("missing {missing:?}"));
        }
        if !unexpected.is_empty() {
            problems.push(format!("unexpected {unexpected:?}"));
        }
        if !problems.is_empty() {
            return Err(Error::invalid(
                "load_generators",
                format!(
                    "the generators do not match the module: {}",
                    problems.join("; ")
                ),
            ));
        }
        set_generators(self, "", &incoming)
    }

    /// Switches between training and evaluation behaviour (Dropout, BatchNorm); containers
    /// pass it on to their children.
    fn set_training(&mut self, _training: bool) {}

    /// Starts (`true`) or stops keeping the hidden state of every time step of the following
    /// forward passes, for per-time-step gradients (see [`Module::time_steps`]). Recurrent
    /// layers keep them; every other module passes the switch on to its children.
    fn record_time_steps(&self, on: bool) {
        for (_, child) in self.children() {
            child.record_time_steps(on);
        }
    }

    /// The hidden states `h_t` (`[N, H]`, one per time step) of this module's latest forward
    /// pass while recording is on, each retaining its gradient: after `backward()`,
    /// `time_steps()[t].grad()` is `∂L/∂h_t`. Empty for every module but a recurrent layer.
    fn time_steps(&self) -> Vec<Tensor> {
        Vec::new()
    }

    /// Every parameter of the tree with its dotted name: own ones first, then each child's.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = self.local_parameters();
        for (name, child) in self.children() {
            out.extend(prefixed(&name, child.named_parameters()));
        }
        out
    }

    /// Every parameter of the tree, in the order of [`Module::named_parameters`].
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Every buffer of the tree with its dotted name.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = self.local_buffers();
        for (name, child) in self.children() {
            out.extend(prefixed(&name, child.named_buffers()));
        }
        out
    }

    /// Parameters and buffers in PyTorch's order (per module: parameters, buffers, then the
    /// children). The tensors are the live ones, not copies.
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        let mut out = self.local_parameters();
        out.extend(self.local_buffers());
        for (name, child) in self.children() {
            out.extend(prefixed(&name, child.state_dict()));
        }
        out
    }

    /// Copies `state` into this module's parameters and buffers in place, by name.
    ///
    /// Everything is checked before anything is written: missing, unexpected and duplicate
    /// keys, and shape or dtype mismatches are all reported in one error.
    fn load_state_dict(&self, state: &[(String, Tensor)]) -> Result<()> {
        let own = self.state_dict();
        let incoming: HashMap<&str, &Tensor> = state.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let own_names: HashSet<&str> = own.iter().map(|(n, _)| n.as_str()).collect();
        let mut problems = Vec::new();
        if incoming.len() != state.len() {
            let mut seen = HashSet::new();
            let duplicates: Vec<&str> = state
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !seen.insert(*n))
                .collect();
            problems.push(format!("duplicate keys {duplicates:?}"));
        }
        let missing: Vec<&str> = own
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !incoming.contains_key(n))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("missing keys {missing:?}"));
        }
        let unexpected: Vec<&str> = state
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !own_names.contains(n))
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!("unexpected keys {unexpected:?}"));
        }
        for (name, target) in &own {
            let Some(src) = incoming.get(name.as_str()) else {
                continue;
            };
            if src.shape() != target.shape() {
                problems.push(format!(
                    "{name}: the state has shape {:?}, the module {:?}",
                    src.shape(),
                    target.shape()
                ));
            } else if src.dtype() != target.dtype() {
                problems.push(format!(
                    "{name}: the state has dtype {}, the module {}",
                    src.dtype(),
                    target.dtype()
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Error::invalid("load_state_dict", problems.join("; ")));
        }
        // Parameters are leaves that require grad: written under no_grad, as in PyTorch.
        nabla_core::no_grad(|| {
            own.iter()
                .try_for_each(|(name, target)| target.try_copy_(incoming[name.as_str()]))
        })?;
        Ok(())
    }
}

/// Sets the generators of `module` (whose names start with `prefix`) and of its children.
fn set_generators(
    module: &(impl Module + ?Sized),
    prefix: &str,
    generators: &BTreeMap<&str, &Generator>,
) -> Result<()> {
    for (name, _) in module.local_generators() {
        let full = format!("{prefix}{name}");
        module.set_local_generator(&name, generators[full.as_str()].clone())?;
    }
    for (name, child) in module.children() {
        set_generators(child, &format!("{prefix}{name}."), generators)?;
    }
    Ok(())
}

fn prefixed(prefix: &str, items: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    items
        .into_iter()
        .map(|(n, t)| (format!("{prefix}.{n}"), t))
        .collect()
}

/// The error for an input a module cannot take: names the module, says what the input is and
/// what was expected.
pub(crate) fn invalid_input(module: &dyn Module, what: String, expected: String) -> Error {
    Error::invalid(
        "forward",
        format!(
            "{}: input has {what}, expected {expected}",
            module.describe()
        ),
    )
}

/// Checks that `x` has the dtype of the module's parameters.
pub(crate) fn expect_dtype(module: &dyn Module, x: &Tensor, dtype: DType) -> Result<()> {
    if x.dtype() == dtype {
        Ok(())
    } else {
        Err(invalid_input(
            module,
            format!("dtype {}", x.dtype()),
            format!("{dtype} (convert it with .to_dtype())"),
        ))
    }
}

/// An error naming `module` unless `x` has a float dtype (f32 or f64).
pub(crate) fn expect_float(module: &dyn Module, x: &Tensor) -> Result<()> {
    if x.dtype().is_float() {
        Ok(())
    } else {
        Err(invalid_input(
            module,
            format!("dtype {}", x.dtype()),
            "f32 or f64".to_string(),
        ))
    }
}

/// Layers applied one after the other, named `0`, `1`, ... like PyTorch's `nn.Sequential`.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::layers::{ReLU, Tanh};
/// use nabla_nn::module::{Module, Sequential};
/// let mut net = Sequential::new();
/// net.push(Box::new(ReLU));
/// net.push(Box::new(Tanh));
/// let trace = net.forward_trace(&Tensor::from_vec(vec![-1.0f64, 2.0], &[2])).unwrap();
/// assert_eq!(trace[0].to_vec::<f64>(), [0.0, 2.0]);
/// assert_eq!(trace[1].to_vec::<f64>(), [0.0, 2f64.tanh()]);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty container (its forward is the identity).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a layer; it is named by its position.
    pub fn push(&mut self, layer: Box<dyn Module>) {
        self.layers.push(layer);
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The output of every layer in order (the last one is the output of the whole), for
    /// per-layer diagnostics.
    pub fn forward_trace(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let input = outputs.last().unwrap_or(x);
            let y = layer.try_forward(input)?;
            outputs.push(y);
        }
        Ok(outputs)
    }
}

impl Module for Sequential {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for layer in &self.layers {
            y = layer.try_forward(&y)?;
        }
        Ok(y)
    }

    /// PyTorch's layout: one child per line, indented under the container.
    fn describe(&self) -> String {
        let mut out = String::from("Sequential(");
        for (i, layer) in self.layers.iter().enumerate() {
            let child = layer.describe().replace('\n', "\n  ");
            out.push_str(&format!("\n  ({i}): {child}"));
        }
        if !self.layers.is_empty() {
            out.push('\n');
        }
        out.push(')');
        out
    }

    fn type_name(&self) -> &'static str {
        "Sequential"
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), l.as_ref()))
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }
}
