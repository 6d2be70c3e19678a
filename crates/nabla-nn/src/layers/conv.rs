//! Convolutions with PyTorch's parameter names, layouts and initialisation: [`Conv1d`] and
//! [`Conv2d`], weight `[out, in/groups, k...]` and bias `[out]`; the pieces shared with
//! [`crate::layers::ConvTranspose2d`] and the layer specs.

use crate::init::{Init, fans};
use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::ops::window::{ConvOptions, Padding, output_size};
use nabla_core::{DType, Generator, Tensor};

/// `3x3`: sizes per spatial dim, as the descriptions and layer specs write them.
pub(crate) fn sizes(values: &[usize]) -> String {
    let text: Vec<String> = values.iter().map(usize::to_string).collect();
    text.join("x")
}

/// What [`Module::describe`] says of a convolution, also for layer specs that are not built:
/// `Conv2d(1 -> 32, 3x3)`, then the options that differ from PyTorch's defaults.
pub(crate) fn description<const N: usize>(
    in_channels: usize,
    out_channels: usize,
    kernel: [usize; N],
    options: &ConvOptions<N>,
    bias: bool,
) -> String {
    let mut extras = Vec::new();
    if options.stride != [1; N] {
        extras.push(format!("stride={}", sizes(&options.stride)));
    }
    match options.padding {
        Padding::Same => extras.push("padding=same".to_string()),
        Padding::Explicit(p) if p != [0; N] => extras.push(format!("padding={}", sizes(&p))),
        Padding::Explicit(_) => {}
    }
    format!(
        "Conv{N}d({in_channels} -> {out_channels}, {}{})",
        sizes(&kernel),
        tail(extras, &options.dilation, options.groups, bias)
    )
}

/// `extras` then the dilation, groups and bias where they are not PyTorch's defaults, each
/// after `", "`: the end of a convolution's description.
pub(crate) fn tail(
    mut extras: Vec<String>,
    dilation: &[usize],
    groups: usize,
    bias: bool,
) -> String {
    if dilation.iter().any(|&d| d != 1) {
        extras.push(format!("dilation={}", sizes(dilation)));
    }
    if groups != 1 {
        extras.push(format!("groups={groups}"));
    }
    if !bias {
        extras.push("bias=false".to_string());
    }
    extras.iter().map(|e| format!(", {e}")).collect()
}

/// What is wrong with a convolution's sizes, if anything: channels, groups, kernel, stride and
/// dilation, shared by the layers and the layer specs.
pub(crate) fn check_geometry(
    in_channels: Option<usize>,
    out_channels: usize,
    groups: usize,
    kernel: &[usize],
    stride: &[usize],
    dilation: &[usize],
) -> std::result::Result<(), String> {
    if out_channels == 0 || in_channels == Some(0) {
        return Err("the numbers of channels must be at least 1".to_string());
    }
    if groups == 0 {
        return Err("groups must be at least 1, got 0".to_string());
    }
    for (what, channels) in [("in", in_channels), ("out", Some(out_channels))] {
        if let Some(c) = channels.filter(|c| c % groups != 0) {
            return Err(format!(
                "{what}_channels ({c}) must be divisible by groups ({groups})"
            ));
        }
    }
    for (what, values) in [
        ("kernel size", kernel),
        ("stride", stride),
        ("dilation", dilation),
    ] {
        if values.contains(&0) {
            return Err(format!(
                "the {what} must be at least 1, got {}",
                sizes(values)
            ));
        }
    }
    Ok(())
}

/// PyTorch's `reset_parameters` of a convolution: the weight from Kaiming uniform with a = √5
/// (`U(±1/√fan_in)`), then the bias, `[bias_size]`, from `U(±1/√fan_in)`; `fan_in` from the
/// weight's shape ([`fans`]: `in/groups·∏kernel`; for a transposed convolution, whose weight
/// is `[in, out/groups, k...]`, PyTorch's `out/groups·∏kernel`).
pub(crate) fn default_parameters(
    weight_shape: &[usize],
    bias_size: usize,
    bias: bool,
    dtype: DType,
    rng: &mut Generator,
) -> Result<(Tensor, Option<Tensor>)> {
    let weight = Init::linear_default().try_tensor(weight_shape, dtype, rng)?;
    let (fan_in, _) = fans(weight_shape)?;
    let bound = 1.0 / (fan_in as f64).sqrt();
    let bias = bias
        .then(|| {
            Init::Uniform {
                low: -bound,
                high: bound,
            }
            .try_tensor(&[bias_size], dtype, rng)
        })
        .transpose()?;
    Ok((weight.requires_grad(), bias.map(Tensor::requires_grad)))
}

/// Checks the tensors given to a layer's `from_parts`: a non-empty float weight of `rank`
/// dims, and a bias of `[bias_size]` and the weight's dtype.
pub(crate) fn check_parts(
    name: &str,
    layout: &str,
    weight: &Tensor,
    bias: Option<&Tensor>,
    bias_size: impl Fn(&Tensor) -> usize,
) -> Result<()> {
    let rank = layout.split(',').count();
    if weight.ndim() != rank || !weight.dtype().is_float() || weight.numel() == 0 {
        return Err(Error::invalid(
            "layer",
            format!(
                "{name}: the weight must be a non-empty f32 or f64 [{layout}], got shape {:?} of dtype {}",
                weight.shape(),
                weight.dtype()
            ),
        ));
    }
    if let Some(b) = bias {
        let size = bias_size(weight);
        if b.shape() != [size] || b.dtype() != weight.dtype() {
            return Err(Error::invalid(
                "layer",
                format!(
                    "{name}: the bias must be [{size}] of dtype {}, got shape {:?} of dtype {}",
                    weight.dtype(),
                    b.shape(),
                    b.dtype()
                ),
            ));
        }
    }
    Ok(())
}

/// The smallest size along one dim that a window of `kernel` taps `dilation` apart fits
/// into with `padding` on each side (at least 1): `dilation·(kernel−1) + 1 − 2·padding`.
pub(crate) fn smallest_size(kernel: usize, dilation: usize, padding: usize) -> usize {
    let span = dilation
        .saturating_mul(kernel.saturating_sub(1))
        .saturating_add(1);
    span.saturating_sub(padding.saturating_mul(2)).max(1)
}

/// The input shape a layer expects, for errors: `[N, 3, H, W] (or [3, H, W])` with the
/// smallest spatial sizes its window fits, if any.
pub(crate) fn expected_input(channels: usize, names: &[&str], smallest: &[usize]) -> String {
    let dims: String = names.iter().map(|n| format!(", {n}")).collect();
    let mut text = format!("[N, {channels}{dims}] (or [{channels}{dims}])");
    let bounds: Vec<String> = names
        .iter()
        .zip(smallest)
        .filter(|(_, s)| **s > 1)
        .map(|(n, s)| format!("{n} >= {s}"))
        .collect();
    if !bounds.is_empty() {
        text.push_str(&format!(" with {}", bounds.join(" and ")));
    }
    text
}

/// The output size of a convolution along each spatial dim, or the window that does not fit.
pub(crate) fn conv_output<const N: usize>(
    input: &[usize],
    kernel: [usize; N],
    options: &ConvOptions<N>,
) -> std::result::Result<Vec<usize>, String> {
    (0..N)
        .map(|i| match options.padding {
            Padding::Same => Ok(input[i]),
            Padding::Explicit(p) => output_size(
                "conv",
                input[i],
                kernel[i],
                options.stride[i],
                p[i],
                options.dilation[i],
                false,
            )
            .map_err(|_| {
                format!(
                    "the {} window (dilation {}, padding {}) does not fit",
                    sizes(&kernel),
                    sizes(&options.dilation),
                    sizes(&p)
                )
            }),
        })
        .collect()
}

/// The core operation of a [`Conv`]: `x.try_conv1d` or `x.try_conv2d`.
type ConvFn<const N: usize> =
    fn(&Tensor, &Tensor, Option<&Tensor>, &ConvOptions<N>) -> nabla_core::Result<Tensor>;

/// A convolution over `N` spatial dims: [`Conv1d`] or [`Conv2d`], one implementation of the
/// checks, parameters and description for both.
///
/// ```
/// use nabla_core::ops::window::ConvOptions;
/// use nabla_core::{DType, Generator};
/// use nabla_nn::layers::{Conv, Conv2d};
/// let conv: Conv<2> = Conv2d::new(3, 16, [3, 3], ConvOptions::default(), true, DType::F32, &mut Generator::new(0));
/// assert_eq!((conv.in_channels(), conv.out_channels(), conv.kernel_size()), (3, 16, [3, 3]));
/// ```
pub struct Conv<const N: usize> {
    weight: Tensor,
    bias: Option<Tensor>,
    options: ConvOptions<N>,
    op: ConvFn<N>,
}

/// A 1-d convolution, `torch.nn.Conv1d`: `[N, Cin, L] -> [N, Cout, Lout]` (also unbatched
/// `[Cin, L]`), weight `[Cout, Cin/groups, k]`, bias `[Cout]`.
///
/// ```
/// use nabla_core::ops::window::ConvOptions;
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::{layers::Conv1d, module::Module};
/// let conv = Conv1d::new(2, 4, [3], ConvOptions::default(), true, DType::F32, &mut Generator::new(0));
/// assert_eq!(conv.describe(), "Conv1d(2 -> 4, 3)");
/// assert_eq!(conv.forward(&Tensor::ones(&[5, 2, 10], DType::F32)).shape(), &[5, 4, 8]);
/// ```
pub type Conv1d = Conv<1>;

/// A 2-d convolution, `torch.nn.Conv2d`: `[N, Cin, H, W] -> [N, Cout, Hout, Wout]` (also
/// unbatched `[Cin, H, W]`), weight `[Cout, Cin/groups, kh, kw]`, bias `[Cout]`.
///
/// ```
/// use nabla_core::ops::window::{ConvOptions, Padding};
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::{layers::Conv2d, module::Module};
/// let mut rng = Generator::new(0);
/// let conv = Conv2d::new(1, 32, [3, 3], ConvOptions::default(), true, DType::F32, &mut rng);
/// assert_eq!(conv.describe(), "Conv2d(1 -> 32, 3x3)");
/// assert_eq!(conv.weight().shape(), &[32, 1, 3, 3]);
/// assert_eq!(conv.forward(&Tensor::zeros(&[8, 1, 28, 28], DType::F32)).shape(), &[8, 32, 26, 26]);
/// let err = conv.try_forward(&Tensor::zeros(&[8, 3, 28, 28], DType::F32)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: Conv2d(1 -> 32, 3x3): input has shape [8, 3, 28, 28], expected [N, 1, H, W] (or [1, H, W]) with H >= 3 and W >= 3"
/// );
/// let same = ConvOptions { padding: Padding::Same, ..Default::default() };
/// let conv = Conv2d::new(3, 8, [5, 5], same, false, DType::F32, &mut rng);
/// assert_eq!(conv.describe(), "Conv2d(3 -> 8, 5x5, padding=same, bias=false)");
/// assert_eq!(conv.forward(&Tensor::zeros(&[3, 7, 9], DType::F32)).shape(), &[8, 7, 9]);
/// ```
pub type Conv2d = Conv<2>;

impl Conv<1> {
    /// A convolution with PyTorch's initialisation; errors for zero sizes, channels not
    /// divisible by `groups`, or `"same"` padding with a stride.
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 1],
        options: ConvOptions<1>,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        let sizes = (in_channels, out_channels, kernel, options, bias);
        Self::make(sizes, dtype, rng, |x, w, b, o| x.try_conv1d(w, b, o))
    }

    /// Panicking form of [`Conv::<1>::try_new`].
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 1],
        options: ConvOptions<1>,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Self {
        crate::error::ok(Self::try_new(
            in_channels,
            out_channels,
            kernel,
            options,
            bias,
            dtype,
            rng,
        ))
    }

    /// A layer using these tensors as its parameters (shared, not copied, left as they are:
    /// mark them `requires_grad` to train them): weight `[out, in/groups, k]`, bias `[out]`.
    pub fn from_parts(
        weight: Tensor,
        bias: Option<Tensor>,
        options: ConvOptions<1>,
    ) -> Result<Self> {
        Self::assemble(weight, bias, options, |x, w, b, o| x.try_conv1d(w, b, o))
    }
}

impl Conv<2> {
    /// A convolution with PyTorch's initialisation; errors for zero sizes, channels not
    /// divisible by `groups`, or `"same"` padding with a stride.
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvOptions<2>,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        let sizes = (in_channels, out_channels, kernel, options, bias);
        Self::make(sizes, dtype, rng, |x, w, b, o| x.try_conv2d(w, b, o))
    }

    /// Panicking form of [`Conv::<2>::try_new`].
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvOptions<2>,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Self {
        crate::error::ok(Self::try_new(
            in_channels,
            out_channels,
            kernel,
            options,
            bias,
            dtype,
            rng,
        ))
    }

    /// A layer using these tensors as its parameters (shared, not copied, left as they are:
    /// mark them `requires_grad` to train them): weight `[out, in/groups, kh, kw]`, bias
    /// `[out]`.
    ///
    /// ```
    /// use nabla_core::ops::window::ConvOptions;
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::{layers::Conv2d, module::Module};
    /// let weight = Tensor::ones(&[1, 1, 2, 2], DType::F64);
    /// let conv = Conv2d::from_parts(weight, None, ConvOptions::default()).unwrap();
    /// let x = Tensor::from_vec((0..9).map(f64::from).collect(), &[1, 1, 3, 3]);
    /// assert_eq!(conv.forward(&x).to_vec::<f64>(), [8.0, 12.0, 20.0, 24.0]);
    /// let err = Conv2d::from_parts(Tensor::ones(&[4, 3], DType::F64), None, ConvOptions::default());
    /// assert_eq!(
    ///     err.err().unwrap().to_string(),
    ///     "layer: Conv2d: the weight must be a non-empty f32 or f64 [out, in/groups, kh, kw], got shape [4, 3] of dtype f64"
    /// );
    /// ```
    pub fn from_parts(
        weight: Tensor,
        bias: Option<Tensor>,
        options: ConvOptions<2>,
    ) -> Result<Self> {
        Self::assemble(weight, bias, options, |x, w, b, o| x.try_conv2d(w, b, o))
    }
}

/// The sizes of a new convolution: in and out channels, kernel, options, bias.
type Sizes<const N: usize> = (usize, usize, [usize; N], ConvOptions<N>, bool);

impl<const N: usize> Conv<N> {
    fn make(
        (in_channels, out_channels, kernel, options, bias): Sizes<N>,
        dtype: DType,
        rng: &mut Generator,
        op: ConvFn<N>,
    ) -> Result<Self> {
        check_geometry(
            Some(in_channels),
            out_channels,
            options.groups,
            &kernel,
            &options.stride,
            &options.dilation,
        )
        .map_err(|m| Error::invalid("layer", format!("Conv{N}d: {m}")))?;
        let shape: Vec<usize> = [out_channels, in_channels / options.groups]
            .into_iter()
            .chain(kernel)
            .collect();
        let (weight, bias) = default_parameters(&shape, out_channels, bias, dtype, rng)?;
        Self::assemble(weight, bias, options, op)
    }

    fn assemble(
        weight: Tensor,
        bias: Option<Tensor>,
        options: ConvOptions<N>,
        op: ConvFn<N>,
    ) -> Result<Self> {
        let name = format!("Conv{N}d");
        let layout = if N == 1 {
            "out, in/groups, k"
        } else {
            "out, in/groups, kh, kw"
        };
        check_parts(&name, layout, &weight, bias.as_ref(), |w| w.shape()[0])?;
        let conv = Conv {
            weight,
            bias,
            options,
            op,
        };
        let fail = |m: String| Error::invalid("layer", format!("{name}: {m}"));
        check_geometry(
            Some(conv.in_channels()),
            conv.out_channels(),
            options.groups,
            &conv.kernel_size(),
            &options.stride,
            &options.dilation,
        )
        .map_err(fail)?;
        if options.padding == Padding::Same && options.stride != [1; N] {
            return Err(fail(format!(
                "padding=same needs stride 1, got stride {}",
                sizes(&options.stride)
            )));
        }
        Ok(conv)
    }

    /// Number of input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.shape()[1] * self.options.groups
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[0]
    }

    /// The kernel's size per spatial dim.
    pub fn kernel_size(&self) -> [usize; N] {
        std::array::from_fn(|i| self.weight.shape()[2 + i])
    }

    /// Stride, padding, dilation and groups.
    pub fn options(&self) -> &ConvOptions<N> {
        &self.options
    }

    /// The weight, `[out, in/groups, k...]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// The smallest spatial sizes the window fits.
    fn smallest_input(&self) -> [usize; N] {
        let kernel = self.kernel_size();
        std::array::from_fn(|i| match self.options.padding {
            Padding::Same => 1,
            Padding::Explicit(p) => smallest_size(kernel[i], self.options.dilation[i], p[i]),
        })
    }
}

impl<const N: usize> Module for Conv<N> {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        let smallest = self.smallest_input();
        let fits = (x.ndim() == N + 2 || x.ndim() == N + 1)
            && x.shape()[x.ndim() - N - 1] == self.in_channels()
            && x.shape()[x.ndim() - N..]
                .iter()
                .zip(&smallest)
                .all(|(d, s)| d >= s);
        if !fits {
            let names: &[&str] = if N == 1 { &["L"] } else { &["H", "W"] };
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                expected_input(self.in_channels(), names, &smallest),
            ));
        }
        Ok((self.op)(
            x,
            &self.weight,
            self.bias.as_ref(),
            &self.options,
        )?)
    }

    fn describe(&self) -> String {
        description(
            self.in_channels(),
            self.out_channels(),
            self.kernel_size(),
            &self.options,
            self.bias.is_some(),
        )
    }

    fn type_name(&self) -> &'static str {
        match N {
            1 => "Conv1d",
            2 => "Conv2d",
            3 => "Conv3d",
            _ => "Conv",
        }
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        out.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        out
    }
}
