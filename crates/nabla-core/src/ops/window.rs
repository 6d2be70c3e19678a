//! The geometry of sliding windows, shared by convolutions and pools: their options, with
//! PyTorch's defaults, and the output size along one spatial dim, with an error naming the
//! operation when a window does not fit.

use crate::error::{Error, Result};

/// Padding of a convolution's spatial dims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding<const N: usize> {
    /// This many zeros before and after each spatial dim (`padding=(p, q)` in PyTorch).
    Explicit([usize; N]),
    /// Enough zeros that a stride-1 convolution keeps each spatial size (`padding="same"`):
    /// the total `dilation·(kernel-1)` per dim, split with the odd one after, as PyTorch does.
    Same,
}

/// Options of `conv1d`/`conv2d` (`N` spatial dims), with PyTorch's defaults: stride 1, no
/// padding, dilation 1, one group.
///
/// ```
/// use nabla_core::ops::window::{ConvOptions, Padding};
/// let o = ConvOptions::<2> { stride: [2, 2], padding: Padding::Explicit([1, 1]), ..Default::default() };
/// assert_eq!((o.dilation, o.groups), ([1, 1], 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions<const N: usize> {
    pub stride: [usize; N],
    pub padding: Padding<N>,
    pub dilation: [usize; N],
    pub groups: usize,
}

impl<const N: usize> Default for ConvOptions<N> {
    fn default() -> Self {
        ConvOptions {
            stride: [1; N],
            padding: Padding::Explicit([0; N]),
            dilation: [1; N],
            groups: 1,
        }
    }
}

/// Options of `conv_transpose2d` (`N` spatial dims), PyTorch's `ConvTranspose2d` arguments and
/// defaults: stride 1, padding 0, output padding 0, dilation 1, one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTransposeOptions<const N: usize> {
    pub stride: [usize; N],
    pub padding: [usize; N],
    pub output_padding: [usize; N],
    pub dilation: [usize; N],
    pub groups: usize,
}

impl<const N: usize> Default for ConvTransposeOptions<N> {
    fn default() -> Self {
        ConvTransposeOptions {
            stride: [1; N],
            padding: [0; N],
            output_padding: [0; N],
            dilation: [1; N],
            groups: 1,
        }
    }
}

/// Options of `max_pool2d` and `avg_pool2d` (`N` spatial dims). As in PyTorch, the stride
/// defaults to the kernel size; padding is implicit (minus infinity for max, zeros for
/// average) and at most half the kernel.
///
/// ```
/// use nabla_core::ops::window::PoolOptions;
/// let o = PoolOptions::<2>::new([2, 2]);
/// assert_eq!((o.stride, o.padding, o.ceil_mode), ([2, 2], [0, 0], false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolOptions<const N: usize> {
    pub kernel: [usize; N],
    pub stride: [usize; N],
    pub padding: [usize; N],
    /// Spacing of the window's taps (max pooling only; average pooling refuses anything but 1).
    pub dilation: [usize; N],
    /// Output sizes rounded up rather than down, keeping windows that start inside the input
    /// or its left padding.
    pub ceil_mode: bool,
    /// Average pooling counts the padding zeros in the divisor (PyTorch's default, `true`).
    pub count_include_pad: bool,
}

impl<const N: usize> PoolOptions<N> {
    /// A `kernel`-sized window moving by its own size, no padding: `nn.MaxPool2d(kernel)`.
    pub fn new(kernel: [usize; N]) -> Self {
        PoolOptions {
            kernel,
            stride: kernel,
            padding: [0; N],
            dilation: [1; N],
            ceil_mode: false,
            count_include_pad: true,
        }
    }
}

/// The number of window positions along one dim of `size` elements, PyTorch's formula:
/// `⌊(size + 2·padding − dilation·(kernel−1) − 1) / stride⌋ + 1`, rounded up instead with
/// `ceil_mode` (a last window that would start in the right padding is dropped). An error
/// naming `op` when a zero stride, kernel or dilation is given or when no window fits.
///
/// ```
/// use nabla_core::ops::window::output_size;
/// assert_eq!(output_size("conv2d", 28, 3, 1, 0, 1, false).unwrap(), 26);
/// assert_eq!(output_size("max_pool2d", 5, 2, 2, 0, 1, true).unwrap(), 3);
/// assert!(output_size("conv2d", 2, 3, 1, 0, 1, false).is_err());
/// assert!(output_size("conv2d", 28, usize::MAX, 1, 0, 2, false).is_err());
/// ```
pub fn output_size(
    op: &'static str,
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    ceil_mode: bool,
) -> Result<usize> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "kernel size, stride and dilation must be positive, got kernel {kernel}, stride {stride}, dilation {dilation}"
            ),
        ));
    }
    let padded = size.saturating_add(padding.saturating_mul(2));
    let span = dilation
        .checked_mul(kernel - 1)
        .and_then(|s| s.checked_add(1))
        .ok_or_else(|| {
            Error::invalid(
                op,
                format!(
                    "the window of kernel {kernel} and dilation {dilation} spans more than 2^64 elements"
                ),
            )
        })?;
    if padded < span {
        return Err(Error::invalid(
            op,
            format!(
                "the window spans {span} elements (kernel {kernel}, dilation {dilation}) but the input has {size} with padding {padding} on each side"
            ),
        ));
    }
    let room = padded - span;
    let mut out = if ceil_mode {
        room.div_ceil(stride) + 1
    } else {
        room / stride + 1
    };
    if ceil_mode && (out - 1) * stride >= size.saturating_add(padding) {
        out -= 1;
    }
    Ok(out)
}

/// The output size of a transposed convolution along one dim of `size` elements, PyTorch's
/// `(size−1)·stride − 2·padding + dilation·(kernel−1) + output_padding + 1`, signed: zero or
/// less when the padding removes everything. `None` when it lies beyond 128-bit arithmetic.
///
/// ```
/// use nabla_core::ops::window::transposed_output_size;
/// assert_eq!(transposed_output_size(7, 4, 2, 1, 0, 1), Some(14));
/// assert_eq!(transposed_output_size(1, 1, 1, 1, 0, 1), Some(-1));
/// assert_eq!(transposed_output_size(usize::MAX, 2, usize::MAX, 0, 0, 1), None);
/// ```
pub fn transposed_output_size(
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    output_padding: usize,
    dilation: usize,
) -> Option<i128> {
    let [size, kernel, stride, padding, output_padding, dilation] =
        [size, kernel, stride, padding, output_padding, dilation].map(|v| v as i128);
    (size - 1)
        .checked_mul(stride)?
        .checked_sub(2 * padding)?
        .checked_add(dilation.checked_mul(kernel - 1)?)?
        .checked_add(output_padding + 1)
}
