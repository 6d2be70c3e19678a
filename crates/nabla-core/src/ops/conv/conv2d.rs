//! `conv2d` and `conv1d` (a 2-d convolution over a unit height), with PyTorch's arguments:
//! stride, padding (explicit or `"same"`), dilation, groups, an optional bias, NCHW and
//! unbatched inputs. Gradients: the input's is the transposed convolution of the output's
//! gradient with the weight, the weight's a convolution of the input with the output's gradient
//! ([`super::transpose`], [`super::weight`]), each an operation with its own rule, so that
//! gradients of gradients follow.

use super::geometry::Geometry;
use super::transpose::convolution_input;
use super::weight::convolution_weight;
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::ops::window::{ConvOptions, Padding, output_size};
use crate::ops::{Save, check_dtypes, ok, record};
use crate::tensor::Tensor;

struct ConvolutionBackward(Geometry);

impl Backward for ConvolutionBackward {
    fn name(&self) -> &'static str {
        "ConvolutionBackward"
    }
    fn formula(&self, inputs: usize, _: Option<&At>) -> Option<Formula> {
        let mut locals = vec![
            Local::map("conv_transpose2d({g}, {1})", Binding::Atom),
            Local::map("conv2d_weight({0}, {g})", Binding::Atom),
        ];
        let output = if inputs == 3 {
            locals.push(Local::map("Σ_batch,positions {g}", Binding::Product));
            "conv2d({0}, {1}) + {2}"
        } else {
            "conv2d({0}, {1})"
        };
        Some(Formula::new(output, Binding::Sum, "conv2d", locals))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let (x, w) = (&saved[0], &saved[1]);
        let mut grads: Gradients = smallvec::smallvec![
            needs[0].then(|| ok(convolution_input(grad, w, &self.0))),
            needs[1].then(|| ok(convolution_weight(x, grad, &self.0))),
        ];
        if let Some(&needs_bias) = needs.get(2) {
            grads.push(needs_bias.then(|| grad.sum_dims(&[0, 2, 3], false)));
        }
        grads
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (x, w) = (&saved[0], &saved[1]);
        let through_x = convolution(&tangents[0], w, tangents.get(2), &self.0)?;
        through_x.try_add(&convolution(x, &tangents[1], None, &self.0)?)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(convolution(&inputs[0], &inputs[1], inputs.get(2), &self.0))
    }
}

/// The recorded convolution of a batched `x` with `w` and an optional `bias`, whose shapes
/// `g` describes (checked by the caller).
pub(super) fn convolution(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    g: &Geometry,
) -> Result<Tensor> {
    const OP: &str = "conv2d";
    let shape = g.output_shape();
    crate::limits::allocation(OP, &shape, x.dtype())?;
    let out = dispatch_float!(OP, x.dtype(), T => {
        let data = x.try_read(OP, |x: &[T]| {
            w.try_read(OP, |w: &[T]| match bias {
                Some(b) => b.try_read(OP, |b: &[T]| super::kernels::forward(g, x, w, Some(b))),
                None => Ok(super::kernels::forward(g, x, w, None)),
            })
        })???;
        Tensor::from_data(data, &shape)
    });
    let save = [Save::Input(0), Save::Input(1)];
    let backward = ConvolutionBackward(*g);
    Ok(match bias {
        Some(b) => record(out, &[x, w, b], backward, &save),
        None => record(out, &[x, w], backward, &save),
    })
}

/// An error naming `op` when the output of the convolution `g` or the column matrix of one
/// of its groups could not be held in memory (checked in that order: the output's dims bound
/// the column matrix's).
pub(super) fn check_sizes(op: &'static str, g: &Geometry, dtype: crate::DType) -> Result<()> {
    crate::limits::allocation(op, &g.output_shape(), dtype)?;
    crate::limits::allocation(op, &g.input_shape(), dtype)?;
    crate::limits::allocation(op, &[g.patch(), g.positions()], dtype)?;
    Ok(())
}

/// The largest padding, stride or window span the kernels take: their index arithmetic is in
/// `isize` with room to spare, and no tensor that fits in memory comes near it.
const MAX_EXTENT: usize = (isize::MAX / 4) as usize;

/// An error naming `op` unless every padding, stride and window span (`dilation·(kernel−1)`)
/// is below [`MAX_EXTENT`].
pub(super) fn check_extents(
    op: &'static str,
    padding: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    kernel: [usize; 2],
) -> Result<()> {
    for i in 0..2 {
        let span = dilation[i].checked_mul(kernel[i].saturating_sub(1));
        if span.is_none_or(|s| s > MAX_EXTENT) || padding[i] > MAX_EXTENT || stride[i] > MAX_EXTENT
        {
            return Err(Error::invalid(
                op,
                format!(
                    "padding {}, stride {} and the window's span (dilation {} × (kernel {} − 1)) \
                     must each be at most {MAX_EXTENT}",
                    padding[i], stride[i], dilation[i], kernel[i]
                ),
            ));
        }
    }
    Ok(())
}

/// An error naming `op` unless `bias` is absent or `[channels]`.
pub(super) fn check_bias(
    op: &'static str,
    bias: Option<&Tensor>,
    weight: &[usize],
    channels: usize,
) -> Result<()> {
    match bias {
        Some(b) if b.shape() != [channels] => Err(Error::shapes(
            op,
            weight,
            b.shape(),
            format!("the bias must be [{channels}], one value per output channel"),
        )),
        _ => Ok(()),
    }
}

/// The geometry of a convolution named `op` of a batched input `x` (`[N, C, H, W]`) with a
/// weight `w` (`[Cout, C/groups, kh, kw]`), or an error naming the shapes the caller was
/// given (`shown`).
pub(super) fn plan(
    op: &'static str,
    x: [usize; 4],
    w: [usize; 4],
    o: &ConvOptions<2>,
    shown: (&[usize], &[usize]),
) -> Result<Geometry> {
    let [batch, in_channels, h, wd] = x;
    let [out_channels, group_in, kh, kw] = w;
    let groups = o.groups;
    let mismatch = |reason: String| Error::shapes(op, shown.0, shown.1, reason);
    if groups == 0 {
        return Err(Error::invalid(op, "groups must be positive, got 0"));
    }
    if in_channels % groups != 0 || out_channels % groups != 0 {
        return Err(mismatch(format!(
            "{groups} groups must divide both the {in_channels} input channels and the \
             {out_channels} output channels"
        )));
    }
    if in_channels / groups != group_in {
        let per_group = if groups > 1 {
            format!(" ({group_in} per group × {groups} groups)")
        } else {
            String::new()
        };
        return Err(mismatch(format!(
            "the weight expects {} input channels{per_group} but the input has {in_channels}",
            group_in.saturating_mul(groups)
        )));
    }
    let explicit = match o.padding {
        Padding::Explicit(p) => p,
        Padding::Same => [0, 0],
    };
    check_extents(op, explicit, o.stride, o.dilation, [kh, kw])?;
    let padding = match o.padding {
        Padding::Explicit(p) => p,
        Padding::Same => {
            if o.stride != [1, 1] {
                return Err(Error::invalid(
                    op,
                    format!(
                        "padding \"same\" needs stride 1, got stride {:?}",
                        &o.stride[..]
                    ),
                ));
            }
            // PyTorch puts the odd zero of an odd total after: only the zeros before matter
            // here, the output keeps the input's size.
            [
                o.dilation[0] * (kh.max(1) - 1) / 2,
                o.dilation[1] * (kw.max(1) - 1) / 2,
            ]
        }
    };
    let size = |i: usize, n: usize, k: usize| match o.padding {
        Padding::Same if k > 0 && o.dilation[i] > 0 => Ok(n),
        _ => {
            output_size(op, n, k, o.stride[i], padding[i], o.dilation[i], false).map_err(
                |e| match e {
                    Error::InvalidArgument { message, .. } => {
                        let axis = match (op, i) {
                            ("conv1d", _) => "length",
                            (_, 0) => "height",
                            _ => "width",
                        };
                        mismatch(format!("{message}, along the {axis}"))
                    }
                    e => e,
                },
            )
        }
    };
    let output = [size(0, h, kh)?, size(1, wd, kw)?];
    Ok(Geometry {
        batch,
        in_channels,
        out_channels,
        groups,
        input: [h, wd],
        output,
        kernel: [kh, kw],
        stride: o.stride,
        padding,
        dilation: o.dilation,
    })
}

/// The batched 4-d view of an input of rank `rank` (unbatched when one less), or an error.
pub(super) fn batched(op: &'static str, x: &Tensor, rank: usize) -> Result<(Tensor, bool)> {
    match x.ndim() {
        n if n == rank => Ok((x.clone(), false)),
        n if n + 1 == rank => Ok((x.try_unsqueeze(0)?, true)),
        _ => Err(Error::invalid(
            op,
            format!(
                "the input must be [N, C, {spatial}] or unbatched [C, {spatial}], got shape {:?}",
                x.shape(),
                spatial = if rank == 4 { "H, W" } else { "L" }
            ),
        )),
    }
}

impl Tensor {
    /// 2-d convolution (cross-correlation, as in PyTorch) of an `[N, Cin, H, W]` input (or an
    /// unbatched `[Cin, H, W]`) with a weight `[Cout, Cin/groups, kh, kw]` and an optional bias
    /// `[Cout]`: `torch.nn.functional.conv2d`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_core::ops::window::{ConvOptions, Padding};
    /// let x = Tensor::from_vec((0..16).map(f64::from).collect(), &[1, 1, 4, 4]);
    /// let w = Tensor::ones(&[1, 1, 2, 2], nabla_core::DType::F64);
    /// let y = x.conv2d(&w, None, &ConvOptions { stride: [2, 2], ..Default::default() });
    /// assert_eq!(y.to_vec::<f64>(), vec![10.0, 18.0, 42.0, 50.0]);
    /// let same = ConvOptions { padding: Padding::Same, ..Default::default() };
    /// assert_eq!(x.conv2d(&w, None, &same).shape(), &[1, 1, 4, 4]);
    /// ```
    pub fn try_conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvOptions<2>,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d";
        check_dtypes(
            OP,
            self,
            &[weight].into_iter().chain(bias).collect::<Vec<_>>(),
        )?;
        let (x, unbatched) = batched(OP, self, 4)?;
        let Ok(w) = <[usize; 4]>::try_from(weight.shape()) else {
            return Err(Error::invalid(
                OP,
                format!(
                    "the weight must be [Cout, Cin/groups, kh, kw], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        let &[n, c, h, wd] = x.shape() else {
            unreachable!("batched gives 4 dims")
        };
        let g = plan(
            OP,
            [n, c, h, wd],
            w,
            options,
            (self.shape(), weight.shape()),
        )?;
        check_bias(OP, bias, weight.shape(), g.out_channels)?;
        check_sizes(OP, &g, self.dtype())?;
        let y = convolution(&x, weight, bias, &g)?;
        if unbatched { y.try_squeeze(0) } else { Ok(y) }
    }

    /// Panicking form of [`Tensor::try_conv2d`].
    #[track_caller]
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvOptions<2>,
    ) -> Tensor {
        ok(self.try_conv2d(weight, bias, options))
    }

    /// 1-d convolution of an `[N, Cin, L]` input (or an unbatched `[Cin, L]`) with a weight
    /// `[Cout, Cin/groups, k]` and an optional bias `[Cout]`: `torch.nn.functional.conv1d`.
    /// Runs as a 2-d convolution over a unit height.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_core::ops::window::{ConvOptions, Padding};
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[1, 4]);
    /// let w = Tensor::from_vec(vec![1.0f64, -1.0], &[1, 1, 2]);
    /// let o = ConvOptions { padding: Padding::Explicit([1]), ..Default::default() };
    /// assert_eq!(x.conv1d(&w, None, &o).to_vec::<f64>(), vec![-1.0, -1.0, -1.0, -1.0, 4.0]);
    /// ```
    pub fn try_conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvOptions<1>,
    ) -> Result<Tensor> {
        const OP: &str = "conv1d";
        check_dtypes(
            OP,
            self,
            &[weight].into_iter().chain(bias).collect::<Vec<_>>(),
        )?;
        let (x, unbatched) = batched(OP, self, 3)?;
        let &[cout, cin, k] = weight.shape() else {
            return Err(Error::invalid(
                OP,
                format!(
                    "the weight must be [Cout, Cin/groups, k], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        let &[n, c, l] = x.shape() else {
            unreachable!("batched gives 3 dims")
        };
        let o = ConvOptions {
            stride: [1, options.stride[0]],
            padding: match options.padding {
                Padding::Explicit([p]) => Padding::Explicit([0, p]),
                Padding::Same => Padding::Same,
            },
            dilation: [1, options.dilation[0]],
            groups: options.groups,
        };
        let g = plan(
            OP,
            [n, c, 1, l],
            [cout, cin, 1, k],
            &o,
            (self.shape(), weight.shape()),
        )?;
        check_bias(OP, bias, weight.shape(), cout)?;
        check_sizes(OP, &g, self.dtype())?;
        let y = convolution(&x.try_unsqueeze(2)?, &weight.try_unsqueeze(2)?, bias, &g)?
            .try_squeeze(2)?;
        if unbatched { y.try_squeeze(0) } else { Ok(y) }
    }

    /// Panicking form of [`Tensor::try_conv1d`].
    #[track_caller]
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvOptions<1>,
    ) -> Tensor {
        ok(self.try_conv1d(weight, bias, options))
    }
}
