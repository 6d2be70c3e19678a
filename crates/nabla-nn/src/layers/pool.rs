//! Pooling layers for `[N, C, H, W]` images (also unbatched `[C, H, W]`), as in `torch.nn`:
//! [`MaxPool2d`], [`AvgPool2d`] and [`AdaptiveAvgPool2d`]. None has parameters.

use super::conv::{sizes, smallest_size};
use crate::module::{Module, expect_float, invalid_input};
use crate::{Error, Result};
use nabla_core::Tensor;
use nabla_core::ops::window::PoolOptions;

/// What [`Module::describe`] says of a pool, also for layer specs that are not built:
/// `MaxPool2d(2x2)`, then the stride when it is not the kernel and the padding when not 0.
pub(crate) fn description(name: &str, options: &PoolOptions<2>) -> String {
    let mut text = format!("{name}({}", sizes(&options.kernel));
    if options.stride != options.kernel {
        text.push_str(&format!(", stride={}", sizes(&options.stride)));
    }
    if options.padding != [0, 0] {
        text.push_str(&format!(", padding={}", sizes(&options.padding)));
    }
    text.push(')');
    text
}

/// What is wrong with a pool's kernel, stride and padding, if anything (PyTorch's rules:
/// positive kernel and stride, padding at most half the kernel).
pub(crate) fn check_options(options: &PoolOptions<2>) -> std::result::Result<(), String> {
    if options.kernel.contains(&0) || options.stride.contains(&0) {
        return Err(format!(
            "the kernel size and stride must be at least 1, got kernel {} and stride {}",
            sizes(&options.kernel),
            sizes(&options.stride)
        ));
    }
    if (0..2).any(|i| options.padding[i] > options.kernel[i] / 2) {
        return Err(format!(
            "the padding ({}) must be at most half the kernel size ({})",
            sizes(&options.padding),
            sizes(&options.kernel)
        ));
    }
    Ok(())
}

/// The smallest `H` and `W` a pool's window fits.
fn smallest(options: &PoolOptions<2>) -> [usize; 2] {
    std::array::from_fn(|i| {
        smallest_size(options.kernel[i], options.dilation[i], options.padding[i])
    })
}

/// Checks that `x` is `[N, C, H, W]` or `[C, H, W]` of a float dtype with room for the window.
fn check_input(module: &dyn Module, x: &Tensor, smallest: [usize; 2]) -> Result<()> {
    expect_float(module, x)?;
    let ndim = x.ndim();
    let fits = (ndim == 3 || ndim == 4)
        && x.shape()[ndim - 2] >= smallest[0]
        && x.shape()[ndim - 1] >= smallest[1];
    if fits {
        return Ok(());
    }
    let mut expected = "[N, C, H, W] (or [C, H, W])".to_string();
    if smallest != [1, 1] {
        expected.push_str(&format!(
            " with H >= {} and W >= {}",
            smallest[0], smallest[1]
        ));
    }
    Err(invalid_input(
        module,
        format!("shape {:?}", x.shape()),
        expected,
    ))
}

/// Max pooling, `torch.nn.MaxPool2d`: the largest value of each window (the gradient goes to
/// the first maximum, as in PyTorch).
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::MaxPool2d, module::Module};
/// let pool = MaxPool2d::new([2, 2]);
/// assert_eq!(pool.describe(), "MaxPool2d(2x2)");
/// let x = Tensor::from_vec((0..16).map(f64::from).collect(), &[1, 1, 4, 4]);
/// assert_eq!(pool.forward(&x).to_vec::<f64>(), [5.0, 7.0, 13.0, 15.0]);
/// let err = pool.try_forward(&Tensor::zeros(&[1, 1, 1, 4], DType::F64)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: MaxPool2d(2x2): input has shape [1, 1, 1, 4], expected [N, C, H, W] (or [C, H, W]) with H >= 2 and W >= 2"
/// );
/// ```
#[derive(Clone, Debug)]
pub struct MaxPool2d {
    options: PoolOptions<2>,
}

impl MaxPool2d {
    /// Windows of `kernel` moving by their own size, no padding: `nn.MaxPool2d(kernel)`.
    #[track_caller]
    pub fn new(kernel: [usize; 2]) -> Self {
        crate::error::ok(Self::try_with_options(PoolOptions::new(kernel)))
    }

    /// A pool of these options (kernel, stride, padding, dilation, ceil mode), checked.
    pub fn try_with_options(options: PoolOptions<2>) -> Result<Self> {
        check_options(&options).map_err(|m| Error::invalid("layer", format!("MaxPool2d: {m}")))?;
        Ok(MaxPool2d { options })
    }

    /// The pool's options.
    pub fn options(&self) -> &PoolOptions<2> {
        &self.options
    }
}

impl Module for MaxPool2d {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, smallest(&self.options))?;
        Ok(x.try_max_pool2d(&self.options)?)
    }

    fn describe(&self) -> String {
        description("MaxPool2d", &self.options)
    }

    fn type_name(&self) -> &'static str {
        "MaxPool2d"
    }
}

/// Average pooling, `torch.nn.AvgPool2d`: the mean of each window (padding zeros counted, as
/// PyTorch's default `count_include_pad`).
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::AvgPool2d, module::Module};
/// let pool = AvgPool2d::new([2, 2]);
/// let x = Tensor::from_vec((0..16).map(f64::from).collect(), &[1, 4, 4]);
/// assert_eq!(pool.forward(&x).to_vec::<f64>(), [2.5, 4.5, 10.5, 12.5]);
/// assert_eq!(pool.describe(), "AvgPool2d(2x2)");
/// ```
#[derive(Clone, Debug)]
pub struct AvgPool2d {
    options: PoolOptions<2>,
}

impl AvgPool2d {
    /// Windows of `kernel` moving by their own size, no padding: `nn.AvgPool2d(kernel)`.
    #[track_caller]
    pub fn new(kernel: [usize; 2]) -> Self {
        crate::error::ok(Self::try_with_options(PoolOptions::new(kernel)))
    }

    /// A pool of these options (kernel, stride, padding, ceil mode, `count_include_pad`),
    /// checked.
    pub fn try_with_options(options: PoolOptions<2>) -> Result<Self> {
        check_options(&options).map_err(|m| Error::invalid("layer", format!("AvgPool2d: {m}")))?;
        Ok(AvgPool2d { options })
    }

    /// The pool's options.
    pub fn options(&self) -> &PoolOptions<2> {
        &self.options
    }
}

impl Module for AvgPool2d {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, smallest(&self.options))?;
        Ok(x.try_avg_pool2d(&self.options)?)
    }

    fn describe(&self) -> String {
        description("AvgPool2d", &self.options)
    }

    fn type_name(&self) -> &'static str {
        "AvgPool2d"
    }
}

/// Adaptive average pooling, `torch.nn.AdaptiveAvgPool2d`: any `H x W` to a fixed output size,
/// each output the mean of its share of the input (`1x1`: global average pooling). It lets a
/// network take images of any size.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::AdaptiveAvgPool2d, module::Module};
/// let gap = AdaptiveAvgPool2d::new([1, 1]);
/// assert_eq!(gap.describe(), "AdaptiveAvgPool2d(1x1)");
/// let x = Tensor::from_vec((0..8).map(f64::from).collect(), &[1, 2, 2, 2]);
/// assert_eq!(gap.forward(&x).to_vec::<f64>(), [1.5, 5.5]);
/// ```
#[derive(Clone, Debug)]
pub struct AdaptiveAvgPool2d {
    output_size: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pooling to `output_size` (each at least 1).
    pub fn try_new(output_size: [usize; 2]) -> Result<Self> {
        if output_size.contains(&0) {
            return Err(Error::invalid(
                "layer",
                format!(
                    "AdaptiveAvgPool2d: the output size must be at least 1x1, got {}",
                    sizes(&output_size)
                ),
            ));
        }
        Ok(AdaptiveAvgPool2d { output_size })
    }

    /// Panicking form of [`AdaptiveAvgPool2d::try_new`].
    #[track_caller]
    pub fn new(output_size: [usize; 2]) -> Self {
        crate::error::ok(Self::try_new(output_size))
    }

    /// The output's `[H, W]`.
    pub fn output_size(&self) -> [usize; 2] {
        self.output_size
    }
}

/// What [`Module::describe`] says of an adaptive average pool.
pub(crate) fn adaptive_description(output_size: [usize; 2]) -> String {
    format!("AdaptiveAvgPool2d({})", sizes(&output_size))
}

impl Module for AdaptiveAvgPool2d {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input(self, x, [1, 1])?;
        Ok(x.try_adaptive_avg_pool2d(self.output_size)?)
    }

    fn describe(&self) -> String {
        adaptive_description(self.output_size)
    }

    fn type_name(&self) -> &'static str {
        "AdaptiveAvgPool2d"
    }
}
