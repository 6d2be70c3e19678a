//! Joining and indexing: cat/stack, gather and its adjoint scatter_add, index_select, where
//! (and masked_fill on top of it), one_hot.

use super::{Save, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::elementwise::expand_to_vec;
use crate::kernels::index::{concat, gather, scatter_add, select, split_at_dim};
use crate::kernels::{dispatch_any, dispatch_float};
use crate::shape::{Dims, broadcast_shapes, existing_dim};
use crate::tensor::Tensor;

struct CatBackward {
    dim: usize,
    sizes: Vec<usize>,
}

impl Backward for CatBackward {
    fn name(&self) -> &'static str {
        "CatBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let holes: Vec<String> = (0..self.sizes.len()).map(|i| format!("{{{i}}}")).collect();
        let output = format!("cat([{}], dim={})", holes.join(", "), self.dim);
        let mut start = 0;
        let inputs = self
            .sizes
            .iter()
            .map(|&size| {
                let part = format!("{{g}}[{start}..{}] along dim {}", start + size, self.dim);
                start += size;
                Local::map(&part, Binding::Atom)
            })
            .collect();
        Some(Formula::new(&output, Binding::Atom, "cat", inputs))
    }
    fn vjp(&self, _: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let mut start = 0;
        self.sizes
            .iter()
            .zip(needs)
            .map(|(&size, &need)| {
                let part = need.then(|| grad.narrow(self.dim as isize, start, size));
                start += size;
                part
            })
            .collect()
    }
    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let refs: Vec<&Tensor> = tangents.iter().collect();
        Tensor::try_cat(&refs, self.dim as isize)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(self.jvp(&[], inputs))
    }
}

struct GatherBackward {
    dim: usize,
    input_shape: Dims,
}

impl Backward for GatherBackward {
    fn name(&self) -> &'static str {
        "GatherBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let output = format!("gather({{0}}, dim={}, index)", self.dim);
        let back = "{g} added back at the gathered positions (zeros elsewhere)";
        let inputs = vec![Local::map(back, Binding::Sum)];
        Some(Formula::new(&output, Binding::Atom, "gather", inputs))
    }
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        let zeros = Tensor::zeros(&self.input_shape, grad.dtype());
        smallvec::smallvec![Some(zeros.scatter_add(self.dim as isize, &saved[0], grad))]
    }
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_gather(self.dim as isize, &saved[0])
    }

    fn replay(&self, saved: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(self.jvp(saved, inputs))
    }
}

struct IndexSelectBackward {
    dim: usize,
    input_shape: Dims,
}

impl Backward for IndexSelectBackward {
    fn name(&self) -> &'static str {
        "IndexSelectBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let output = format!("index_select({{0}}, dim={}, index)", self.dim);
        let back = "{g} added back at the selected positions (zeros elsewhere)";
        let inputs = vec![Local::map(back, Binding::Sum)];
        Some(Formula::new(&output, Binding::Atom, "index_select", inputs))
    }
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        // Every selected entry's gradient is added back where it came from: a scatter-add over
        // the indices spread to the gradient's shape.
        let mut along: Dims = smallvec::smallvec![1; grad.ndim()];
        along[self.dim] = saved[0].numel();
        let index = saved[0].reshape(&along).expand(grad.shape()).contiguous();
        let zeros = Tensor::zeros(&self.input_shape, grad.dtype());
        smallvec::smallvec![Some(zeros.scatter_add(self.dim as isize, &index, grad))]
    }
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_index_select(self.dim as isize, &saved[0])
    }

    fn replay(&self, saved: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(self.jvp(saved, inputs))
    }
}

struct ScatterAddBackward {
    dim: usize,
}

impl Backward for ScatterAddBackward {
    fn name(&self) -> &'static str {
        "ScatterAddBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let output = format!("scatter_add({{0}}, dim={}, {{1}}, {{2}})", self.dim);
        let inputs = vec![
            Local::map("{g}", Binding::Atom),
            Local::None,
            Local::map(
                &format!("gather({{g}}, dim={}, {{1}})", self.dim),
                Binding::Atom,
            ),
        ];
        Some(Formula::new(&output, Binding::Atom, "scatter_add", inputs))
    }
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        smallvec::smallvec![
            needs[0].then(|| grad.clone()),
            None,
            needs[2].then(|| grad.gather(self.dim as isize, &saved[0])),
        ]
    }
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        tangents[0].try_scatter_add(self.dim as isize, &saved[0], &tangents[2])
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_scatter_add(self.dim as isize, &inputs[1], &inputs[2]))
    }
}

struct WhereBackward;

impl Backward for WhereBackward {
    fn name(&self) -> &'static str {
        "WhereBackward"
    }
    fn formula(&self, _: usize, at: Option<&At>) -> Option<Formula> {
        let mask = |taken: bool| {
            let (cond, output) = (at?.inputs.first()?, at?.output);
            let cond = cond.ne(&cond.zeros_like());
            let chosen = if taken { cond } else { 1.0 - cond };
            Some(chosen.to_dtype(output.dtype()))
        };
        let inputs = vec![
            Local::None,
            Local::elementwise("1 where {0}, else 0", Binding::Sum, mask(true)),
            Local::elementwise("0 where {0}, else 1", Binding::Sum, mask(false)),
        ];
        Some(Formula::new(
            "where({0}, {1}, {2})",
            Binding::Atom,
            "where",
            inputs,
        ))
    }
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let cond = &saved[0];
        let zeros = grad.zeros_like();
        smallvec::smallvec![
            None,
            needs[1].then(|| cond.where_cond(grad, &zeros)),
            needs[2].then(|| cond.where_cond(&zeros, grad)),
        ]
    }
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        saved[0].try_where_cond(&tangents[1], &tangents[2])
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_where_cond(&inputs[1], &inputs[2]))
    }
}

/// Checks an `i64` index against a size and returns it as a vector; an error naming `op` when
/// the index is a view whose copy could not be held in memory.
fn checked_indices(op: &'static str, index: &Tensor, size: usize) -> Result<Vec<i64>> {
    if index.dtype() != DType::I64 {
        return Err(Error::UnsupportedDType {
            op,
            got: index.dtype(),
            expected: "i64 indices",
        });
    }
    let values = index.try_read(op, |s: &[i64]| s.to_vec())?;
    if let Some(&bad) = values.iter().find(|&&i| i < 0 || i as usize >= size) {
        return Err(Error::IndexOutOfRange {
            op,
            index: bad,
            size,
        });
    }
    Ok(values)
}

/// Checks that `index` matches `data` in every dim but `dim`.
fn check_index_shape(op: &'static str, data: &[usize], index: &[usize], dim: usize) -> Result<()> {
    let same = data.len() == index.len()
        && data
            .iter()
            .zip(index)
            .enumerate()
            .all(|(d, (a, b))| d == dim || a == b);
    if same {
        Ok(())
    } else {
        Err(Error::shapes(
            op,
            data,
            index,
            format!("index must match the input in every dim but {dim}"),
        ))
    }
}

impl Tensor {
    /// Concatenates tensors along `dim`; all other dims must agree.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]);
    /// let b = Tensor::from_vec(vec![3.0f32, 4.0], &[1, 2]);
    /// assert_eq!(Tensor::cat(&[&a, &b], 0).shape(), &[2, 2]);
    /// assert_eq!(Tensor::cat(&[&a, &b], 1).to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn try_cat(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("cat", "needs at least one tensor"))?;
        let d = existing_dim("cat", dim, first.shape())?;
        for t in &tensors[1..] {
            if t.dtype() != first.dtype() {
                return Err(Error::DTypeMismatch {
                    op: "cat",
                    lhs: first.dtype(),
                    rhs: t.dtype(),
                });
            }
            let fits = t.ndim() == first.ndim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == d || a == b);
            if !fits {
                return Err(Error::shapes(
                    "cat",
                    first.shape(),
                    t.shape(),
                    format!("sizes must match except in dim {d}"),
                ));
            }
        }
        let sizes: Vec<usize> = tensors.iter().map(|t| t.shape()[d]).collect();
        let (outer, _, inner) = split_at_dim(first.shape(), d);
        let mut shape = first.dims_vec();
        shape[d] = sizes
            .iter()
            .try_fold(0usize, |total, &s| total.checked_add(s))
            .ok_or_else(|| {
                Error::invalid("cat", format!("the sizes {sizes:?} of dim {d} overflow"))
            })?;
        crate::limits::allocation("cat", &shape, first.dtype())?;
        let out = dispatch_any!(first.dtype(), T => {
            let parts = tensors.iter().map(|t| t.try_read("cat", |s: &[T]| s.to_vec())).collect::<Result<Vec<Vec<T>>>>()?;
            Tensor::from_vec(concat(&parts, &sizes, outer, inner), &shape)
        });
        Ok(record(out, tensors, CatBackward { dim: d, sizes }, &[]))
    }

    /// Panicking form of [`Tensor::try_cat`].
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], dim: isize) -> Tensor {
        ok(Tensor::try_cat(tensors, dim))
    }

    /// Stacks equal-shaped tensors along a new dim.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// let a = Tensor::zeros(&[2, 3], DType::F32);
    /// assert_eq!(Tensor::stack(&[&a, &a], 1).shape(), &[2, 2, 3]);
    /// ```
    pub fn try_stack(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let parts = tensors
            .iter()
            .map(|t| t.try_unsqueeze(dim))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Tensor> = parts.iter().collect();
        Tensor::try_cat(&refs, dim)
    }

    /// Panicking form of [`Tensor::try_stack`].
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], dim: isize) -> Tensor {
        ok(Tensor::try_stack(tensors, dim))
    }

    /// `out[..., j, ...] = self[..., index[..., j, ...], ...]` along `dim`; `index` (i64) has the
    /// input's shape in every other dim. Gradient: scatter-add back.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]);
    /// let i = Tensor::from_vec(vec![1i64, 0], &[2, 1]);
    /// assert_eq!(x.gather(1, &i).to_vec::<f64>(), vec![2.0, 3.0]);
    /// ```
    pub fn try_gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        let d = existing_dim("gather", dim, self.shape())?;
        check_index_shape("gather", self.shape(), index.shape(), d)?;
        crate::limits::allocation("gather", index.shape(), self.dtype())?;
        let idx = checked_indices("gather", index, self.shape()[d])?;
        let parts = split_at_dim(index.shape(), d);
        let out = dispatch_float!("gather", self.dtype(), T => {
            Tensor::from_vec(self.try_read("gather", |s: &[T]| gather(s, self.shape()[d], &idx, parts))?, index.shape())
        });
        let backward = GatherBackward {
            dim: d,
            input_shape: self.dims_vec(),
        };
        Ok(record(out, &[self], backward, &[Save::Extra(index)]))
    }

    /// Panicking form of [`Tensor::try_gather`].
    #[track_caller]
    pub fn gather(&self, dim: isize, index: &Tensor) -> Tensor {
        ok(self.try_gather(dim, index))
    }

    /// A copy of `self` with `src[..., j, ...]` added at `index[..., j, ...]` along `dim`.
    pub fn try_scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        let d = existing_dim("scatter_add", dim, self.shape())?;
        check_index_shape("scatter_add", self.shape(), index.shape(), d)?;
        if src.shape() != index.shape() {
            return Err(Error::shapes(
                "scatter_add",
                index.shape(),
                src.shape(),
                "src must have the index's shape",
            ));
        }
        if src.dtype() != self.dtype() {
            return Err(Error::DTypeMismatch {
                op: "scatter_add",
                lhs: self.dtype(),
                rhs: src.dtype(),
            });
        }
        let idx = checked_indices("scatter_add", index, self.shape()[d])?;
        crate::limits::allocation("scatter_add", self.shape(), self.dtype())?;
        let parts = split_at_dim(index.shape(), d);
        let out = dispatch_float!("scatter_add", self.dtype(), T => {
            let mut data: Vec<T> = self.try_read("scatter_add", |s: &[T]| s.to_vec())?;
            src.try_read("scatter_add", |s: &[T]| scatter_add(&mut data, self.shape()[d], &idx, s, parts))?;
            Tensor::from_vec(data, self.shape())
        });
        Ok(record(
            out,
            &[self, index, src],
            ScatterAddBackward { dim: d },
            &[Save::Input(1)],
        ))
    }

    /// Panicking form of [`Tensor::try_scatter_add`].
    #[track_caller]
    pub fn scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Tensor {
        ok(self.try_scatter_add(dim, index, src))
    }

    /// The entries `indices` (1-d, i64) of dim `dim`, in that order, for every dtype. Each
    /// selected slice is copied whole (consecutive indices as one copy), so gathering a batch
    /// of rows costs one pass over them. Gradient: the selected slices' gradients added back.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::arange(0.0f32, 6.0, 1.0).reshape(&[3, 2]);
    /// let rows = x.index_select(0, &Tensor::from_vec(vec![2i64, 0], &[2]));
    /// assert_eq!(rows.to_vec::<f32>(), vec![4.0, 5.0, 0.0, 1.0]);
    /// let labels = Tensor::from_vec(vec![7i64, 8, 9], &[3]);
    /// let picked = labels.index_select(0, &Tensor::from_vec(vec![1i64, 1], &[2]));
    /// assert_eq!(picked.to_vec::<i64>(), vec![8, 8]);
    /// ```
    pub fn try_index_select(&self, dim: isize, indices: &Tensor) -> Result<Tensor> {
        let d = existing_dim("index_select", dim, self.shape())?;
        if indices.ndim() != 1 {
            return Err(Error::invalid(
                "index_select",
                format!("indices must be 1-d, not shape {:?}", indices.shape()),
            ));
        }
        let mut shape = self.dims_vec();
        shape[d] = indices.numel();
        crate::limits::allocation("index_select", &shape, self.dtype())?;
        let picks: Vec<usize> = checked_indices("index_select", indices, self.shape()[d])?
            .into_iter()
            .map(|i| i as usize)
            .collect();
        let parts = split_at_dim(self.shape(), d);
        let out = dispatch_any!(self.dtype(), T => {
            Tensor::from_data(self.try_read("index_select", |s: &[T]| select(s, parts, &picks))?, &shape)
        });
        let backward = IndexSelectBackward {
            dim: d,
            input_shape: self.dims_vec(),
        };
        Ok(record(out, &[self], backward, &[Save::Extra(indices)]))
    }

    /// Panicking form of [`Tensor::try_index_select`].
    #[track_caller]
    pub fn index_select(&self, dim: isize, indices: &Tensor) -> Tensor {
        ok(self.try_index_select(dim, indices))
    }

    /// `a` where this condition is nonzero, else `b` (all three broadcast together).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0f64, 2.0], &[2]);
    /// let y = x.gt_scalar(0.0).where_cond(&x, &x.zeros_like());
    /// assert_eq!(y.to_vec::<f64>(), vec![0.0, 2.0]);
    /// ```
    pub fn try_where_cond(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        if a.dtype() != b.dtype() {
            return Err(Error::DTypeMismatch {
                op: "where",
                lhs: a.dtype(),
                rhs: b.dtype(),
            });
        }
        let shape = broadcast_shapes("where", a.shape(), b.shape())?;
        let shape = broadcast_shapes("where", self.shape(), &shape)?;
        crate::limits::allocation("where", &shape, a.dtype())?;
        let cond: Vec<bool> = dispatch_any!(self.dtype(), C => {
            expand_to_vec::<C>(self, &shape).into_iter().map(|c| c.as_f64() != 0.0).collect()
        });
        let out = dispatch_float!("where", a.dtype(), T => {
            let (va, vb) = (expand_to_vec::<T>(a, &shape), expand_to_vec::<T>(b, &shape));
            let values = cond.iter().zip(va).zip(vb).map(|((&c, x), y)| if c { x } else { y }).collect();
            Tensor::from_vec::<T>(values, &shape)
        });
        Ok(record(out, &[self, a, b], WhereBackward, &[Save::Input(0)]))
    }

    /// Panicking form of [`Tensor::try_where_cond`].
    #[track_caller]
    pub fn where_cond(&self, a: &Tensor, b: &Tensor) -> Tensor {
        ok(self.try_where_cond(a, b))
    }

    /// `value` where `mask` is nonzero, else this tensor's values (broadcasting together).
    pub fn try_masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        mask.try_where_cond(&Tensor::try_full(&[], value, self.dtype())?, self)
    }

    /// Panicking form of [`Tensor::try_masked_fill`].
    #[track_caller]
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Tensor {
        ok(self.try_masked_fill(mask, value))
    }

    /// One-hot rows for i64 class indices: shape `indices.shape + [classes]`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// let t = Tensor::from_vec(vec![2i64, 0], &[2]);
    /// assert_eq!(t.one_hot(3, DType::F32).to_vec::<f32>(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn try_one_hot(&self, classes: usize, dtype: DType) -> Result<Tensor> {
        let mut shape = self.dims_vec();
        shape.push(classes);
        crate::limits::allocation("one_hot", &shape, dtype)?;
        let idx = checked_indices("one_hot", self, classes)?;
        Ok(dispatch_any!(dtype, T => {
            let mut data = vec![T::from_f64(0.0); idx.len() * classes];
            for (row, &i) in idx.iter().enumerate() {
                data[row * classes + i as usize] = T::from_f64(1.0);
            }
            Tensor::from_vec(data, &shape)
        }))
    }

    /// Panicking form of [`Tensor::try_one_hot`].
    #[track_caller]
    pub fn one_hot(&self, classes: usize, dtype: DType) -> Tensor {
        ok(self.try_one_hot(classes, dtype))
    }
}
