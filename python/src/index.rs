//! `t[key]` and `t[key] = value` with ints, slices, `None`, `...` and integer index tensors or
//! lists. Ints, unit-step slices, `None` and `...` give views sharing memory (narrow, squeeze,
//! unsqueeze); a slice with a step or an index tensor gives a copy (index_select), as both do
//! in PyTorch's advanced indexing.

use crate::errors::IntoPyResult;
use crate::tensor::{Tensor, as_core, type_name};
use nabla_core::{DType, Tensor as CoreTensor};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyEllipsis, PyInt, PyList, PyNone, PySlice, PySliceMethods, PyTuple};

/// One entry of an indexing key (a slice travels beside it, see `items`).
enum Item {
    Int(i64),
    NewAxis,
    Ellipsis,
    Indices(CoreTensor),
    /// A comparison result selecting the elements where it is 1.
    Mask(CoreTensor),
}

fn items<'py>(key: &Bound<'py, PyAny>) -> PyResult<Vec<(Item, Option<Bound<'py, PySlice>>)>> {
    let parts: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
        Ok(t) => t.iter().collect(),
        Err(_) => vec![key.clone()],
    };
    parts
        .into_iter()
        .map(|p| {
            if let Ok(s) = p.cast::<PySlice>() {
                return Ok((Item::NewAxis, Some(s.clone())));
            }
            if p.is_instance_of::<PyInt>() {
                return Ok((Item::Int(p.extract()?), None));
            }
            if p.is_instance_of::<PyNone>() {
                return Ok((Item::NewAxis, None));
            }
            if p.is_instance_of::<PyEllipsis>() {
                return Ok((Item::Ellipsis, None));
            }
            if let Ok(m) = p.cast::<Tensor>()
                && m.borrow().is_mask
            {
                return Ok((Item::Mask(m.borrow().inner.clone()), None));
            }
            if let Some(t) = as_core(&p) {
                if t.dtype() != DType::I64 {
                    return Err(PyIndexError::new_err(
                        "tensors used as indices must be long (int64) tensors",
                    ));
                }
                if t.ndim() == 0 {
                    return Ok((Item::Int(t.try_item::<i64>().py()?), None));
                }
                return Ok((Item::Indices(t), None));
            }
            if p.is_instance_of::<PyList>() {
                let values: Vec<i64> = p.extract().map_err(|_| {
                    PyIndexError::new_err("only lists of integers can index a tensor")
                })?;
                let n = values.len();
                return Ok((
                    Item::Indices(CoreTensor::try_from_vec(values, &[n]).py()?),
                    None,
                ));
            }
            if let Ok(i) = p.call_method0("__index__").and_then(|i| i.extract::<i64>()) {
                return Ok((Item::Int(i), None));
            }
            Err(PyIndexError::new_err(format!(
                "only integers, slices (`:`), ellipsis (`...`), None and long or integer \
                 tensors are valid indices (got {})",
                type_name(&p)
            )))
        })
        .collect()
}

/// The view (or copy) `t[key]`.
pub fn index(t: &CoreTensor, key: &Bound<'_, PyAny>) -> PyResult<CoreTensor> {
    let items = items(key)?;
    let consumed = items
        .iter()
        .map(|(item, slice)| match item {
            Item::Mask(m) => m.ndim(),
            Item::Int(_) | Item::Indices(_) => 1,
            _ => usize::from(slice.is_some()),
        })
        .sum::<usize>();
    if items
        .iter()
        .filter(|(i, s)| s.is_none() && matches!(i, Item::Ellipsis))
        .count()
        > 1
    {
        return Err(PyIndexError::new_err(
            "an index can only have a single ellipsis ('...')",
        ));
    }
    if consumed > t.ndim() {
        return Err(PyIndexError::new_err(format!(
            "too many indices for tensor of dimension {}",
            t.ndim()
        )));
    }
    let mut out = t.clone();
    let mut dim = 0usize;
    for (item, slice) in items {
        if let Some(s) = slice {
            let size = out.shape()[dim];
            let ind = s.indices(size as isize)?;
            if ind.step <= 0 {
                return Err(PyValueError::new_err("step must be greater than zero"));
            }
            let len = ind.slicelength;
            if ind.step == 1 {
                out = out.try_narrow(dim as isize, ind.start as usize, len).py()?;
            } else {
                let picks: Vec<i64> = (0..len)
                    .map(|k| (ind.start + k as isize * ind.step) as i64)
                    .collect();
                let picks = CoreTensor::try_from_vec(picks, &[len]).py()?;
                out = out.try_index_select(dim as isize, &picks).py()?;
            }
            dim += 1;
            continue;
        }
        match item {
            Item::Int(i) => {
                let size = out.shape()[dim] as i64;
                let at = if i < 0 { i + size } else { i };
                if at < 0 || at >= size {
                    return Err(PyIndexError::new_err(format!(
                        "index {i} is out of bounds for dimension {dim} with size {size}"
                    )));
                }
                out = out
                    .try_narrow(dim as isize, at as usize, 1)
                    .and_then(|n| n.try_squeeze(dim as isize))
                    .py()?;
            }
            Item::NewAxis => {
                out = out.try_unsqueeze(dim as isize).py()?;
                dim += 1;
            }
            Item::Ellipsis => dim += t.ndim() - consumed,
            Item::Mask(mask) => {
                let k = mask.ndim();
                let covered = &out.shape()[dim..dim + k];
                if k == 0 || mask.shape() != covered {
                    return Err(PyIndexError::new_err(format!(
                        "The shape of the mask {:?} does not match the shape of the indexed \
                         tensor {:?} at dimension {dim}",
                        mask.shape(),
                        covered
                    )));
                }
                let flags = mask.try_to_vec::<i64>().py()?;
                let picks: Vec<i64> = (0..flags.len() as i64)
                    .filter(|&i| flags[i as usize] != 0)
                    .collect();
                let n = picks.len();
                let picks = CoreTensor::try_from_vec(picks, &[n]).py()?;
                out = out
                    .try_flatten(dim as isize, (dim + k - 1) as isize)
                    .and_then(|f| f.try_index_select(dim as isize, &picks))
                    .py()?;
                dim += 1;
            }
            Item::Indices(indices) => {
                let size = out.shape()[dim] as i64;
                let flat = indices.try_reshape(&[indices.numel()]).py()?;
                let values = flat.try_to_vec::<i64>().py()?;
                if let Some(bad) = values.iter().find(|&&v| v < -size || v >= size) {
                    return Err(PyIndexError::new_err(format!(
                        "index {bad} is out of bounds for dimension {dim} with size {size}"
                    )));
                }
                let wrapped: Vec<i64> = values
                    .iter()
                    .map(|&v| if v < 0 { v + size } else { v })
                    .collect();
                let flat = CoreTensor::try_from_vec(wrapped, &[flat.numel()]).py()?;
                let picked = out.try_index_select(dim as isize, &flat).py()?;
                let mut shape = out.shape()[..dim].to_vec();
                shape.extend_from_slice(indices.shape());
                shape.extend_from_slice(&out.shape()[dim + 1..]);
                out = picked.try_reshape(&shape).py()?;
                dim += indices.ndim();
            }
        }
    }
    Ok(out)
}

impl Tensor {
    /// `t[mask] = value` for a number (or a one-element tensor): every selected element set.
    fn masked_assign(&self, mask: &CoreTensor, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v: f64 = match as_core(value) {
            Some(t) if t.numel() == 1 => t.try_to_f64_vec().py()?[0],
            Some(t) => {
                return Err(PyRuntimeError::new_err(format!(
                    "assignment through a mask takes a number or a one-element tensor, not a \
                     tensor of shape {:?}",
                    t.shape()
                )));
            }
            None => value.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "can only assign a number or a Tensor, not {}",
                    type_name(value)
                ))
            })?,
        };
        if mask.shape() != self.inner.shape() {
            return Err(PyIndexError::new_err(format!(
                "The shape of the mask {:?} does not match the shape of the indexed tensor {:?}",
                mask.shape(),
                self.inner.shape()
            )));
        }
        let target = &self.inner;
        let filled = {
            let _off = nabla_core::GradModeGuard::new(false);
            let as_float = |t: &CoreTensor| t.try_to_dtype(nabla_core::DType::F64);
            as_float(target)
                .and_then(|t| t.try_masked_fill(mask, v))
                .and_then(|t| t.try_to_dtype(target.dtype()))
                .py()?
        };
        target.try_copy_(&filled).py()
    }
}

#[pymethods]
impl Tensor {
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let out = index(&self.inner, key)?;
        // PyTorch names a basic index by its last step: an int selects, a slice slices.
        let before = self.inner.grad_fn();
        let name = match out.grad_fn() {
            Some(node) if !before.is_some_and(|b| std::sync::Arc::ptr_eq(&b, &node)) => {
                match node.name() {
                    "SqueezeBackward" => Some("SelectBackward0"),
                    "NarrowBackward" => Some("SliceBackward0"),
                    _ => None,
                }
            }
            _ => None,
        };
        Ok(Tensor::from_core(match name {
            Some(name) => crate::autograd::torch_named(out, name),
            None => out,
        }))
    }

    /// Writes `value` (a number or a tensor broadcast to the selection) into the elements
    /// `key` selects; the selection must be a view (ints, unit-step slices, `None`, `...`).
    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(m) = key.cast::<Tensor>()
            && m.borrow().is_mask
        {
            return self.masked_assign(&m.borrow().inner, value);
        }
        let view = index(&self.inner, key)?;
        if !view.shares_storage(&self.inner) && view.numel() > 0 {
            return Err(PyRuntimeError::new_err(
                "assignment through a stepped slice or an index tensor is not supported; \
                 index with ints, unit-step slices, None and ... to assign",
            ));
        }
        if !view.is_contiguous() {
            return Err(PyRuntimeError::new_err(format!(
                "assignment to a selection of shape {:?} with strides {:?}: nabla writes only \
                 contiguous selections (ints and unit-step slices over the leading dimensions)",
                view.shape(),
                view.layout().strides()
            )));
        }
        if let Some(src) = as_core(value) {
            let src = src.try_to_dtype(view.dtype()).py()?;
            let src = src.try_expand(view.shape()).py()?;
            return view.try_copy_(&src).py();
        }
        let v: f64 = value.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "can only assign a number or a Tensor, not {}",
                type_name(value)
            ))
        })?;
        view.try_fill_(v).py()
    }
}
