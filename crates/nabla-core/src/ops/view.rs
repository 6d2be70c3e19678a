//! Views share storage and only change the layout: reshape, permute/transpose, narrow, expand,
//! squeeze/unsqueeze. Their backward rules undo the view on the gradient. Also `contiguous`
//! and `to_dtype`, which copy.

use super::{ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::dispatch_any;
use crate::shape::{Dims, Layout, contiguous_strides, existing_dim, normalize_dim};
use crate::tensor::Tensor;

/// Backward of the views that only rearrange dims of the same elements: reshape the gradient.
struct ReshapeBackward {
    name: &'static str,
    input_shape: Dims,
    output_shape: Dims,
}

impl Backward for ReshapeBackward {
    fn name(&self) -> &'static str {
        self.name
    }
    fn rule(&self) -> &'static str {
        "ReshapeBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let output = format!("{{0}} reshaped to {:?}", self.output_shape.as_slice());
        let back = format!("{{g}} reshaped to {:?}", self.input_shape.as_slice());
        let inputs = vec![Local::map(&back, Binding::Sum)];
        Some(Formula::new(&output, Binding::Sum, "reshape", inputs))
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(grad.reshape(&self.input_shape))]
    }
    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_reshape(&self.output_shape)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_reshape(&self.output_shape))
    }
}

struct PermuteBackward {
    dims: Dims,
    inverse: Dims,
}

impl Backward for PermuteBackward {
    fn name(&self) -> &'static str {
        "PermuteBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        if self.dims.as_slice() == [1, 0] {
            let inputs = vec![Local::map("{g^}ᵀ", Binding::Power)];
            return Some(Formula::new("{0^}ᵀ", Binding::Power, "ᵀ", inputs));
        }
        let output = format!("{{0}} permuted by {:?}", self.dims.as_slice());
        let back = format!("{{g}} permuted by {:?}", self.inverse.as_slice());
        let inputs = vec![Local::map(&back, Binding::Sum)];
        Some(Formula::new(&output, Binding::Sum, "permute", inputs))
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(grad.permute(&self.inverse))]
    }
    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_permute(&self.dims)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_permute(&self.dims))
    }
}

/// Gradient passes unchanged (the engine sums expanded dims back down): `expand` (with the
/// shape it expanded to) and the copy of `contiguous`.
struct IdentityBackward {
    name: &'static str,
    expanded: Option<Dims>,
}

impl Backward for IdentityBackward {
    fn name(&self) -> &'static str {
        self.name
    }
    fn rule(&self) -> &'static str {
        "IdentityBackward"
    }
    fn formula(&self, _: usize, at: Option<&At>) -> Option<Formula> {
        let one = at.map(|at| Tensor::scalar(1.0).to_dtype(at.output.dtype()));
        let inputs = vec![Local::elementwise("1", Binding::Atom, one)];
        Some(match &self.expanded {
            Some(shape) => {
                let output = format!("{{0}} expanded to {:?}", shape.as_slice());
                Formula::new(&output, Binding::Sum, "expand", inputs)
            }
            None => Formula::new("{0}", Binding::Sum, "copy", inputs),
        })
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(grad.clone())]
    }
    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        // An expanded tangent is broadcast to the output's shape by the caller.
        Ok(tangents[0].clone())
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(match &self.expanded {
            Some(shape) => inputs[0].try_expand(shape),
            None => inputs[0].try_contiguous(),
        })
    }
}

struct NarrowBackward {
    dim: usize,
    start: usize,
    len: usize,
    input_size: usize,
}

impl Backward for NarrowBackward {
    fn name(&self) -> &'static str {
        "NarrowBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let (dim, start, end) = (self.dim, self.start, self.start + self.len);
        let output = format!("{{0}}[{start}..{end}] along dim {dim}");
        let back = format!(
            "{{g}} at [{start}..{end}] along dim {dim}, zeros elsewhere (size {})",
            self.input_size
        );
        let inputs = vec![Local::map(&back, Binding::Sum)];
        Some(Formula::new(&output, Binding::Atom, "narrow", inputs))
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        // Embed the gradient in zeros: [zeros before | grad | zeros after] along `dim`.
        let mut parts = Vec::with_capacity(3);
        let len = grad.shape()[self.dim];
        let zeros = |size: usize| {
            let mut shape = grad.dims_vec();
            shape[self.dim] = size;
            Tensor::zeros(&shape, grad.dtype())
        };
        if self.start > 0 {
            parts.push(zeros(self.start));
        }
        let after = self.input_size - self.start - len;
        let tail = (after > 0).then(|| zeros(after));
        parts.push(grad.clone());
        parts.extend(tail);
        let refs: Vec<&Tensor> = parts.iter().collect();
        smallvec::smallvec![Some(Tensor::cat(&refs, self.dim as isize))]
    }
    fn accumulate_into(&self, buffer: &mut Option<Tensor>, shape: &[usize], grad: &Tensor) -> bool {
        // A tangent needs the recorded sum (`add_blocks_private` refuses it): no buffer to make.
        if grad.0.tangent.is_some() {
            return false;
        }
        let inner: usize = shape[self.dim + 1..].iter().product();
        let outer: usize = shape[..self.dim].iter().product();
        let blocks = (
            outer,
            self.input_size * inner,
            self.start * inner,
            self.len * inner,
        );
        let fresh = buffer.is_none();
        let mut target = match buffer.take() {
            Some(b) => b,
            None => Tensor::zeros(shape, grad.dtype()),
        };
        let added = target.add_blocks_private(grad, blocks);
        if added || !fresh {
            *buffer = Some(target);
        }
        added
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_narrow(self.dim as isize, self.start, self.len)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_narrow(self.dim as isize, self.start, self.len))
    }
}

/// Casts between float types: the gradient goes back to the input's type, the tangent on to
/// the output's.
struct ToDtypeBackward {
    input: DType,
    output: DType,
}

impl Backward for ToDtypeBackward {
    fn name(&self) -> &'static str {
        "ToCopyBackward"
    }
    fn rule(&self) -> &'static str {
        "ToDtypeBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let output = format!("{{0}} as {}", self.output);
        let inputs = vec![Local::map(
            &format!("{{g}} as {}", self.input),
            Binding::Sum,
        )];
        Some(Formula::new(&output, Binding::Sum, "cast", inputs))
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(grad.to_dtype(self.input))]
    }
    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_to_dtype(self.output)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_to_dtype(self.output))
    }
}

/// Strides that lay `new` over the same elements as `old` with `strides`, in the same row-major
/// order, without copying (PyTorch's `computeStride`): each run of old dims that is contiguous
/// within itself must split or merge into whole new dims. `None` when no such strides exist
/// (a transposed matrix flattened, say) and reshaping must copy.
fn view_strides(old: &[usize], strides: &[usize], new: &[usize]) -> Option<Dims> {
    if old.iter().product::<usize>() == 0 || old.is_empty() {
        return Some(contiguous_strides(new));
    }
    let mut out: Dims = smallvec::smallvec![0; new.len()];
    let mut view_d = new.len();
    let mut chunk_base = *strides.last()?;
    let (mut tensor_numel, mut view_numel) = (1usize, 1usize);
    for d in (0..old.len()).rev() {
        tensor_numel *= old[d];
        let chunk_ends = d == 0
            || (old[d - 1] != 1 && Some(strides[d - 1]) != tensor_numel.checked_mul(chunk_base));
        if chunk_ends {
            while view_d > 0 && (view_numel < tensor_numel || new[view_d - 1] == 1) {
                out[view_d - 1] = view_numel.checked_mul(chunk_base)?;
                view_numel *= new[view_d - 1];
                view_d -= 1;
            }
            if view_numel != tensor_numel {
                return None;
            }
            if d > 0 {
                chunk_base = strides[d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    (view_d == 0).then_some(out)
}

impl Tensor {
    fn view_op(&self, layout: Layout, backward: impl Backward + 'static) -> Tensor {
        record(self.view_with(layout), &[self], backward, &[])
    }

    fn reshape_named(&self, name: &'static str, shape: &[usize]) -> Result<Tensor> {
        if crate::limits::numel("reshape", shape)? != self.numel() {
            return Err(Error::ElementCount {
                op: "reshape",
                len: self.numel(),
                shape: shape.into(),
            });
        }
        let backward = ReshapeBackward {
            name,
            input_shape: self.dims_vec(),
            output_shape: shape.into(),
        };
        let l = self.layout();
        if let Some(strides) = view_strides(&l.shape, &l.strides, shape) {
            let layout = Layout {
                shape: shape.into(),
                strides,
                offset: l.offset,
            };
            return Ok(self.view_op(layout, backward));
        }
        let copy = self.try_contiguous_named("reshape")?;
        Ok(copy.view_op(Layout::contiguous(shape), backward))
    }

    /// The same elements in a new shape: a view whenever the strides allow (always for a
    /// contiguous tensor, never needing a copy to add or drop size-1 dims), else a copy; see
    /// [`Tensor::reshape_infer`] to infer one dim.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::arange(0.0f32, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(t.shape(), &[2, 3]);
    /// ```
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        self.reshape_named("ReshapeBackward", shape)
    }

    /// Panicking form of [`Tensor::try_reshape`].
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        ok(self.try_reshape(shape))
    }

    /// Reshape where one entry may be `-1`, inferred from the others.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert_eq!(Tensor::zeros(&[4, 6], nabla_core::DType::F32).reshape_infer(&[-1, 3]).shape(), &[8, 3]);
    /// ```
    pub fn try_reshape_infer(&self, shape: &[isize]) -> Result<Tensor> {
        let given: Dims = shape
            .iter()
            .filter(|&&d| d >= 0)
            .map(|&d| d as usize)
            .collect();
        let known = crate::limits::numel("reshape", &given)?;
        let unknown = shape.iter().filter(|&&d| d < 0).count();
        if unknown > 1 || (unknown == 1 && (known == 0 || !self.numel().is_multiple_of(known))) {
            return Err(Error::invalid(
                "reshape",
                format!("cannot infer shape {shape:?} for {} elements", self.numel()),
            ));
        }
        let resolved: Dims = shape
            .iter()
            .map(|&d| {
                if d < 0 {
                    self.numel() / known.max(1)
                } else {
                    d as usize
                }
            })
            .collect();
        self.try_reshape(&resolved)
    }

    /// Panicking form of [`Tensor::try_reshape_infer`].
    #[track_caller]
    pub fn reshape_infer(&self, shape: &[isize]) -> Tensor {
        ok(self.try_reshape_infer(shape))
    }

    /// Dims reordered: output dim `i` is input dim `dims[i]`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::zeros(&[2, 3, 4], DType::F32).permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
    /// ```
    pub fn try_permute(&self, dims: &[usize]) -> Result<Tensor> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if dims.len() != n
            || dims
                .iter()
                .any(|&d| d >= n || std::mem::replace(&mut seen[d], true))
        {
            return Err(Error::invalid(
                "permute",
                format!(
                    "{dims:?} is not a permutation of the {n} dims of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let l = self.layout();
        let layout = Layout {
            shape: dims.iter().map(|&d| l.shape[d]).collect(),
            strides: dims.iter().map(|&d| l.strides[d]).collect(),
            offset: l.offset,
        };
        let mut inverse: Dims = smallvec::smallvec![0; n];
        for (i, &d) in dims.iter().enumerate() {
            inverse[d] = i;
        }
        Ok(self.view_op(
            layout,
            PermuteBackward {
                dims: dims.into(),
                inverse,
            },
        ))
    }

    /// Panicking form of [`Tensor::try_permute`].
    #[track_caller]
    pub fn permute(&self, dims: &[usize]) -> Tensor {
        ok(self.try_permute(dims))
    }

    /// Swaps two dims (negative counts from the end).
    pub fn try_transpose(&self, dim0: isize, dim1: isize) -> Result<Tensor> {
        let a = normalize_dim("transpose", dim0, self.shape())?;
        let b = normalize_dim("transpose", dim1, self.shape())?;
        if self.ndim() == 0 {
            return self.try_permute(&[]);
        }
        let mut dims: Dims = (0..self.ndim()).collect();
        dims.swap(a, b);
        self.try_permute(&dims)
    }

    /// Panicking form of [`Tensor::try_transpose`].
    #[track_caller]
    pub fn transpose(&self, dim0: isize, dim1: isize) -> Tensor {
        ok(self.try_transpose(dim0, dim1))
    }

    /// Transpose of a matrix (swaps the last two dims); an error for fewer than 2 dims.
    pub fn try_t(&self) -> Result<Tensor> {
        self.try_transpose(-2, -1)
    }

    /// Panicking form of [`Tensor::try_t`].
    #[track_caller]
    pub fn t(&self) -> Tensor {
        ok(self.try_t())
    }

    /// `len` entries of `dim` starting at `start`, as a view.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::arange(0.0f64, 5.0, 1.0).narrow(0, 1, 3);
    /// assert_eq!(t.to_vec::<f64>(), vec![1.0, 2.0, 3.0]);
    /// ```
    pub fn try_narrow(&self, dim: isize, start: usize, len: usize) -> Result<Tensor> {
        let d = existing_dim("narrow", dim, self.shape())?;
        let size = self.shape()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::invalid(
                "narrow",
                format!(
                    "start {start} plus length {len} exceeds size {size} of dim {d} in shape {:?}",
                    self.shape()
                ),
            ));
        }
        let mut layout = self.layout().clone();
        // Within bounds for a layout that addresses anything; an empty one may have dims whose
        // strides span more than its storage, so its offset is computed without overflow too.
        layout.offset = start
            .checked_mul(layout.strides[d])
            .and_then(|shift| shift.checked_add(layout.offset))
            .ok_or_else(|| {
                Error::invalid(
                    "narrow",
                    format!(
                        "start {start} of dim {d} in shape {:?} lies beyond any storage",
                        self.shape()
                    ),
                )
            })?;
        layout.shape[d] = len;
        Ok(self.view_op(
            layout,
            NarrowBackward {
                dim: d,
                start,
                len,
                input_size: size,
            },
        ))
    }

    /// Panicking form of [`Tensor::try_narrow`].
    #[track_caller]
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Tensor {
        ok(self.try_narrow(dim, start, len))
    }

    /// A view broadcast to `shape` (size-1 dims repeat without copying; new dims go in front).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0], &[2, 1]).expand(&[2, 3]);
    /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    /// ```
    pub fn try_expand(&self, shape: &[usize]) -> Result<Tensor> {
        let l = self.layout();
        let fits = shape.len() >= l.shape.len()
            && l.shape
                .iter()
                .rev()
                .zip(shape.iter().rev())
                .all(|(&a, &b)| a == b || a == 1);
        if !fits {
            return Err(Error::shapes(
                "expand",
                self.shape(),
                shape,
                "cannot broadcast",
            ));
        }
        crate::limits::numel("expand", shape)?;
        let layout = Layout {
            shape: shape.into(),
            strides: crate::shape::broadcast_strides(l, shape),
            offset: l.offset,
        };
        Ok(self.view_op(
            layout,
            IdentityBackward {
                name: "ExpandBackward",
                expanded: Some(shape.into()),
            },
        ))
    }

    /// Panicking form of [`Tensor::try_expand`].
    #[track_caller]
    pub fn expand(&self, shape: &[usize]) -> Tensor {
        ok(self.try_expand(shape))
    }

    /// Alias of [`Tensor::expand`], as in NumPy.
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        self.expand(shape)
    }

    /// Removes dim `dim`, which must have size 1.
    pub fn try_squeeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("squeeze", dim, self.shape())?;
        if self.ndim() == 0 {
            return self.reshape_named("SqueezeBackward", &[]);
        }
        if self.shape()[d] != 1 {
            return Err(Error::invalid(
                "squeeze",
                format!(
                    "dim {d} of shape {:?} has size {}, not 1",
                    self.shape(),
                    self.shape()[d]
                ),
            ));
        }
        let mut shape = self.dims_vec();
        shape.remove(d);
        self.reshape_named("SqueezeBackward", &shape)
    }

    /// Panicking form of [`Tensor::try_squeeze`].
    #[track_caller]
    pub fn squeeze(&self, dim: isize) -> Tensor {
        ok(self.try_squeeze(dim))
    }

    /// Inserts a size-1 dim at `dim` (which may equal `ndim`, or be negative).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::zeros(&[3], DType::F32).unsqueeze(0).shape(), &[1, 3]);
    /// assert_eq!(Tensor::zeros(&[3], DType::F32).unsqueeze(-1).shape(), &[3, 1]);
    /// ```
    pub fn try_unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let mut extended = self.dims_vec();
        extended.push(1);
        let d = normalize_dim("unsqueeze", dim, &extended)?;
        let mut shape = self.dims_vec();
        shape.insert(d, 1);
        self.reshape_named("UnsqueezeBackward", &shape)
    }

    /// Panicking form of [`Tensor::try_unsqueeze`].
    #[track_caller]
    pub fn unsqueeze(&self, dim: isize) -> Tensor {
        ok(self.try_unsqueeze(dim))
    }

    /// Merges dims `start..=end` into one.
    #[track_caller]
    pub fn flatten(&self, start: isize, end: isize) -> Tensor {
        ok(self.try_flatten(start, end))
    }

    /// Fallible form of [`Tensor::flatten`].
    pub fn try_flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return self.try_reshape(&[1]);
        }
        let s = normalize_dim("flatten", start, self.shape())?;
        let e = normalize_dim("flatten", end, self.shape())?;
        if s > e {
            return Err(Error::invalid(
                "flatten",
                format!("start dim {s} is after end dim {e}"),
            ));
        }
        let shape = self.shape();
        let mut out: Dims = shape[..s].into();
        out.push(shape[s..=e].iter().product());
        out.extend_from_slice(&shape[e + 1..]);
        self.reshape_named("FlattenBackward", &out)
    }

    /// This tensor if contiguous, else a row-major copy (in the graph either way); an error
    /// when the copy could not be held in memory (a large `expand`).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let wide = Tensor::scalar(1.0f32).expand(&[1 << 40]);
    /// assert!(wide.try_contiguous().unwrap_err().to_string().starts_with("contiguous: shape [1099511627776]"));
    /// ```
    pub fn try_contiguous(&self) -> Result<Tensor> {
        self.try_contiguous_named("contiguous")
    }

    /// [`Tensor::try_contiguous`] with errors naming `op`, the operation that needed the copy.
    pub(crate) fn try_contiguous_named(&self, op: &'static str) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        let copy = self.try_contiguous_copy(op)?;
        Ok(record(
            copy,
            &[self],
            IdentityBackward {
                name: "CloneBackward",
                expanded: None,
            },
            &[],
        ))
    }

    /// Panicking form of [`Tensor::try_contiguous`]: this tensor if contiguous, else a
    /// row-major copy (in the graph either way).
    #[track_caller]
    pub fn contiguous(&self) -> Tensor {
        ok(self.try_contiguous())
    }

    /// A row-major copy with its own storage, outside the graph; an error naming `op` when it
    /// could not be held in memory.
    pub(crate) fn try_contiguous_copy(&self, op: &'static str) -> Result<Tensor> {
        crate::limits::allocation(op, self.shape(), self.dtype())?;
        Ok(
            dispatch_any!(self.dtype(), T => Tensor::from_data(self.read_owned::<T>(), self.shape())),
        )
    }

    /// The values converted to `dtype` (a differentiable copy between float types).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// assert_eq!(Tensor::scalar(1.5f64).to_dtype(DType::F32).item::<f32>(), 1.5);
    /// assert!(Tensor::scalar(1.0f32).expand(&[1 << 40]).try_to_dtype(DType::F64).is_err());
    /// ```
    pub fn try_to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        crate::limits::allocation("to_dtype", self.shape(), dtype)?;
        let values = self.try_to_f64_vec()?;
        let out = dispatch_any!(dtype, T => Tensor::from_data(values.into_iter().map(T::from_f64).collect(), self.shape()));
        Ok(if dtype.is_float() && self.dtype().is_float() {
            record(
                out,
                &[self],
                ToDtypeBackward {
                    input: self.dtype(),
                    output: dtype,
                },
                &[],
            )
        } else {
            out
        })
    }

    /// Panicking form of [`Tensor::try_to_dtype`].
    #[track_caller]
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        ok(self.try_to_dtype(dtype))
    }
}
