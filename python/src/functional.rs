//! `nabla._C._nn`: the operations behind `nabla.nn.functional` and the layers of `nabla.nn`,
//! each a call into nabla-core's ops or nabla-nn's functional forms (linear, convolutions,
//! pools, normalisations, embeddings, dropout masks, losses and the recurrent layers), with
//! PyTorch's argument conventions. The kernels of large inputs run with the GIL released.

use crate::autograd::torch_named;
use crate::errors::IntoPyResult;
use crate::generator::with_generator;
use crate::ops::heavy;
use crate::tensor::{Tensor, as_core, expect_core};
use nabla_core::Tensor as CoreTensor;
use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding, PoolOptions};
use nabla_nn::layers::{
    Gru, GruCell, Lstm, LstmCell, Nonlinearity, RecurrentOptions, RecurrentState, Rnn, RnnCell,
};
use nabla_nn::module::Module;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

type Opt<'py> = Option<PyRef<'py, Tensor>>;

fn core_of(t: &Option<PyRef<'_, Tensor>>) -> Option<CoreTensor> {
    t.as_ref().map(|t| t.core().clone())
}

fn wrap(t: CoreTensor) -> Tensor {
    Tensor::from_core(t)
}

/// `value` (an int or a sequence of `N` ints) as `N` sizes, as PyTorch's `_pair`/`_single`.
fn sizes<const N: usize>(value: &Bound<'_, PyAny>, what: &str) -> PyResult<[usize; N]> {
    if let Ok(v) = value.extract::<usize>() {
        return Ok([v; N]);
    }
    let items: Vec<usize> = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be a non-negative int or a tuple of {N} of them, got {}",
            crate::tensor::type_name(value)
        ))
    })?;
    match items.as_slice() {
        [v] => Ok([*v; N]),
        _ => items.try_into().map_err(|items: Vec<usize>| {
            PyValueError::new_err(format!(
                "{what} must have {N} element(s), got {}",
                items.len()
            ))
        }),
    }
}

/// [`sizes`] of an argument that may be left out (`None`), `default` in every dimension then.
fn sizes_or<const N: usize>(
    value: Option<&Bound<'_, PyAny>>,
    default: usize,
    what: &str,
) -> PyResult<[usize; N]> {
    value.map_or(Ok([default; N]), |v| sizes(v, what))
}

/// A convolution's `padding`: an int, a tuple, `"valid"` (none) or `"same"`.
fn padding<const N: usize>(value: &Bound<'_, PyAny>) -> PyResult<Padding<N>> {
    if let Ok(s) = value.cast::<PyString>() {
        return match s.to_cow()?.as_ref() {
            "same" => Ok(Padding::Same),
            "valid" => Ok(Padding::Explicit([0; N])),
            other => Err(PyValueError::new_err(format!(
                "padding must be an int, a tuple, 'same' or 'valid', got {other:?}"
            ))),
        };
    }
    Ok(Padding::Explicit(sizes::<N>(value, "padding")?))
}

fn conv_options<const N: usize>(
    stride: Option<&Bound<'_, PyAny>>,
    pad: Option<&Bound<'_, PyAny>>,
    dilation: Option<&Bound<'_, PyAny>>,
    groups: usize,
) -> PyResult<ConvOptions<N>> {
    Ok(ConvOptions {
        stride: sizes_or(stride, 1, "stride")?,
        padding: pad.map_or(Ok(Padding::Explicit([0; N])), padding)?,
        dilation: sizes_or(dilation, 1, "dilation")?,
        groups,
    })
}

/// `x·Wᵀ + b` over the last dim of `x`.
#[pyfunction]
#[pyo3(signature = (input, weight, bias = None))]
fn linear(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    weight: PyRef<'_, Tensor>,
    bias: Opt<'_>,
) -> PyResult<Tensor> {
    let (x, w, b) = (input.core(), weight.core(), core_of(&bias));
    let work = x.numel() / x.shape().last().copied().unwrap_or(1).max(1) * w.numel();
    heavy(py, work, || x.try_linear(w, b.as_ref()))
        .py()
        .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, weight, bias = None, stride = None, padding = None, dilation = None, groups = 1))]
#[allow(clippy::too_many_arguments)]
fn conv1d(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    weight: PyRef<'_, Tensor>,
    bias: Opt<'_>,
    stride: Option<Bound<'_, PyAny>>,
    padding: Option<Bound<'_, PyAny>>,
    dilation: Option<Bound<'_, PyAny>>,
    groups: usize,
) -> PyResult<Tensor> {
    let options = conv_options::<1>(stride.as_ref(), padding.as_ref(), dilation.as_ref(), groups)?;
    let (x, w, b) = (input.core(), weight.core(), core_of(&bias));
    heavy(py, x.numel() * w.numel(), || {
        x.try_conv1d(w, b.as_ref(), &options)
    })
    .py()
    .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, weight, bias = None, stride = None, padding = None, dilation = None, groups = 1))]
#[allow(clippy::too_many_arguments)]
fn conv2d(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    weight: PyRef<'_, Tensor>,
    bias: Opt<'_>,
    stride: Option<Bound<'_, PyAny>>,
    padding: Option<Bound<'_, PyAny>>,
    dilation: Option<Bound<'_, PyAny>>,
    groups: usize,
) -> PyResult<Tensor> {
    let options = conv_options::<2>(stride.as_ref(), padding.as_ref(), dilation.as_ref(), groups)?;
    let (x, w, b) = (input.core(), weight.core(), core_of(&bias));
    heavy(py, x.numel() * w.numel(), || {
        x.try_conv2d(w, b.as_ref(), &options)
    })
    .py()
    .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, weight, bias = None, stride = None, padding = None, output_padding = None, groups = 1, dilation = None))]
#[allow(clippy::too_many_arguments)]
fn conv_transpose2d(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    weight: PyRef<'_, Tensor>,
    bias: Opt<'_>,
    stride: Option<Bound<'_, PyAny>>,
    padding: Option<Bound<'_, PyAny>>,
    output_padding: Option<Bound<'_, PyAny>>,
    groups: usize,
    dilation: Option<Bound<'_, PyAny>>,
) -> PyResult<Tensor> {
    let options = ConvTransposeOptions::<2> {
        stride: sizes_or(stride.as_ref(), 1, "stride")?,
        padding: sizes_or(padding.as_ref(), 0, "padding")?,
        output_padding: sizes_or(output_padding.as_ref(), 0, "output_padding")?,
        dilation: sizes_or(dilation.as_ref(), 1, "dilation")?,
        groups,
    };
    let (x, w, b) = (input.core(), weight.core(), core_of(&bias));
    heavy(py, x.numel() * w.numel(), || {
        x.try_conv_transpose2d(w, b.as_ref(), &options)
    })
    .py()
    .map(wrap)
}

/// A pool's options; `stride` `None` means the kernel size, as in PyTorch.
fn pool_options(
    kernel_size: &Bound<'_, PyAny>,
    stride: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    dilation: Option<&Bound<'_, PyAny>>,
    ceil_mode: bool,
    count_include_pad: bool,
) -> PyResult<PoolOptions<2>> {
    let kernel = sizes::<2>(kernel_size, "kernel_size")?;
    let stride = match stride {
        Some(s) if !s.is_none() => sizes::<2>(s, "stride")?,
        _ => kernel,
    };
    Ok(PoolOptions {
        kernel,
        stride,
        padding: sizes_or(padding, 0, "padding")?,
        dilation: sizes_or(dilation, 1, "dilation")?,
        ceil_mode,
        count_include_pad,
    })
}

#[pyfunction]
#[pyo3(signature = (input, kernel_size, stride = None, padding = None, dilation = None, ceil_mode = false))]
fn max_pool2d(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    kernel_size: Bound<'_, PyAny>,
    stride: Option<Bound<'_, PyAny>>,
    padding: Option<Bound<'_, PyAny>>,
    dilation: Option<Bound<'_, PyAny>>,
    ceil_mode: bool,
) -> PyResult<Tensor> {
    let options = pool_options(
        &kernel_size,
        stride.as_ref(),
        padding.as_ref(),
        dilation.as_ref(),
        ceil_mode,
        true,
    )?;
    let x = input.core();
    heavy(py, x.numel(), || x.try_max_pool2d(&options))
        .py()
        .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, kernel_size, stride = None, padding = None, ceil_mode = false, count_include_pad = true))]
fn avg_pool2d(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    kernel_size: Bound<'_, PyAny>,
    stride: Option<Bound<'_, PyAny>>,
    padding: Option<Bound<'_, PyAny>>,
    ceil_mode: bool,
    count_include_pad: bool,
) -> PyResult<Tensor> {
    let options = pool_options(
        &kernel_size,
        stride.as_ref(),
        padding.as_ref(),
        None,
        ceil_mode,
        count_include_pad,
    )?;
    let x = input.core();
    heavy(py, x.numel(), || x.try_avg_pool2d(&options))
        .py()
        .map(wrap)
}

#[pyfunction]
fn adaptive_avg_pool2d(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    output_size: Bound<'_, PyAny>,
) -> PyResult<Tensor> {
    let size = sizes::<2>(&output_size, "output_size")?;
    let x = input.core();
    heavy(py, x.numel(), || x.try_adaptive_avg_pool2d(size))
        .py()
        .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, running_mean, running_var, weight = None, bias = None, training = false, momentum = 0.1, eps = 1e-5))]
#[allow(clippy::too_many_arguments)]
fn batch_norm(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    running_mean: Opt<'_>,
    running_var: Opt<'_>,
    weight: Opt<'_>,
    bias: Opt<'_>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> PyResult<Tensor> {
    let running = match (core_of(&running_mean), core_of(&running_var)) {
        (Some(m), Some(v)) => Some((m, v)),
        (None, None) => None,
        _ => {
            return Err(PyValueError::new_err(
                "batch_norm: running_mean and running_var go together: give both or neither",
            ));
        }
    };
    let (x, w, b) = (input.core(), core_of(&weight), core_of(&bias));
    heavy(py, x.numel(), || {
        nabla_nn::layers::batch_norm(
            x,
            running.as_ref().map(|(m, v)| (m, v)),
            w.as_ref(),
            b.as_ref(),
            training,
            momentum,
            eps,
        )
    })
    .py()
    .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, normalized_shape, weight = None, bias = None, eps = 1e-5))]
fn layer_norm(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    normalized_shape: Bound<'_, PyAny>,
    weight: Opt<'_>,
    bias: Opt<'_>,
    eps: f64,
) -> PyResult<Tensor> {
    let shape: Vec<usize> = match normalized_shape.extract::<usize>() {
        Ok(n) => vec![n],
        Err(_) => normalized_shape.extract()?,
    };
    let (x, w, b) = (input.core(), core_of(&weight), core_of(&bias));
    heavy(py, x.numel(), || {
        nabla_nn::layers::layer_norm(x, &shape, w.as_ref(), b.as_ref(), eps)
    })
    .py()
    .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, weight, padding_idx = None))]
fn embedding(
    input: PyRef<'_, Tensor>,
    weight: PyRef<'_, Tensor>,
    padding_idx: Option<i64>,
) -> PyResult<Tensor> {
    let rows = weight.core().shape().first().copied().unwrap_or(0) as i64;
    let padding = match padding_idx {
        None => None,
        Some(p) if (-rows..rows).contains(&p) => Some(p.rem_euclid(rows.max(1)) as usize),
        Some(p) => {
            return Err(PyValueError::new_err(format!(
                "embedding: padding_idx {p} must be within the {rows} rows of the weight"
            )));
        }
    };
    weight
        .core()
        .try_embedding(input.core(), padding)
        .py()
        .map(wrap)
}

/// Inverted dropout with a mask from the global generator (`nabla.manual_seed`): zeros with
/// probability `p`, the rest scaled by `1/(1−p)`. `mask_shape` (`None`: the input's) lets
/// `dropout2d` drop whole channels.
#[pyfunction]
#[pyo3(signature = (input, p, mask_shape = None))]
fn dropout_mask(
    input: PyRef<'_, Tensor>,
    p: f64,
    mask_shape: Option<Vec<usize>>,
) -> PyResult<Tensor> {
    if !(0.0..=1.0).contains(&p) {
        return Err(PyValueError::new_err(format!(
            "dropout probability has to be between 0 and 1, but got {p}"
        )));
    }
    let x = input.core();
    if !x.dtype().is_float() {
        return Err(PyTypeError::new_err(format!(
            "dropout needs a float tensor, got {}",
            x.dtype()
        )));
    }
    let shape = mask_shape.unwrap_or_else(|| x.shape().to_vec());
    let uniform = CoreTensor::try_rand(&shape, x.dtype()).py()?;
    let scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    let mask = uniform.ge_scalar(p) * scale;
    x.try_mul(&mask).py().map(wrap)
}

#[pyfunction]
#[pyo3(signature = (input, negative_slope = 0.01))]
fn leaky_relu(py: Python<'_>, input: PyRef<'_, Tensor>, negative_slope: f64) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_leaky_relu(negative_slope))
        .py()
        .map(wrap)
}

#[pyfunction]
fn relu(py: Python<'_>, input: PyRef<'_, Tensor>) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_relu()).py().map(wrap)
}

#[pyfunction]
fn sigmoid(py: Python<'_>, input: PyRef<'_, Tensor>) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_sigmoid()).py().map(wrap)
}

#[pyfunction]
fn tanh(py: Python<'_>, input: PyRef<'_, Tensor>) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_tanh()).py().map(wrap)
}

#[pyfunction]
fn gelu(py: Python<'_>, input: PyRef<'_, Tensor>) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_gelu()).py().map(wrap)
}

#[pyfunction]
fn softmax(py: Python<'_>, input: PyRef<'_, Tensor>, dim: isize) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_softmax(dim))
        .py()
        .map(|t| wrap(torch_named(t, "SoftmaxBackward0")))
}

#[pyfunction]
fn log_softmax(py: Python<'_>, input: PyRef<'_, Tensor>, dim: isize) -> PyResult<Tensor> {
    let x = input.core();
    heavy(py, x.numel(), || x.try_log_softmax(dim))
        .py()
        .map(|t| wrap(torch_named(t, "LogSoftmaxBackward0")))
}

/// Mean cross-entropy of `[N, C]` logits against class indices, nabla-nn's fused op.
#[pyfunction]
#[pyo3(signature = (input, target, label_smoothing = 0.0))]
fn cross_entropy(
    py: Python<'_>,
    input: PyRef<'_, Tensor>,
    target: PyRef<'_, Tensor>,
    label_smoothing: f64,
) -> PyResult<Tensor> {
    let (x, t) = (input.core(), target.core());
    let options = nabla_nn::loss::CrossEntropyOptions { label_smoothing };
    heavy(py, x.numel(), || {
        nabla_nn::loss::try_cross_entropy_with(x, t, options)
    })
    .py()
    .map(wrap)
}

#[pyfunction]
fn nll_loss(input: PyRef<'_, Tensor>, target: PyRef<'_, Tensor>) -> PyResult<Tensor> {
    nabla_nn::loss::try_nll_loss(input.core(), target.core())
        .py()
        .map(wrap)
}

#[pyfunction]
fn mse_loss(input: PyRef<'_, Tensor>, target: PyRef<'_, Tensor>) -> PyResult<Tensor> {
    nabla_nn::loss::try_mse_loss(input.core(), target.core())
        .py()
        .map(|t| wrap(torch_named(t, "MseLossBackward0")))
}

#[pyfunction]
fn binary_cross_entropy_with_logits(
    input: PyRef<'_, Tensor>,
    target: PyRef<'_, Tensor>,
) -> PyResult<Tensor> {
    nabla_nn::loss::try_binary_cross_entropy_with_logits(input.core(), target.core())
        .py()
        .map(wrap)
}

/// The kind of a recurrent layer: `"RNN_TANH"`, `"RNN_RELU"`, `"LSTM"` or `"GRU"` (PyTorch's
/// `mode` strings).
fn nonlinearity(mode: &str) -> PyResult<Option<Nonlinearity>> {
    match mode {
        "RNN_TANH" => Ok(Some(Nonlinearity::Tanh)),
        "RNN_RELU" => Ok(Some(Nonlinearity::Relu)),
        "LSTM" | "GRU" => Ok(None),
        other => Err(PyValueError::new_err(format!(
            "unknown recurrent mode {other:?}: expected RNN_TANH, RNN_RELU, LSTM or GRU"
        ))),
    }
}

/// Runs `torch.nn.RNN`/`LSTM`/`GRU` over a sequence: `params` in PyTorch's order
/// (`weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...`), `hx` the initial `h` (or
/// `(h, c)` for an LSTM; `None`: zeros). Returns `(output, h_n, c_n or None)`.
#[pyfunction]
#[pyo3(signature = (mode, input, hx, params, num_layers, bias, batch_first, dropout, training, bidirectional, seed))]
#[allow(clippy::too_many_arguments)]
fn rnn(
    py: Python<'_>,
    mode: &str,
    input: PyRef<'_, Tensor>,
    hx: Option<Bound<'_, PyAny>>,
    params: Vec<PyRef<'_, Tensor>>,
    num_layers: usize,
    bias: bool,
    batch_first: bool,
    dropout: f64,
    training: bool,
    bidirectional: bool,
    seed: u64,
) -> PyResult<(Tensor, Tensor, Option<Tensor>)> {
    let params: Vec<CoreTensor> = params.iter().map(|p| p.core().clone()).collect();
    let options = RecurrentOptions {
        num_layers,
        bias,
        batch_first,
        dropout,
        bidirectional,
    };
    let initial = match hx.filter(|h| !h.is_none()) {
        None => None,
        Some(h) if mode == "LSTM" => {
            let (h, c) = pair(&h, "LSTM: hx must be a tuple (h_0, c_0) of two tensors")?;
            Some(RecurrentState { h, c: Some(c) })
        }
        Some(h) => Some(RecurrentState {
            h: expect_core(&h, "hx")?,
            c: None,
        }),
    };
    let f = nonlinearity(mode)?;
    let x = input.core();
    let out = heavy(py, usize::MAX, || -> nabla_nn::Result<_> {
        let mut layer: Box<dyn Sequence> = match (mode, f) {
            (_, Some(f)) => Box::new(Rnn::from_parts(f, &params, options, seed)?),
            ("LSTM", _) => Box::new(Lstm::from_parts(&params, options, seed)?),
            _ => Box::new(Gru::from_parts(&params, options, seed)?),
        };
        layer.train(training);
        layer.sequence(x, initial.as_ref())
    })
    .py()?;
    Ok((wrap(out.output), wrap(out.state.h), out.state.c.map(wrap)))
}

/// The sequence layers' shared entry, so [`rnn`] builds any of them the same way.
trait Sequence: Send {
    fn train(&mut self, training: bool);
    fn sequence(
        &self,
        x: &CoreTensor,
        initial: Option<&RecurrentState>,
    ) -> nabla_nn::Result<nabla_nn::layers::SequenceOutput>;
}

macro_rules! sequence {
    ($($layer:ty),*) => {$(
        impl Sequence for $layer {
            fn train(&mut self, training: bool) {
                self.set_training(training);
            }
            fn sequence(
                &self,
                x: &CoreTensor,
                initial: Option<&RecurrentState>,
            ) -> nabla_nn::Result<nabla_nn::layers::SequenceOutput> {
                self.try_forward_sequence(x, initial, None)
            }
        }
    )*};
}

sequence!(Rnn, Lstm, Gru);

/// One step of `torch.nn.RNNCell`/`LSTMCell`/`GRUCell`: `params` are `weight_ih, weight_hh`
/// and optionally `bias_ih, bias_hh`; `hx` is `h` (or `(h, c)` for an LSTM cell, `None`:
/// zeros). Returns `h'` (or `(h', c')`).
#[pyfunction]
#[pyo3(signature = (mode, input, hx, params))]
fn rnn_cell<'py>(
    py: Python<'py>,
    mode: &str,
    input: PyRef<'py, Tensor>,
    hx: Option<Bound<'py, PyAny>>,
    params: Vec<PyRef<'py, Tensor>>,
) -> PyResult<Bound<'py, PyAny>> {
    let params: Vec<CoreTensor> = params.iter().map(|p| p.core().clone()).collect();
    let hx = hx.filter(|h| !h.is_none());
    let x = input.core();
    if mode == "LSTM" {
        let state = hx
            .map(|h| pair(&h, "LSTMCell: hx must be a tuple (h, c) of two tensors"))
            .transpose()?;
        let cell = LstmCell::from_parts(&params).py()?;
        let (h, c) = cell.try_step(x, state.as_ref().map(|(h, c)| (h, c))).py()?;
        return PyTuple::new(py, [wrap(h), wrap(c)]).map(Bound::into_any);
    }
    let h = hx.map(|h| expect_core(&h, "hx")).transpose()?;
    let next = match nonlinearity(mode)? {
        Some(f) => RnnCell::from_parts(f, &params)
            .py()?
            .try_step(x, h.as_ref()),
        None => GruCell::from_parts(&params).py()?.try_step(x, h.as_ref()),
    }
    .py()?;
    Ok(Bound::new(py, wrap(next))?.into_any())
}

/// The two tensors of a tuple `(h, c)`, or a `TypeError` saying `what`.
fn pair(value: &Bound<'_, PyAny>, what: &str) -> PyResult<(CoreTensor, CoreTensor)> {
    let items: (Bound<'_, PyAny>, Bound<'_, PyAny>) = value
        .extract()
        .map_err(|_| PyTypeError::new_err(what.to_string()))?;
    let h = as_core(&items.0).ok_or_else(|| PyTypeError::new_err(what.to_string()))?;
    let c = as_core(&items.1).ok_or_else(|| PyTypeError::new_err(what.to_string()))?;
    Ok((h, c))
}

/// Writes `values` (drawn for `target`'s shape and dtype from `generator`, or the global
/// generator) into `target` in place, outside the graph: how `nn.init` fills a parameter.
fn fill_with(
    target: &CoreTensor,
    generator: Option<&Bound<'_, PyAny>>,
    values: impl FnOnce(&mut nabla_core::Generator) -> nabla_core::Result<CoreTensor>,
) -> PyResult<()> {
    let values = with_generator(generator, values)?.py()?;
    nabla_core::no_grad(|| target.try_copy_(&values)).py()
}

/// Fills `tensor` from `U(low, high)` with `generator` or the global generator.
#[pyfunction]
#[pyo3(signature = (tensor, low, high, generator = None))]
fn uniform_(
    tensor: PyRef<'_, Tensor>,
    low: f64,
    high: f64,
    generator: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let t = tensor.core();
    fill_with(t, generator, |g| {
        CoreTensor::try_uniform_with(t.shape(), low, high, t.dtype(), g)
    })
}

/// Fills `tensor` from `N(mean, std²)` with `generator` or the global generator.
#[pyfunction]
#[pyo3(signature = (tensor, mean, std, generator = None))]
fn normal_(
    tensor: PyRef<'_, Tensor>,
    mean: f64,
    std: f64,
    generator: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    if std.is_nan() || std < 0.0 {
        return Err(PyValueError::new_err(format!(
            "normal_: std must be non-negative, got {std}"
        )));
    }
    let t = tensor.core();
    fill_with(t, generator, |g| {
        CoreTensor::try_randn_with(t.shape(), t.dtype(), g)
            .and_then(|n| n.try_mul_scalar(std))
            .and_then(|n| n.try_add_scalar(mean))
    })
}

/// Sets every element of `tensor` to `value`, outside the graph.
#[pyfunction]
fn constant_(tensor: PyRef<'_, Tensor>, value: f64) -> PyResult<()> {
    nabla_core::no_grad(|| tensor.core().try_fill_(value)).py()
}

/// Copies `src` into `dst` in place, outside the graph (what `load_state_dict` does).
#[pyfunction]
fn copy_into(dst: PyRef<'_, Tensor>, src: PyRef<'_, Tensor>) -> PyResult<()> {
    let (d, s) = (dst.core(), src.core());
    if d.shape() != s.shape() {
        return Err(PyRuntimeError::new_err(format!(
            "copy: the source has shape {:?}, the destination {:?}",
            s.shape(),
            d.shape()
        )));
    }
    let s = if s.dtype() == d.dtype() {
        s.clone()
    } else {
        s.try_to_dtype(d.dtype()).py()?
    };
    nabla_core::no_grad(|| d.try_copy_(&s)).py()
}

/// An instance of `cls` (a Python subclass of `Tensor`, such as `nn.Parameter`) sharing
/// `data`'s elements, a leaf that requires gradients when `requires_grad` is set.
#[pyfunction]
fn make_parameter<'py>(
    cls: &Bound<'py, pyo3::types::PyType>,
    data: PyRef<'py, Tensor>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let leaf = data.core().detach();
    leaf.try_set_requires_grad(requires_grad).py()?;
    let object = py.get_type::<Tensor>().call_method1("__new__", (cls,))?;
    object.cast::<Tensor>()?.borrow_mut().inner = leaf;
    Ok(object)
}

/// Rows of `num_classes` int64 zeros with a 1 at each index of `indices`.
#[pyfunction]
fn one_hot(indices: PyRef<'_, Tensor>, num_classes: usize) -> PyResult<Tensor> {
    indices
        .core()
        .try_one_hot(num_classes, nabla_core::DType::I64)
        .py()
        .map(wrap)
}

/// A seed drawn from the global generator (`nabla.manual_seed`), for the generators of
/// dropout masks and epoch orders.
#[pyfunction]
fn random_seed() -> u64 {
    nabla_core::random::with_global_generator(|g| g.next_seed())
}

fn named(params: &[PyRef<'_, Tensor>]) -> Vec<(String, CoreTensor)> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| (i.to_string(), p.core().clone()))
        .collect()
}

/// nabla-nn's `clip_grad_norm` over the parameters' gradients: the norm before clipping.
#[pyfunction]
fn clip_grad_norm(py: Python<'_>, params: Vec<PyRef<'_, Tensor>>, max_norm: f64) -> PyResult<f64> {
    let params = named(&params);
    py.detach(|| nabla_nn::clip::clip_grad_norm(&params, max_norm))
        .py()
}

/// nabla-nn's `clip_grad_value` over the parameters' gradients.
#[pyfunction]
fn clip_grad_value(py: Python<'_>, params: Vec<PyRef<'_, Tensor>>, clip: f64) -> PyResult<()> {
    let params = named(&params);
    py.detach(|| nabla_nn::clip::clip_grad_value(&params, clip))
        .py()
}

/// `0..n` in an order shuffled by `generator` (a `nabla.Generator`, whose stream it advances),
/// or by the global generator (`nabla.manual_seed`) when `None`: a `DataLoader`'s epoch order,
/// as `torch.randperm(n, generator=...)` gives a `RandomSampler`'s.
#[pyfunction]
#[pyo3(signature = (n, generator = None))]
fn permutation(n: usize, generator: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    with_generator(generator, |g| g.shuffle(&mut order))?;
    Ok(order)
}

/// The rows `indices` of each tensor (along dim 0), copied into new tensors: a batch of a
/// `TensorDataset` in one call per tensor.
#[pyfunction]
fn take_rows(
    py: Python<'_>,
    tensors: Vec<PyRef<'_, Tensor>>,
    indices: Vec<i64>,
) -> PyResult<Vec<Tensor>> {
    let n = indices.len();
    let index = CoreTensor::from_vec(indices, &[n]);
    let cores: Vec<CoreTensor> = tensors.iter().map(|t| t.core().clone()).collect();
    let elements: usize = cores
        .iter()
        .map(|t| t.numel() / t.shape().first().copied().unwrap_or(1).max(1) * n)
        .sum();
    let rows = heavy(py, elements, || {
        cores
            .iter()
            .map(|t| t.try_index_select(0, &index))
            .collect::<nabla_core::Result<Vec<_>>>()
    })
    .py()?;
    Ok(rows.into_iter().map(wrap).collect())
}

/// Adds `nabla._C._nn` with this file's functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let sub = PyModule::new(m.py(), "_nn")?;
    macro_rules! add {
        ($($f:ident),* $(,)?) => {$(sub.add_function(wrap_pyfunction!($f, &sub)?)?;)*};
    }
    add!(
        linear,
        conv1d,
        conv2d,
        conv_transpose2d,
        max_pool2d,
        avg_pool2d,
        adaptive_avg_pool2d,
        batch_norm,
        layer_norm,
        embedding,
        dropout_mask,
        relu,
        leaky_relu,
        sigmoid,
        tanh,
        gelu,
        softmax,
        log_softmax,
        cross_entropy,
        nll_loss,
        mse_loss,
        binary_cross_entropy_with_logits,
        rnn,
        rnn_cell,
        permutation,
        clip_grad_norm,
        clip_grad_value,
        random_seed,
        one_hot,
        make_parameter,
        uniform_,
        normal_,
        constant_,
        copy_into,
        take_rows,
    );
    m.add_submodule(&sub)
}
