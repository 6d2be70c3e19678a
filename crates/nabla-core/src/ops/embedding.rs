//! `embedding`: rows of a weight `[V, D]` looked up by integer indices of any shape, as
//! PyTorch's `torch.nn.functional.embedding`. The weight's gradient adds each looked-up row's
//! gradient back into its row; the padding row, when there is one, gets none.
//!
//! The backward is an operation of its own, recorded like any other, so gradients of gradients
//! exist: the adding of rows is linear in the incoming gradient, and its own backward looks the
//! rows up again (with zeros at the padding positions, the adjoint of skipping them).

use super::{ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::index::{add_rows, select};
use crate::shape::Dims;
use crate::tensor::Tensor;
use std::sync::Arc;

/// The rows one lookup reads: checked indices into a weight of `vocab` rows of `dim` values.
struct Lookup {
    indices: Vec<usize>,
    padding: Option<usize>,
    vocab: usize,
    dim: usize,
    /// The indices' shape and `D`.
    output: Dims,
}

/// `weight`'s rows at the lookup's indices, `[..., D]`; with `masked`, zeros where the index is
/// the padding row. Recorded with [`EmbeddingBackward`]: unmasked it is `embedding` itself,
/// masked the backward of [`add_rows_of`].
fn rows_of(weight: &Tensor, lookup: &Arc<Lookup>, masked: bool) -> Result<Tensor> {
    const OP: &str = "embedding";
    if weight.shape() != [lookup.vocab, lookup.dim] {
        return Err(Error::shapes(
            OP,
            weight.shape(),
            &[lookup.vocab, lookup.dim],
            "the weight must have the shape the indices were checked against",
        ));
    }
    crate::limits::allocation(OP, &lookup.output, weight.dtype())?;
    let parts = (1, lookup.vocab, lookup.dim);
    let d = lookup.dim;
    let (out, padding_row) = dispatch_float!(OP, weight.dtype(), T => {
        let (mut data, padding_row) = weight.try_read(OP, |w: &[T]| {
            let row = lookup.padding.filter(|_| !masked).map(|p| Tensor::from_vec(w[p * d..(p + 1) * d].to_vec(), &[1, d]));
            (select(w, parts, &lookup.indices), row)
        })?;
        if let (true, Some(p)) = (masked, lookup.padding) {
            for (row, _) in data.chunks_exact_mut(d.max(1)).zip(&lookup.indices).filter(|(_, i)| **i == p) {
                row.fill(0.0);
            }
        }
        (Tensor::from_data(data, &lookup.output), padding_row)
    });
    let backward = EmbeddingBackward {
        lookup: lookup.clone(),
        masked,
        padding_row,
    };
    Ok(record(out, &[weight], backward, &[]))
}

/// The gradient of a lookup's weight: each row of `g` (`[..., D]`) added into the row it was
/// read from, `[V, D]`, nothing into the padding row. Recorded with
/// [`EmbeddingBackwardBackward`].
fn add_rows_of(g: &Tensor, lookup: &Arc<Lookup>) -> Result<Tensor> {
    const OP: &str = "embedding_backward";
    if g.shape() != &lookup.output[..] {
        return Err(Error::shapes(
            OP,
            g.shape(),
            &lookup.output,
            "the gradient must have the looked-up rows' shape",
        ));
    }
    let shape = [lookup.vocab, lookup.dim];
    crate::limits::allocation(OP, &shape, g.dtype())?;
    let out = dispatch_float!(OP, g.dtype(), T => {
        let mut data = crate::pool::take::<T>(lookup.vocab * lookup.dim);
        data.fill(0.0);
        g.try_read(OP, |s: &[T]| add_rows(&mut data, s, &lookup.indices, lookup.dim, lookup.padding))?;
        Tensor::from_data(data, &shape)
    });
    let backward = EmbeddingBackwardBackward {
        lookup: lookup.clone(),
    };
    Ok(record(out, &[g], backward, &[]))
}

/// `embedding`'s rule: the gradient's rows added into the weight's rows they came from, none
/// into the padding row; the tangent is looked up like the weight, zero at the padding
/// positions. The padding row counts as a constant in both modes, and in the replay too.
struct EmbeddingBackward {
    lookup: Arc<Lookup>,
    /// Zeros at the padding positions: the lookup inside a backward pass.
    masked: bool,
    /// For `embedding` with a padding row, that row's values `[1, D]` when it ran: what the
    /// replay looks up at the padding positions, whatever row the weight it is given has there.
    padding_row: Option<Tensor>,
}

impl EmbeddingBackward {
    /// `weight` with the padding row replaced by the one kept, when there is one.
    fn with_kept_padding_row(&self, weight: &Tensor) -> Result<Tensor> {
        match (&self.padding_row, self.lookup.padding) {
            (Some(row), Some(p)) if weight.ndim() == 2 => {
                let rest = weight.shape()[0].saturating_sub(p + 1);
                let (before, after) = (
                    weight.try_narrow(0, 0, p)?,
                    weight.try_narrow(0, p + 1, rest)?,
                );
                Tensor::try_cat(&[&before, &row.try_to_dtype(weight.dtype())?, &after], 0)
            }
            _ => Ok(weight.clone()),
        }
    }
}

impl Backward for EmbeddingBackward {
    fn name(&self) -> &'static str {
        "EmbeddingBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map(
            "{g}'s rows added into the rows they were looked up from",
            Binding::Sum,
        )];
        Some(Formula::new(
            "{0}[indices]",
            Binding::Atom,
            "embedding",
            inputs,
        ))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(ok(add_rows_of(grad, &self.lookup)))]
    }

    fn try_vjp_owned(&self, _: &mut [Tensor], grad: Tensor, _: &[bool]) -> Result<Gradients> {
        Ok(smallvec::smallvec![Some(add_rows_of(&grad, &self.lookup)?)])
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        rows_of(&tangents[0], &self.lookup, true)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let weight = self.with_kept_padding_row(&inputs[0]);
        Some(weight.and_then(|w| rows_of(&w, &self.lookup, self.masked)))
    }
}

/// The rule of `embedding`'s backward, linear in the gradient: its adjoint looks the rows up
/// again, zeros at the padding positions.
struct EmbeddingBackwardBackward {
    lookup: Arc<Lookup>,
}

impl Backward for EmbeddingBackwardBackward {
    fn name(&self) -> &'static str {
        "EmbeddingBackwardBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map("{g}[indices]", Binding::Atom)];
        Some(Formula::new(
            "rows of {0} added by index",
            Binding::Sum,
            "embedding_backward",
            inputs,
        ))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(ok(rows_of(grad, &self.lookup, true)))]
    }

    fn try_vjp_owned(&self, _: &mut [Tensor], grad: Tensor, _: &[bool]) -> Result<Gradients> {
        Ok(smallvec::smallvec![Some(rows_of(
            &grad,
            &self.lookup,
            true
        )?)])
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        add_rows_of(&tangents[0], &self.lookup)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(add_rows_of(&inputs[0], &self.lookup))
    }
}

impl Tensor {
    /// Looks up rows of this weight `[V, D]` (`torch.nn.functional.embedding`): `indices`, i64
    /// of any shape, each in `0..V`, give `[..., D]`, row `indices[k]` at position `k`. With
    /// `padding_idx`, that row gets no gradient (it stays as it is under training, the zero
    /// vector when initialised so). Rule `EmbeddingBackward`: each position's gradient is added
    /// into its row, so repeated indices add up.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let weight = Tensor::from_vec(vec![0.0f64, 0.0, 1.0, 2.0, 3.0, 4.0], &[3, 2]).requires_grad();
    /// let indices = Tensor::from_vec(vec![2i64, 1, 2, 0], &[2, 2]);
    /// let rows = weight.embedding(&indices, Some(0));
    /// assert_eq!(rows.shape(), &[2, 2, 2]);
    /// assert_eq!(rows.to_vec::<f64>(), vec![3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
    /// rows.sum().backward();
    /// // Row 2 was looked up twice; row 0 is the padding row.
    /// assert_eq!(weight.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
    /// let err = weight.try_embedding(&Tensor::from_vec(vec![3i64], &[1]), None).unwrap_err();
    /// assert_eq!(err.to_string(), "embedding: index 3 is out of range for a weight of 3 rows (indices must be in 0..3)");
    /// ```
    pub fn try_embedding(&self, indices: &Tensor, padding_idx: Option<usize>) -> Result<Tensor> {
        const OP: &str = "embedding";
        self.check_float(OP)?;
        let &[vocab, dim] = self.shape() else {
            return Err(Error::invalid(
                OP,
                format!("the weight must be [V, D], got shape {:?}", self.shape()),
            ));
        };
        if indices.dtype() != DType::I64 {
            return Err(Error::UnsupportedDType {
                op: OP,
                got: indices.dtype(),
                expected: "i64 indices",
            });
        }
        if let Some(p) = padding_idx.filter(|&p| p >= vocab) {
            return Err(Error::invalid(
                OP,
                format!("padding_idx {p} is out of range for a weight of {vocab} rows"),
            ));
        }
        let mut output: Dims = indices.dims_vec();
        output.push(dim);
        crate::limits::allocation(OP, &output, self.dtype())?;
        let indices = indices.try_read(OP, |s: &[i64]| {
            s.iter()
                .map(|&i| match usize::try_from(i) {
                    Ok(row) if row < vocab => Ok(row),
                    _ => Err(Error::invalid(
                        OP,
                        format!(
                            "index {i} is out of range for a weight of {vocab} rows (indices \
                             must be in 0..{vocab})"
                        ),
                    )),
                })
                .collect::<Result<Vec<usize>>>()
        })??;
        let lookup = Lookup {
            indices,
            padding: padding_idx,
            vocab,
            dim,
            output,
        };
        rows_of(self, &Arc::new(lookup), false)
    }

    /// Panicking form of [`Tensor::try_embedding`].
    #[track_caller]
    pub fn embedding(&self, indices: &Tensor, padding_idx: Option<usize>) -> Tensor {
        ok(self.try_embedding(indices, padding_idx))
    }
}
