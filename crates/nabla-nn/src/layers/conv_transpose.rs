//! The transposed convolution, `torch.nn.ConvTranspose2d`, with PyTorch's weight layout
//! `[in, out/groups, kh, kw]` and initialisation.

use super::conv::{check_geometry, check_parts, default_parameters, expected_input, sizes, tail};
use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::ops::window::{ConvTransposeOptions, transposed_output_size};
use nabla_core::{DType, Generator, Tensor};

/// The description of a transposed convolution: `ConvTranspose2d(32 -> 16, 3x3, stride=2x2)`.
pub(crate) fn description(
    in_channels: usize,
    out_channels: usize,
    kernel: [usize; 2],
    options: &ConvTransposeOptions<2>,
    bias: bool,
) -> String {
    let mut extras = Vec::new();
    for (name, values, default) in [
        ("stride", options.stride, 1),
        ("padding", options.padding, 0),
        ("output_padding", options.output_padding, 0),
    ] {
        if values != [default; 2] {
            extras.push(format!("{name}={}", sizes(&values)));
        }
    }
    format!(
        "ConvTranspose2d({in_channels} -> {out_channels}, {}{})",
        sizes(&kernel),
        tail(extras, &options.dilation, options.groups, bias)
    )
}

/// What is wrong with the options of a transposed convolution beyond [`check_geometry`]: the
/// output padding must be smaller than the stride or the dilation (PyTorch's rule).
pub(crate) fn check_output_padding(
    options: &ConvTransposeOptions<2>,
) -> std::result::Result<(), String> {
    if (0..2).any(|i| options.output_padding[i] >= options.stride[i].max(options.dilation[i])) {
        return Err(format!(
            "the output padding ({}) must be smaller than the stride ({}) or the dilation ({})",
            sizes(&options.output_padding),
            sizes(&options.stride),
            sizes(&options.dilation)
        ));
    }
    Ok(())
}

/// The output size of a transposed convolution along one dim
/// ([`transposed_output_size`]), or why there is none: the padding removes everything, or the
/// size does not fit in 64 bits.
pub(crate) fn output_size(
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    output_padding: usize,
    dilation: usize,
) -> std::result::Result<usize, String> {
    let full = transposed_output_size(size, kernel, stride, padding, output_padding, dilation)
        .filter(|&s| s <= usize::MAX as i128)
        .ok_or("the output would have more than 2^64 elements along a dim")?;
    usize::try_from(full)
        .ok()
        .filter(|&s| s > 0 && size > 0)
        .ok_or_else(|| format!("the padding {padding} leaves no output"))
}

/// A transposed convolution, `torch.nn.ConvTranspose2d` (the gradient of a convolution with
/// respect to its input, used to upsample): `[N, Cin, H, W] -> [N, Cout, Hout, Wout]` (also
/// unbatched) with `Hout = (H−1)·stride − 2·padding + dilation·(kh−1) + output_padding + 1`;
/// weight `[Cin, Cout/groups, kh, kw]`, bias `[Cout]`.
///
/// ```
/// use nabla_core::ops::window::ConvTransposeOptions;
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::{layers::ConvTranspose2d, module::Module};
/// let options = ConvTransposeOptions { stride: [2, 2], ..Default::default() };
/// let up = ConvTranspose2d::new(16, 8, [2, 2], options, true, DType::F32, &mut Generator::new(0));
/// assert_eq!(up.describe(), "ConvTranspose2d(16 -> 8, 2x2, stride=2x2)");
/// assert_eq!(up.weight().shape(), &[16, 8, 2, 2]);
/// assert_eq!(up.forward(&Tensor::zeros(&[1, 16, 7, 7], DType::F32)).shape(), &[1, 8, 14, 14]);
/// let err = up.try_forward(&Tensor::zeros(&[1, 8, 7, 7], DType::F32)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: ConvTranspose2d(16 -> 8, 2x2, stride=2x2): input has shape [1, 8, 7, 7], expected [N, 16, H, W] (or [16, H, W])"
/// );
/// ```
pub struct ConvTranspose2d {
    weight: Tensor,
    bias: Option<Tensor>,
    options: ConvTransposeOptions<2>,
}

impl ConvTranspose2d {
    /// A transposed convolution with PyTorch's initialisation (its fan in is
    /// `out/groups·kh·kw`, from the weight's second dim, as PyTorch computes it).
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvTransposeOptions<2>,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        check_geometry(
            Some(in_channels),
            out_channels,
            options.groups,
            &kernel,
            &options.stride,
            &options.dilation,
        )
        .map_err(|m| Error::invalid("layer", format!("ConvTranspose2d: {m}")))?;
        let shape = [
            in_channels,
            out_channels / options.groups,
            kernel[0],
            kernel[1],
        ];
        let (weight, bias) = default_parameters(&shape, out_channels, bias, dtype, rng)?;
        Self::from_parts(weight, bias, options)
    }

    /// Panicking form of [`ConvTranspose2d::try_new`].
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvTransposeOptions<2>,
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

    /// A layer using these tensors as its parameters (shared, not copied, left as they are):
    /// weight `[in, out/groups, kh, kw]`, bias `[out]`.
    pub fn from_parts(
        weight: Tensor,
        bias: Option<Tensor>,
        options: ConvTransposeOptions<2>,
    ) -> Result<Self> {
        check_parts(
            "ConvTranspose2d",
            "in, out/groups, kh, kw",
            &weight,
            bias.as_ref(),
            |w| w.shape()[1] * options.groups,
        )?;
        let layer = ConvTranspose2d {
            weight,
            bias,
            options,
        };
        check_geometry(
            Some(layer.in_channels()),
            layer.out_channels(),
            options.groups,
            &layer.kernel_size(),
            &options.stride,
            &options.dilation,
        )
        .and_then(|()| check_output_padding(&options))
        .map_err(|m| Error::invalid("layer", format!("ConvTranspose2d: {m}")))?;
        Ok(layer)
    }

    /// Number of input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.shape()[0]
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[1] * self.options.groups
    }

    /// The kernel's size.
    pub fn kernel_size(&self) -> [usize; 2] {
        [self.weight.shape()[2], self.weight.shape()[3]]
    }

    /// Stride, padding, output padding, dilation and groups.
    pub fn options(&self) -> &ConvTransposeOptions<2> {
        &self.options
    }

    /// The weight, `[in, out/groups, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

impl Module for ConvTranspose2d {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        let o = &self.options;
        let kernel = self.kernel_size();
        let ndim = x.ndim();
        let fits = (ndim == 4 || ndim == 3)
            && x.shape()[ndim - 3] == self.in_channels()
            && (0..2).all(|i| {
                output_size(
                    x.shape()[ndim - 2 + i],
                    kernel[i],
                    o.stride[i],
                    o.padding[i],
                    o.output_padding[i],
                    o.dilation[i],
                )
                .is_ok()
            });
        if !fits {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                expected_input(self.in_channels(), &["H", "W"], &[1, 1]),
            ));
        }
        Ok(x.try_conv_transpose2d(&self.weight, self.bias.as_ref(), o)?)
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
        "ConvTranspose2d"
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        out.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        out
    }
}
