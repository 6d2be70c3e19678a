//! A lookup table of learned vectors, `torch.nn.Embedding`: integer indices in, rows of the
//! weight out, with PyTorch's `padding_idx` (a row that receives no gradient).

use crate::init::Init;
use crate::module::{Module, invalid_input};
use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};

/// `weight [V, D]` indexed by i64 indices `[...]`: `[...] -> [..., D]`.
///
/// With `padding_idx = Some(p)` the row `p` gets no gradient (it is created zero, and stays
/// what it is through training), as in PyTorch.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::Embedding;
/// use nabla_nn::module::Module;
/// let emb = Embedding::new(10, 4, Some(0), DType::F32, &mut Generator::new(0)).unwrap();
/// assert_eq!(emb.describe(), "Embedding(10, 4, padding_idx=0)");
/// let y = emb.forward(&Tensor::from_vec(vec![0i64, 3, 9, 0], &[2, 2]));
/// assert_eq!(y.shape(), &[2, 2, 4]);
/// assert_eq!(y.narrow(0, 0, 1).narrow(1, 0, 1).to_vec::<f32>(), [0.0; 4]);
/// let err = emb.try_forward(&Tensor::from_vec(vec![10i64], &[1])).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: Embedding(10, 4, padding_idx=0): embedding: index 10 is out of range for a weight of 10 rows (indices must be in 0..10)"
/// );
/// ```
pub struct Embedding {
    weight: Tensor,
    padding_idx: Option<usize>,
}

impl Embedding {
    /// PyTorch's initialisation: every row from `N(0, 1)`, the padding row zero.
    pub fn new(
        num_embeddings: usize,
        dim: usize,
        padding_idx: Option<usize>,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        if num_embeddings == 0 || dim == 0 {
            return Err(Error::invalid(
                "layer",
                format!(
                    "Embedding({num_embeddings}, {dim}): the number of embeddings and their size must be at least 1"
                ),
            ));
        }
        if !dtype.is_float() {
            return Err(Error::invalid(
                "layer",
                format!(
                    "Embedding({num_embeddings}, {dim}): the weight must be f32 or f64, not {dtype}"
                ),
            ));
        }
        check_padding(num_embeddings, padding_idx)?;
        let init = Init::Normal {
            mean: 0.0,
            std: 1.0,
        };
        let mut values = init
            .try_tensor(&[num_embeddings, dim], DType::F64, rng)?
            .to_vec::<f64>();
        if let Some(p) = padding_idx {
            values[p * dim..(p + 1) * dim].fill(0.0);
        }
        let weight = Tensor::try_from_vec(values, &[num_embeddings, dim])?.try_to_dtype(dtype)?;
        Ok(Embedding {
            weight: weight.requires_grad(),
            padding_idx,
        })
    }

    /// A layer using `weight` (`[V, D]`, f32 or f64; shared, not copied, and left as it is:
    /// mark it `requires_grad` to train it) as its table.
    pub fn from_parts(weight: Tensor, padding_idx: Option<usize>) -> Result<Self> {
        let &[rows, dim] = weight.shape() else {
            return Err(Error::invalid(
                "layer",
                format!(
                    "Embedding: the weight must be [V, D], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        if !weight.dtype().is_float() || rows == 0 || dim == 0 {
            return Err(Error::invalid(
                "layer",
                format!(
                    "Embedding: the weight must be a non-empty f32 or f64 [V, D], got shape {:?} of dtype {}",
                    weight.shape(),
                    weight.dtype()
                ),
            ));
        }
        check_padding(rows, padding_idx)?;
        Ok(Embedding {
            weight,
            padding_idx,
        })
    }

    /// The table, `[V, D]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The row that receives no gradient, if any.
    pub fn padding_idx(&self) -> Option<usize> {
        self.padding_idx
    }
}

/// An error unless `padding_idx` is a row of a table of `rows` rows.
fn check_padding(rows: usize, padding_idx: Option<usize>) -> Result<()> {
    match padding_idx {
        Some(p) if p >= rows => Err(Error::invalid(
            "layer",
            format!("Embedding: padding_idx {p} is not a row of a table of {rows} rows"),
        )),
        _ => Ok(()),
    }
}

impl Module for Embedding {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.dtype() != DType::I64 {
            return Err(invalid_input(
                self,
                format!("dtype {}", x.dtype()),
                "i64 indices".to_string(),
            ));
        }
        self.weight
            .try_embedding(x, self.padding_idx)
            .map_err(|e| Error::invalid("forward", format!("{}: {e}", self.describe())))
    }

    fn describe(&self) -> String {
        let (rows, dim) = (self.weight.shape()[0], self.weight.shape()[1]);
        description(rows, dim, self.padding_idx)
    }

    fn type_name(&self) -> &'static str {
        "Embedding"
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        vec![("weight".to_string(), self.weight.clone())]
    }
}

/// What [`Embedding`] says of itself, also for layer specs that are not built:
/// `Embedding(1000, 64)` or `Embedding(1000, 64, padding_idx=0)`.
pub(crate) fn description(rows: usize, dim: usize, padding_idx: Option<usize>) -> String {
    match padding_idx {
        Some(p) => format!("Embedding({rows}, {dim}, padding_idx={p})"),
        None => format!("Embedding({rows}, {dim})"),
    }
}
