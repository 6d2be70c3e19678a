//! Recurrent layers and cells built around parameters that already exist, in PyTorch's order
//! and layouts: for a front end that owns the tensors (an `nn.LSTM` whose parameters live in
//! Python) and runs each forward pass through these layers.

use super::cell::{Cell, GruCell, LstmCell, RnnCell};
use super::layer::{Gru, Lstm, Rnn};
use super::options::{Kind, Nonlinearity, RecurrentOptions};
use super::sequence::Layers;
use super::weights::CellWeights;
use crate::layers::dropout::Masks;
use crate::{Error, Result};
use nabla_core::Tensor;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

impl CellWeights {
    /// `weight_ih [G·H, I]`, `weight_hh [G·H, H]` and, when given, `bias_ih` and `bias_hh`
    /// (`[G·H]`) of one cell of `kind`, checked; `name` (`weight_ih_l1_reverse`'s suffix
    /// `_l1_reverse`) labels the errors. Returns the weights and the input size `I`.
    fn from_parts(kind: Kind, suffix: &str, parts: &[Tensor]) -> Result<(CellWeights, usize)> {
        let wrong = |message: String| {
            Error::invalid("from_parts", format!("{}{suffix}: {message}", kind.name()))
        };
        let (weight_ih, weight_hh, biases) = match parts {
            [ih, hh] => (ih, hh, None),
            [ih, hh, b_ih, b_hh] => (ih, hh, Some((b_ih, b_hh))),
            _ => {
                return Err(wrong(format!(
                    "a cell has 2 weights and 0 or 2 biases, got {} tensors",
                    parts.len()
                )));
            }
        };
        let dtype = weight_hh.dtype();
        let &[rows, hidden] = weight_hh.shape() else {
            return Err(wrong(format!(
                "weight_hh{suffix} must be [G·H, H], got shape {:?}",
                weight_hh.shape()
            )));
        };
        let gates = kind.gates();
        if hidden == 0 || rows != gates * hidden || !dtype.is_float() {
            return Err(wrong(format!(
                "weight_hh{suffix} must be a float [{gates}·H, H] tensor with H >= 1, got {dtype} of shape {:?}",
                weight_hh.shape()
            )));
        }
        let input = match weight_ih.shape() {
            &[r, i] if r == rows && i > 0 && weight_ih.dtype() == dtype => i,
            shape => {
                return Err(wrong(format!(
                    "weight_ih{suffix} must be {dtype} of shape [{rows}, I] with I >= 1, got {} of shape {shape:?}",
                    weight_ih.dtype()
                )));
            }
        };
        for (name, b) in biases
            .iter()
            .flat_map(|(a, b)| [("bias_ih", a), ("bias_hh", b)])
        {
            if b.shape() != [rows] || b.dtype() != dtype {
                return Err(wrong(format!(
                    "{name}{suffix} must be {dtype} of shape [{rows}], got {} of shape {:?}",
                    b.dtype(),
                    b.shape()
                )));
            }
        }
        let weights = CellWeights {
            weight_ih: weight_ih.clone(),
            weight_hh: weight_hh.clone(),
            bias_ih: biases.map(|(b, _)| (*b).clone()),
            bias_hh: biases.map(|(_, b)| (*b).clone()),
        };
        Ok((weights, input))
    }
}

impl Layers {
    /// A stack of `options.num_layers` layers (and directions) around `parameters`, in
    /// PyTorch's order: per layer and direction `weight_ih`, `weight_hh`, then with
    /// `options.bias` `bias_ih`, `bias_hh`. Dropout between layers draws its masks from `seed`.
    fn from_parts(
        kind: Kind,
        parameters: &[Tensor],
        options: RecurrentOptions,
        seed: u64,
    ) -> Result<Layers> {
        let per_cell = if options.bias { 4 } else { 2 };
        let directions = options.directions();
        let cells = options.num_layers * directions;
        if options.num_layers == 0 || parameters.len() != cells * per_cell {
            return Err(Error::invalid(
                "from_parts",
                format!(
                    "{}: {} layers of {directions} direction(s) with bias={} take {} parameters, got {}",
                    kind.name(),
                    options.num_layers,
                    options.bias,
                    cells * per_cell,
                    parameters.len()
                ),
            ));
        }
        let mut weights = Vec::with_capacity(cells);
        let mut input_size = 0;
        for (k, parts) in parameters.chunks(per_cell).enumerate() {
            let reverse = if k % directions == 1 { "_reverse" } else { "" };
            let suffix = format!("_l{}{reverse}", k / directions);
            let (cell, input) = CellWeights::from_parts(kind, &suffix, parts)?;
            let hidden = weights.first().map_or(cell.hidden(), CellWeights::hidden);
            let expected = if k < directions {
                input_size = input;
                input
            } else {
                directions * hidden
            };
            if cell.hidden() != hidden || input != expected {
                return Err(Error::invalid(
                    "from_parts",
                    format!(
                        "{}{suffix}: expected hidden size {hidden} and input size {expected}, got {} and {input}",
                        kind.name(),
                        cell.hidden()
                    ),
                ));
            }
            weights.push(cell);
        }
        let hidden_size = weights[0].hidden();
        options.check(&format!("{}({input_size} -> {hidden_size})", kind.name()))?;
        Ok(Layers {
            kind,
            input_size,
            hidden_size,
            options,
            cells: weights,
            returning_sequence: false,
            dropout: Masks::try_new(kind.name(), options.dropout, seed)?,
            recording: AtomicBool::new(false),
            recorded: Mutex::new(Vec::new()),
        })
    }
}

impl Rnn {
    /// An RNN around existing `parameters` (PyTorch's order: per layer and direction
    /// `weight_ih_lK`, `weight_hh_lK`, then `bias_ih_lK`, `bias_hh_lK` when `options.bias`);
    /// the sizes come from the weights. Dropout between layers draws its masks from `seed`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::layers::{Nonlinearity, RecurrentOptions, Rnn};
    /// use nabla_nn::module::Module;
    /// let parts = vec![Tensor::ones(&[4, 3], DType::F64), Tensor::ones(&[4, 4], DType::F64)];
    /// let options = RecurrentOptions { bias: false, ..Default::default() };
    /// let rnn = Rnn::from_parts(Nonlinearity::Tanh, &parts, options, 0).unwrap();
    /// assert_eq!(rnn.describe(), "RNN(3 -> 4, bias=false)");
    /// assert!(Rnn::from_parts(Nonlinearity::Tanh, &parts[..1], options, 0).is_err());
    /// ```
    pub fn from_parts(
        nonlinearity: Nonlinearity,
        parameters: &[Tensor],
        options: RecurrentOptions,
        seed: u64,
    ) -> Result<Self> {
        let kind = Kind::Rnn(nonlinearity);
        Ok(Rnn {
            layers: Layers::from_parts(kind, parameters, options, seed)?,
        })
    }
}

impl Lstm {
    /// An LSTM around existing `parameters`, as [`Rnn::from_parts`] (gates i, f, g, o).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::layers::{Lstm, RecurrentOptions};
    /// let parts: Vec<Tensor> = [[8, 3], [8, 2]].iter().map(|s| Tensor::zeros(s, DType::F32)).collect();
    /// let options = RecurrentOptions { bias: false, ..Default::default() };
    /// let lstm = Lstm::from_parts(&parts, options, 0).unwrap();
    /// let out = lstm.forward_sequence(&Tensor::ones(&[5, 1, 3], DType::F32), None, None);
    /// assert_eq!(out.state.c.unwrap().shape(), &[1, 1, 2]);
    /// ```
    pub fn from_parts(parameters: &[Tensor], options: RecurrentOptions, seed: u64) -> Result<Self> {
        Ok(Lstm {
            layers: Layers::from_parts(Kind::Lstm, parameters, options, seed)?,
        })
    }
}

impl Gru {
    /// A GRU around existing `parameters`, as [`Rnn::from_parts`] (gates r, z, n).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::layers::{Gru, RecurrentOptions};
    /// let shapes: [&[usize]; 4] = [&[6, 3], &[6, 2], &[6], &[6]];
    /// let parts: Vec<Tensor> = shapes.iter().map(|s| Tensor::zeros(s, DType::F32)).collect();
    /// let gru = Gru::from_parts(&parts, RecurrentOptions::default(), 0).unwrap();
    /// assert_eq!(gru.hidden_size(), 2);
    /// ```
    pub fn from_parts(parameters: &[Tensor], options: RecurrentOptions, seed: u64) -> Result<Self> {
        Ok(Gru {
            layers: Layers::from_parts(Kind::Gru, parameters, options, seed)?,
        })
    }
}

impl Cell {
    fn from_parts(kind: Kind, parameters: &[Tensor]) -> Result<Cell> {
        let (weights, input) = CellWeights::from_parts(kind, "", parameters)?;
        Ok(Cell {
            kind,
            input,
            weights,
        })
    }
}

impl RnnCell {
    /// A cell around existing `parameters`: `weight_ih`, `weight_hh` and optionally
    /// `bias_ih`, `bias_hh`, in that order.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::layers::{Nonlinearity, RnnCell};
    /// let parts = [Tensor::ones(&[4, 3], DType::F64), Tensor::ones(&[4, 4], DType::F64)];
    /// let cell = RnnCell::from_parts(Nonlinearity::Relu, &parts).unwrap();
    /// assert_eq!(cell.step(&Tensor::ones(&[3], DType::F64), None).to_vec::<f64>(), [3.0; 4]);
    /// ```
    pub fn from_parts(nonlinearity: Nonlinearity, parameters: &[Tensor]) -> Result<Self> {
        Ok(RnnCell {
            cell: Cell::from_parts(Kind::Rnn(nonlinearity), parameters)?,
        })
    }
}

impl LstmCell {
    /// A cell around existing `parameters`, as [`RnnCell::from_parts`].
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::layers::LstmCell;
    /// let parts = [Tensor::ones(&[8, 3], DType::F64), Tensor::ones(&[8, 2], DType::F64)];
    /// assert!(LstmCell::from_parts(&parts).is_ok());
    /// assert!(LstmCell::from_parts(&parts[..1]).is_err());
    /// ```
    pub fn from_parts(parameters: &[Tensor]) -> Result<Self> {
        Ok(LstmCell {
            cell: Cell::from_parts(Kind::Lstm, parameters)?,
        })
    }
}

impl GruCell {
    /// A cell around existing `parameters`, as [`RnnCell::from_parts`].
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_nn::layers::GruCell;
    /// let parts = [Tensor::ones(&[6, 3], DType::F64), Tensor::ones(&[6, 2], DType::F64)];
    /// assert!(GruCell::from_parts(&parts).is_ok());
    /// ```
    pub fn from_parts(parameters: &[Tensor]) -> Result<Self> {
        Ok(GruCell {
            cell: Cell::from_parts(Kind::Gru, parameters)?,
        })
    }
}
