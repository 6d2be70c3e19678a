//! Autograd from Python: a tensor's `requires_grad`, `grad`, `grad_fn`, `data`, `backward()`;
//! `grad_fn` objects with `name()` and `next_functions`; the grad mode behind `no_grad`;
//! `autograd.grad`; `autograd.Function` subclasses written in Python; `gradcheck`; and the
//! function transforms behind `nabla.func`.

use crate::errors::IntoPyResult;
use crate::tensor::{Tensor, as_core, expect_core, type_name};
use nabla_core::{
    BackwardOptions, Context, Function, GradOptions, GradcheckOptions, GradcheckOutcome,
    JacobianMode, Node, Tensor as CoreTensor,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

/// PyTorch's node names end in an overload number (`MulBackward0`) and name the accumulator
/// by its namespace; the core's do neither.
fn torch_name(name: &str) -> String {
    match name {
        "AccumulateGrad" => "nabla::autograd::AccumulateGrad".to_string(),
        _ if name.ends_with("Backward") => format!("{name}0"),
        _ => name.to_string(),
    }
}

/// PyTorch's names of the nodes whose core name is not PyTorch's for the call that made them
/// (a mean is the core's sum then division, so its last node is a `DivBackward`; `sum(dim)` is
/// PyTorch's overload 1), keyed by the node's address and checked against a weak handle, so a
/// freed node's address reused by another is not misnamed.
struct Renamed {
    names: HashMap<usize, (Weak<Node>, &'static str)>,
    /// Entries of freed nodes are dropped when the table reaches this size.
    prune_at: usize,
}

static RENAMED: LazyLock<Mutex<Renamed>> = LazyLock::new(|| {
    Mutex::new(Renamed {
        names: HashMap::new(),
        prune_at: 1024,
    })
});

/// `t` with its `grad_fn` named `name` (PyTorch's name for the call that made it); a tensor
/// outside the graph is returned as it is.
pub fn torch_named(t: CoreTensor, name: &'static str) -> CoreTensor {
    if let Some(node) = t.grad_fn() {
        let mut table = RENAMED.lock().unwrap_or_else(|p| p.into_inner());
        if table.names.len() >= table.prune_at {
            table.names.retain(|_, (weak, _)| weak.strong_count() > 0);
            table.prune_at = (2 * table.names.len()).max(1024);
        }
        let key = Arc::as_ptr(&node).cast::<u8>() as usize;
        table.names.insert(key, (Arc::downgrade(&node), name));
    }
    t
}

/// The name `grad_fn.name()` shows for `node`.
fn name_of(node: &Arc<Node>) -> String {
    let table = RENAMED.lock().unwrap_or_else(|p| p.into_inner());
    let key = Arc::as_ptr(node).cast::<u8>() as usize;
    match table.names.get(&key) {
        Some((weak, name)) if weak.upgrade().is_some_and(|n| Arc::ptr_eq(&n, node)) => {
            (*name).to_string()
        }
        _ => torch_name(node.name()),
    }
}

/// A node of the recorded graph, as `tensor.grad_fn`.
#[pyclass(name = "Node", module = "nabla.autograd.graph", frozen)]
pub struct GradFn {
    node: Arc<Node>,
}

#[pymethods]
impl GradFn {
    /// The node's name, as PyTorch's (`MulBackward0`, `AccumulateGrad`).
    fn name(&self) -> String {
        name_of(&self.node)
    }

    /// One `(node, 0)` pair per input, `(None, 0)` for inputs without gradient.
    #[getter]
    fn next_functions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let pairs = self
            .node
            .next_functions()
            .iter()
            .map(|edge| {
                let node = match edge {
                    Some(n) => Some(Py::new(py, GradFn { node: n.clone() })?),
                    None => None,
                };
                Ok((node, 0).into_pyobject(py)?.into_any())
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, pairs)
    }

    /// For an `AccumulateGrad` node, the leaf tensor it accumulates into.
    #[getter]
    fn variable(&self) -> Option<Tensor> {
        self.node.variable().cloned().map(Tensor::from_core)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<GradFn>()
            .is_ok_and(|o| Arc::ptr_eq(&o.get().node, &self.node))
    }

    fn __hash__(&self) -> isize {
        Arc::as_ptr(&self.node).cast::<u8>() as isize
    }

    fn __repr__(&self) -> String {
        let name = name_of(&self.node);
        format!(
            "<{} object at {:#x}>",
            name.rsplit("::").next().unwrap_or(&name),
            Arc::as_ptr(&self.node).cast::<u8>() as usize
        )
    }
}

thread_local! {
    /// The first Python exception raised inside a callback the core calls (a Python
    /// `Function.backward`, a function being differentiated), raised once the core returns.
    static PENDING: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

fn set_pending(err: PyErr) {
    PENDING.with(|p| {
        let mut slot = p.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
    });
}

/// The pending Python exception if a callback raised one, else `result` converted.
fn finish<T>(result: nabla_core::Result<T>) -> PyResult<T> {
    if let Some(err) = PENDING.with(|p| p.borrow_mut().take()) {
        return Err(err);
    }
    result.py()
}

#[pymethods]
impl Tensor {
    /// Whether operations on this tensor are recorded for autograd.
    #[getter]
    fn get_requires_grad(&self) -> bool {
        self.inner.requires_grad_flag()
    }

    #[setter]
    fn set_requires_grad(&self, flag: bool) -> PyResult<()> {
        set_flag(&self.inner, flag)
    }

    /// Sets `requires_grad` in place and returns the tensor.
    #[pyo3(signature = (requires_grad = true))]
    fn requires_grad_(slf: Bound<'_, Self>, requires_grad: bool) -> PyResult<Bound<'_, Self>> {
        set_flag(&slf.borrow().inner, requires_grad)?;
        Ok(slf)
    }

    /// The gradient accumulated by `backward()` (a leaf's, or a retained one's), or `None`.
    #[getter]
    fn get_grad(&self) -> Option<Tensor> {
        self.inner.grad().map(Tensor::from_core)
    }

    #[setter]
    fn set_grad(&self, grad: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let grad = match grad {
            Some(g) if !g.is_none() => Some(expect_core(g, "assigned grad")?),
            _ => None,
        };
        if let Some(g) = &grad
            && (g.shape() != self.inner.shape() || g.dtype() != self.inner.dtype())
        {
            return Err(PyRuntimeError::new_err(format!(
                "assigned grad has data of a different size or type: shape {:?} and {} for a \
                 tensor of shape {:?} and {}",
                g.shape(),
                g.dtype(),
                self.inner.shape(),
                self.inner.dtype()
            )));
        }
        self.inner.try_set_grad(grad).py()
    }

    /// The node that made this tensor, or `None` for a leaf.
    #[getter]
    fn grad_fn(&self) -> Option<GradFn> {
        self.inner.grad_fn().map(|node| GradFn { node })
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.inner.is_leaf()
    }

    /// The same values outside the graph, sharing memory (`torch.Tensor.data`).
    #[getter]
    fn get_data(&self) -> Tensor {
        Tensor::from_core(self.inner.detach())
    }

    /// Replaces the values this handle points at (keeping `requires_grad`), as PyTorch's
    /// `t.data = other`.
    #[setter]
    fn set_data(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let new = expect_core(value, "data")?.detach();
        let flag = self.inner.requires_grad_flag() && self.inner.is_leaf();
        if flag {
            new.try_set_requires_grad(true).py()?;
        }
        if let Some(g) = self.inner.grad() {
            new.try_set_grad(Some(g)).ok();
        }
        self.inner = new;
        Ok(())
    }

    /// The same values outside the graph, sharing memory.
    fn detach(&self) -> Tensor {
        Tensor::from_core(self.inner.detach())
    }

    /// Makes a non-leaf tensor keep its gradient in `.grad` during `backward()`.
    fn retain_grad(&self) -> PyResult<()> {
        if !self.inner.requires_grad_flag() {
            return Err(PyRuntimeError::new_err(
                "can't retain_grad on Tensor that has requires_grad=False",
            ));
        }
        self.inner.retain_grad();
        Ok(())
    }

    /// Computes the gradient of this tensor with respect to the leaves and accumulates it in
    /// their `.grad`, as `torch.Tensor.backward`; the GIL is released during the pass (Python
    /// `Function.backward`s and hooks take it back while they run).
    #[pyo3(signature = (gradient = None, retain_graph = None, create_graph = false, inputs = None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyAny>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if inputs.is_some_and(|i| !i.is_none()) {
            return Err(PyTypeError::new_err(
                "backward(inputs=...) is not supported; use nabla.autograd.grad",
            ));
        }
        if !self.inner.requires_grad_flag() {
            return Err(PyRuntimeError::new_err(
                "element 0 of tensors does not require grad and does not have a grad_fn",
            ));
        }
        let gradient = match gradient {
            Some(g) if !g.is_none() => Some(expect_core(g, "gradient")?),
            _ => {
                if self.inner.numel() != 1 {
                    return Err(PyRuntimeError::new_err(format!(
                        "grad can be implicitly created only for scalar outputs (this tensor \
                         has shape {:?})",
                        self.inner.shape()
                    )));
                }
                None
            }
        };
        let options = BackwardOptions {
            retain_graph: retain_graph.unwrap_or(create_graph),
            create_graph,
        };
        let t = &self.inner;
        let result = py.detach(|| t.try_backward_opts(gradient.as_ref(), options));
        finish(result)
    }

    /// Registers `hook(grad)`, called with this tensor's gradient during backward; a returned
    /// tensor replaces the gradient.
    fn register_hook(&self, hook: Py<PyAny>) -> PyResult<()> {
        let result = self.inner.try_register_hook(move |g| {
            Python::attach(|py| {
                let out = hook.call1(py, (Tensor::from_core(g.clone()),));
                match out {
                    Ok(v) if v.is_none(py) => None,
                    Ok(v) => match as_core(v.bind(py)) {
                        Some(t) => Some(t),
                        None => {
                            set_pending(PyTypeError::new_err(
                                "a tensor hook must return a Tensor or None",
                            ));
                            None
                        }
                    },
                    Err(e) => {
                        set_pending(e);
                        None
                    }
                }
            })
        });
        result.py()
    }
}

/// Sets `requires_grad` with PyTorch's errors (leaves only, floating point only).
pub(crate) fn set_flag(t: &CoreTensor, flag: bool) -> PyResult<()> {
    if !t.is_leaf() {
        if flag {
            return Ok(());
        }
        return Err(PyRuntimeError::new_err(
            "you can only change requires_grad flags of leaf variables. If you want to use a \
             computed variable in a subgraph that doesn't require differentiation use \
             var_no_grad = var.detach().",
        ));
    }
    if flag && !t.dtype().is_float() {
        return Err(PyRuntimeError::new_err(format!(
            "only Tensors of floating point dtype can require gradients (this one is {})",
            crate::dtype::name(t.dtype())
        )));
    }
    t.try_set_requires_grad(flag).py()
}

/// Sets whether operations are recorded on this thread and returns the previous setting.
#[pyfunction]
fn _set_grad_enabled(enabled: bool) -> bool {
    let previous = nabla_core::is_grad_enabled();
    // The guard's drop would restore the previous mode; the Python context managers restore it
    // themselves, so the new mode is kept.
    std::mem::forget(nabla_core::GradModeGuard::new(enabled));
    previous
}

#[pyfunction]
fn is_grad_enabled() -> bool {
    nabla_core::is_grad_enabled()
}

/// Tensors from a tensor or a sequence of tensors.
fn tensors(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<CoreTensor>> {
    if let Some(t) = as_core(value) {
        return Ok(vec![t]);
    }
    value
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be a Tensor or a sequence of Tensors, not {}",
                type_name(value)
            ))
        })?
        .map(|item| expect_core(&item?, what))
        .collect()
}

/// `autograd.grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
/// allow_unused=None, materialize_grads=False)`: the gradients of the outputs with respect to
/// the inputs, as a tuple, without touching any `.grad`.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs = None, retain_graph = None, create_graph = false, allow_unused = None, materialize_grads = false))]
#[allow(clippy::too_many_arguments)]
fn grad<'py>(
    py: Python<'py>,
    outputs: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    grad_outputs: Option<&Bound<'py, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: Option<bool>,
    materialize_grads: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let outs = tensors(outputs, "outputs")?;
    let ins = tensors(inputs, "inputs")?;
    let grads = match grad_outputs {
        Some(g) if !g.is_none() => {
            let list = tensors(g, "grad_outputs")?;
            Some(list)
        }
        _ => {
            if let Some(o) = outs.iter().find(|o| o.numel() != 1) {
                return Err(PyRuntimeError::new_err(format!(
                    "grad can be implicitly created only for scalar outputs (an output has \
                     shape {:?})",
                    o.shape()
                )));
            }
            None
        }
    };
    let options = GradOptions {
        retain_graph: retain_graph.unwrap_or(create_graph),
        create_graph,
        allow_unused: allow_unused.unwrap_or(materialize_grads),
        materialize_grads,
    };
    let out_refs: Vec<&CoreTensor> = outs.iter().collect();
    let in_refs: Vec<&CoreTensor> = ins.iter().collect();
    let grad_refs: Option<Vec<&CoreTensor>> = grads.as_ref().map(|g| g.iter().collect());
    let result = py
        .detach(|| nabla_core::try_grad_opts(&out_refs, grad_refs.as_deref(), &in_refs, options))
        .map_err(|e| match e {
            nabla_core::Error::InvalidArgument {
                op: "grad",
                message,
            } if message.contains("not used") || message.contains("unused") => {
                nabla_core::Error::InvalidArgument {
                    op: "grad",
                    message: format!(
                        "{message} (One of the differentiated Tensors appears to not have been \
                         used in the graph. Set allow_unused=True if this is the desired \
                         behavior.)"
                    ),
                }
            }
            other => other,
        });
    let grads = finish(result)?;
    let items = grads
        .into_iter()
        .map(|g| g.map(Tensor::from_core))
        .collect::<Vec<_>>();
    PyTuple::new(py, items)
}

/// A Python `autograd.Function` subclass applied once: the class, its `ctx` object, and the
/// name its node shows.
struct PyFunction {
    cls: Py<PyAny>,
    ctx: Py<PyAny>,
    name: &'static str,
    /// How many tensor arguments it was applied to (one gradient slot each).
    inputs: usize,
}

/// `MyFunction` → "MyFunctionBackward", leaked once per class name.
fn node_name(class_name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashMap<String, &'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    let names = names.get_or_insert_with(HashMap::new);
    if let Some(&name) = names.get(class_name) {
        return name;
    }
    let leaked: &'static str = Box::leak(format!("{class_name}Backward").into_boxed_str());
    names.insert(class_name.to_string(), leaked);
    leaked
}

/// The tensors among a Python return value (a tensor or a tuple of them).
fn returned_tensors(value: &Bound<'_, PyAny>) -> PyResult<(Vec<CoreTensor>, bool)> {
    if let Some(t) = as_core(value) {
        return Ok((vec![t], true));
    }
    let tuple = value.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!(
            "forward must return a Tensor or a tuple of Tensors, not {}",
            type_name(value)
        ))
    })?;
    let ts = tuple
        .iter()
        .map(|item| expect_core(&item, "each output of forward"))
        .collect::<PyResult<Vec<_>>>()?;
    Ok((ts, false))
}

impl Function for PyFunction {
    fn name(&self) -> &'static str {
        self.name
    }

    fn forward(
        &self,
        ctx: &mut Context,
        inputs: &[CoreTensor],
    ) -> nabla_core::Result<Vec<CoreTensor>> {
        Python::attach(|py| {
            let mut run = || -> PyResult<Vec<CoreTensor>> {
                let ctx_obj = self.ctx.bind(py);
                let args = self.ctx.getattr(py, "_args")?;
                let mut call_args: Vec<Py<PyAny>> = vec![self.ctx.clone_ref(py)];
                let mut next = 0;
                for a in args.bind(py).try_iter()? {
                    let a = a?;
                    if as_core(&a).is_some() {
                        let t = Bound::new(py, Tensor::from_core(inputs[next].clone()))?;
                        next += 1;
                        call_args.push(t.into_any().unbind());
                    } else {
                        call_args.push(a.unbind());
                    }
                }
                let out = self
                    .cls
                    .bind(py)
                    .getattr("forward")?
                    .call1(PyTuple::new(py, call_args)?)?;
                let (outputs, single) = returned_tensors(&out)?;
                ctx_obj.setattr("_single", single)?;
                let saved = ctx_obj.getattr("_to_save")?;
                let saved = tensors(&saved, "save_for_backward")?;
                ctx.save_for_backward(&saved.iter().collect::<Vec<_>>());
                ctx_obj.setattr("_to_save", PyTuple::empty(py))?;
                let non_diff = ctx_obj.getattr("_non_differentiable")?;
                for t in non_diff.try_iter()? {
                    let t = expect_core(&t?, "mark_non_differentiable")?;
                    if let Some(i) = outputs.iter().position(|o| o.same_as(&t)) {
                        ctx.mark_non_differentiable(i);
                    }
                }
                Ok(outputs)
            };
            run().map_err(|e| {
                let message = e.to_string();
                set_pending(e);
                nabla_core::Error::InvalidArgument {
                    op: "Function.forward",
                    message,
                }
            })
        })
    }

    fn backward(&self, ctx: &Context, grad_outputs: &[CoreTensor]) -> Vec<Option<CoreTensor>> {
        Python::attach(|py| {
            let run = || -> PyResult<Vec<Option<CoreTensor>>> {
                let ctx_obj = self.ctx.bind(py);
                let saved = ctx
                    .saved_tensors()
                    .iter()
                    .map(|t| Tensor::from_core(t.clone()))
                    .collect::<Vec<_>>();
                ctx_obj.setattr("saved_tensors", PyTuple::new(py, saved)?)?;
                let mut args: Vec<Py<PyAny>> = vec![self.ctx.clone_ref(py)];
                for g in grad_outputs {
                    args.push(
                        Bound::new(py, Tensor::from_core(g.clone()))?
                            .into_any()
                            .unbind(),
                    );
                }
                let out = self
                    .cls
                    .bind(py)
                    .getattr("backward")?
                    .call1(PyTuple::new(py, args)?);
                ctx_obj.setattr("saved_tensors", PyTuple::empty(py))?;
                let out = out?;
                let items: Vec<Bound<'_, PyAny>> = match out.cast::<PyTuple>() {
                    Ok(t) => t.iter().collect(),
                    Err(_) => vec![out],
                };
                let tensor_inputs = ctx_obj
                    .getattr("_input_shapes")?
                    .extract::<Vec<Vec<usize>>>()?;
                let grads = items
                    .iter()
                    .map(|g| {
                        if g.is_none() {
                            Ok(None)
                        } else {
                            expect_core(g, "a gradient returned by backward").map(Some)
                        }
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                let positions = ctx_obj
                    .getattr("_tensor_positions")?
                    .extract::<Vec<usize>>()?;
                if grads.len() != ctx_obj.getattr("_nargs")?.extract::<usize>()? {
                    return Err(PyRuntimeError::new_err(format!(
                        "function {} returned an incorrect number of gradients (expected {}, got {})",
                        self.name,
                        ctx_obj.getattr("_nargs")?.extract::<usize>()?,
                        grads.len()
                    )));
                }
                let mut result = Vec::with_capacity(positions.len());
                for (i, (&p, shape)) in positions.iter().zip(&tensor_inputs).enumerate() {
                    let g = grads[p].clone();
                    if let Some(g) = &g
                        && g.shape() != shape.as_slice()
                    {
                        return Err(PyRuntimeError::new_err(format!(
                            "function {} returned an invalid gradient at index {i} - got {:?} \
                             but expected shape compatible with {:?}",
                            self.name,
                            g.shape(),
                            shape
                        )));
                    }
                    result.push(g);
                }
                Ok(result)
            };
            match run() {
                Ok(grads) => grads,
                Err(e) => {
                    set_pending(e);
                    vec![None; self.inputs]
                }
            }
        })
    }
}

/// Runs a Python `autograd.Function` subclass on `args`: its `forward(ctx, *args)` with the
/// tensors detached and recording off, the outputs recorded with a node that calls its
/// `backward(ctx, *grads)`.
#[pyfunction]
fn _function_apply<'py>(
    py: Python<'py>,
    cls: &Bound<'py, PyAny>,
    ctx: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut inputs = Vec::new();
    let mut positions = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if let Some(t) = as_core(&a) {
            inputs.push(t);
            positions.push(i);
        }
    }
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    ctx.setattr("_args", args)?;
    ctx.setattr("_nargs", args.len())?;
    ctx.setattr("_tensor_positions", positions)?;
    ctx.setattr("_input_shapes", shapes)?;
    ctx.setattr(
        "needs_input_grad",
        PyTuple::new(
            py,
            args.iter()
                .map(|a| as_core(&a).is_some_and(|t| t.requires_grad_flag())),
        )?,
    )?;
    let class_name = cls.getattr("__name__")?.extract::<String>()?;
    let function = PyFunction {
        cls: cls.clone().unbind(),
        ctx: ctx.clone().unbind(),
        name: node_name(&class_name),
        inputs: inputs.len(),
    };
    let refs: Vec<&CoreTensor> = inputs.iter().collect();
    let outputs = finish(nabla_core::apply_function(function, &refs))?;
    let single = ctx.getattr("_single")?.extract::<bool>()?;
    let mut wrapped = outputs
        .into_iter()
        .map(|t| Bound::new(py, Tensor::from_core(t)).map(Bound::into_any))
        .collect::<PyResult<Vec<_>>>()?;
    if single {
        Ok(wrapped.remove(0))
    } else {
        Ok(PyTuple::new(py, wrapped)?.into_any())
    }
}

/// Calls a Python function on tensors from inside a core routine whose callback cannot fail:
/// a raised exception is kept (and raised once the routine returns) and a placeholder is
/// returned in its place.
fn call_python(f: &Bound<'_, PyAny>, xs: &[CoreTensor]) -> CoreTensor {
    let py = f.py();
    let placeholder = || CoreTensor::scalar(f64::NAN);
    if PENDING.with(|p| p.borrow().is_some()) {
        return placeholder();
    }
    let args = xs.iter().map(|x| Tensor::from_core(x.clone()));
    let out = PyTuple::new(py, args).and_then(|args| f.call1(args));
    match out.and_then(|o| expect_core(&o, "the function's result")) {
        Ok(t) => t,
        Err(e) => {
            set_pending(e);
            placeholder()
        }
    }
}

/// `gradcheck(func, inputs, eps, atol, rtol)` through the core's checker: (passed, message).
#[pyfunction]
fn _gradcheck(
    func: &Bound<'_, PyAny>,
    inputs: &Bound<'_, PyAny>,
    eps: f64,
    atol: f64,
    rtol: f64,
) -> PyResult<(bool, String)> {
    let xs = tensors(inputs, "inputs")?;
    let options = GradcheckOptions { eps, atol, rtol };
    let outcome = finish(nabla_core::gradcheck(
        |t| call_python(func, t),
        &xs,
        options,
    ))?;
    Ok((
        matches!(outcome, GradcheckOutcome::Passed { .. }),
        outcome.to_string(),
    ))
}

/// Forward mode: `(func(*primals), its directional derivative along tangents)`.
#[pyfunction]
fn _jvp(
    func: &Bound<'_, PyAny>,
    primals: &Bound<'_, PyAny>,
    tangents: &Bound<'_, PyAny>,
) -> PyResult<(Tensor, Tensor)> {
    let ps = tensors(primals, "primals")?;
    let ts = tensors(tangents, "tangents")?;
    let (out, tangent) = finish(nabla_core::jvp(|x| call_python(func, x), &ps, &ts))?;
    Ok((Tensor::from_core(out), Tensor::from_core(tangent)))
}

/// The Jacobian of a one-tensor function, by reverse or forward mode.
#[pyfunction]
fn _jacobian(func: &Bound<'_, PyAny>, x: &Bound<'_, PyAny>, forward: bool) -> PyResult<Tensor> {
    let x = expect_core(x, "the input")?;
    let mode = if forward {
        JacobianMode::Forward
    } else {
        JacobianMode::Reverse
    };
    let j = nabla_core::jacobian(|t| call_python(func, std::slice::from_ref(t)), &x, mode);
    finish(j).map(Tensor::from_core)
}

/// The Hessian of a scalar function of one tensor.
#[pyfunction]
fn _hessian(func: &Bound<'_, PyAny>, x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let x = expect_core(x, "the input")?;
    let h = nabla_core::hessian(|t| call_python(func, std::slice::from_ref(t)), &x);
    finish(h).map(Tensor::from_core)
}

/// Adds the autograd functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GradFn>()?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(grad, m)?)?;
    m.add_function(wrap_pyfunction!(_function_apply, m)?)?;
    m.add_function(wrap_pyfunction!(_gradcheck, m)?)?;
    m.add_function(wrap_pyfunction!(_jvp, m)?)?;
    m.add_function(wrap_pyfunction!(_jacobian, m)?)?;
    m.add_function(wrap_pyfunction!(_hessian, m)?)?;
    Ok(())
}
