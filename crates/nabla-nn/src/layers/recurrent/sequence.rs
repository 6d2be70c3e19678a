//! The stack of recurrent cells behind [`super::Rnn`], [`super::Lstm`] and [`super::Gru`]: its
//! parameters, the checks of its inputs, and the loop over layers, directions and time steps.
//!
//! An LSTM runs all its steps in one `lstm_sequence` operation (one node: every step's
//! `x_t·W_ihᵀ + h·W_hhᵀ` and cell in one kernel, and one backward through the steps), unless
//! some sequences are shorter than others (the masks below) or the first layer's hidden states
//! are recorded step by step. Otherwise each layer and direction projects its whole input
//! sequence at once (`X·W_ihᵀ` plus the biases, one GEMM over all `T·N` rows), and every step
//! takes its slice of the projection and runs one GEMM for the recurrent part (`h·W_hhᵀ`) and
//! the fused cell op. The slices' gradients are added into one buffer in place (the engine's
//! `accumulate_into`), so backward is `O(T)`.

use super::options::{Kind, RecurrentOptions};
use super::state::{RecurrentState, SequenceOutput};
use super::weights::{CellWeights, Hidden};
use super::{check_dtype, check_sizes, wrong_input};
use crate::Result;
use crate::layers::dropout::Masks as Dropout;
use nabla_core::{DType, Generator, Tensor};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What [`crate::module::Module::describe`] says of a sequence layer, also for layer specs
/// that are not built: `LSTM(28 -> 128)`, `LSTM(28 -> 128, layers=2, bidirectional)`,
/// `RNN(28 -> 128, relu)`, then the options that differ from PyTorch's defaults.
pub(crate) fn description(
    kind: Kind,
    input: usize,
    hidden: usize,
    options: &RecurrentOptions,
    returning_sequence: bool,
) -> String {
    let mut extras = Vec::new();
    if options.num_layers != 1 {
        extras.push(format!("layers={}", options.num_layers));
    }
    if options.bidirectional {
        extras.push("bidirectional".to_string());
    }
    if options.dropout != 0.0 {
        extras.push(format!("dropout={}", options.dropout));
    }
    if options.batch_first {
        extras.push("batch_first".to_string());
    }
    if !options.bias {
        extras.push("bias=false".to_string());
    }
    if returning_sequence {
        extras.push("sequence".to_string());
    }
    let extras: String = extras.iter().map(|e| format!(", {e}")).collect();
    format!(
        "{}({input} -> {hidden}{}{extras})",
        kind.name(),
        kind.suffix()
    )
}

/// What one pass over a sequence leaves: the last layer's outputs per time step (`[N, D·H]`
/// each, when asked for) and the final state of every layer and direction.
pub(super) struct Run {
    pub(super) outputs: Vec<Tensor>,
    pub(super) finals: Vec<Hidden>,
    pub(super) batched: bool,
}

/// The layers and directions of a sequence layer, with the state of its forward passes.
pub(super) struct Layers {
    pub(super) kind: Kind,
    pub(super) input_size: usize,
    pub(super) hidden_size: usize,
    pub(super) options: RecurrentOptions,
    /// One cell per layer and direction, in PyTorch's order (`l0`, `l0_reverse`, `l1`, ...).
    pub(super) cells: Vec<CellWeights>,
    pub(super) returning_sequence: bool,
    /// Dropout between layers, with its mode and mask stream.
    pub(super) dropout: Dropout,
    pub(super) recording: AtomicBool,
    pub(super) recorded: Mutex<Vec<Tensor>>,
}

impl Layers {
    pub(super) fn try_new(
        kind: Kind,
        input_size: usize,
        hidden_size: usize,
        options: RecurrentOptions,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        check_sizes(kind.name(), input_size, hidden_size, dtype)?;
        options.check(&format!("{}({input_size} -> {hidden_size})", kind.name()))?;
        let directions = options.directions();
        let mut cells = Vec::with_capacity(options.num_layers * directions);
        for layer in 0..options.num_layers {
            let input = if layer == 0 {
                input_size
            } else {
                directions * hidden_size
            };
            for _ in 0..directions {
                cells.push(CellWeights::new(
                    kind,
                    input,
                    hidden_size,
                    options.bias,
                    dtype,
                    rng,
                )?);
            }
        }
        Ok(Layers {
            kind,
            input_size,
            hidden_size,
            options,
            cells,
            returning_sequence: false,
            dropout: Dropout::try_new(kind.name(), options.dropout, rng.next_seed())?,
            recording: AtomicBool::new(false),
            recorded: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn describe(&self) -> String {
        description(
            self.kind,
            self.input_size,
            self.hidden_size,
            &self.options,
            self.returning_sequence,
        )
    }

    /// The parameters with PyTorch's names: `weight_ih_l0`, ..., `bias_hh_l1_reverse`.
    pub(super) fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let directions = self.options.directions();
        self.cells
            .iter()
            .enumerate()
            .flat_map(|(k, cell)| {
                let reverse = if k % directions == 1 { "_reverse" } else { "" };
                cell.named(&format!("_l{}{reverse}", k / directions))
            })
            .collect()
    }

    fn dtype(&self) -> DType {
        self.cells[0].weight_hh.dtype()
    }

    /// The whole sequence: every layer's outputs and final states.
    pub(super) fn try_forward_sequence(
        &self,
        x: &Tensor,
        initial: Option<&RecurrentState>,
        lengths: Option<&[usize]>,
    ) -> Result<SequenceOutput> {
        let run = self.run(x, initial, lengths, true)?;
        let output = self.stack_outputs(&run)?;
        let unbatch =
            |t: Tensor| -> Result<Tensor> { Ok(if run.batched { t } else { t.try_squeeze(1)? }) };
        let h: Vec<&Tensor> = run.finals.iter().map(|s| &s.h).collect();
        let c: Vec<&Tensor> = run.finals.iter().filter_map(|s| s.c.as_ref()).collect();
        let state = RecurrentState {
            h: unbatch(Tensor::try_stack(&h, 0)?)?,
            c: if c.is_empty() {
                None
            } else {
                Some(unbatch(Tensor::try_stack(&c, 0)?)?)
            },
        };
        Ok(SequenceOutput { output, state })
    }

    /// The module's output: the last layer's final hidden state `[N, D·H]` (`[D·H]`
    /// unbatched), or the whole output sequence when built to return it.
    pub(super) fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let run = self.run(x, None, None, self.returning_sequence)?;
        if self.returning_sequence {
            return self.stack_outputs(&run);
        }
        let last = &run.finals[run.finals.len() - self.options.directions()..];
        let h = match last {
            [only] => only.h.clone(),
            _ => {
                let parts: Vec<&Tensor> = last.iter().map(|s| &s.h).collect();
                Tensor::try_cat(&parts, 1)?
            }
        };
        Ok(if run.batched { h } else { h.try_squeeze(0)? })
    }

    /// The per-step outputs stacked along the time dim of the layout of the input.
    fn stack_outputs(&self, run: &Run) -> Result<Tensor> {
        let steps: Vec<&Tensor> = run.outputs.iter().collect();
        Ok(if !run.batched {
            Tensor::try_stack(&steps, 0)?.try_squeeze(1)?
        } else if self.options.batch_first {
            Tensor::try_stack(&steps, 1)?
        } else {
            Tensor::try_stack(&steps, 0)?
        })
    }

    /// Checks the input (and state and lengths) and runs every layer and direction over it.
    fn run(
        &self,
        x: &Tensor,
        initial: Option<&RecurrentState>,
        lengths: Option<&[usize]>,
        want_outputs: bool,
    ) -> Result<Run> {
        let layout = Layout::of(self, x)?;
        // Time-major, so that each step's slice of the projection is one contiguous block; laid
        // out once here, so each direction's projection and its backward read it as it is.
        let mut sequence = Sequence {
            x: if layout.batched && self.options.batch_first {
                x.try_transpose(0, 1)?.try_contiguous()?
            } else {
                x.clone()
            },
            squeeze: layout.batched,
        };
        let mut outputs_below = Vec::new();
        let initial = self.initial_states(&layout, initial)?;
        let masks = self.masks(&layout, lengths)?;
        let recording = self.recording.load(Ordering::Relaxed);
        let mut recorded = Vec::new();
        let directions = self.options.directions();
        let mut finals = Vec::with_capacity(self.cells.len());
        for layer in 0..self.options.num_layers {
            if layer > 0 {
                let steps: Vec<&Tensor> = outputs_below.iter().collect();
                sequence = Sequence {
                    x: {
                        let x = Tensor::try_stack(&steps, 0)?;
                        self.dropout.multiply(&x, x.shape())?
                    },
                    squeeze: true,
                };
            }
            let keep = want_outputs || layer + 1 < self.options.num_layers;
            let mut per_direction: Vec<Vec<Tensor>> = Vec::with_capacity(directions);
            for direction in 0..directions {
                let k = layer * directions + direction;
                let mut state = match &initial {
                    Some(states) => states[k].clone(),
                    None => Hidden::zeros(self.kind, layout.n, self.hidden_size, self.dtype())?,
                };
                let whole = self.kind == Kind::Lstm && masks.is_none() && !(recording && k == 0);
                if whole {
                    let (outputs, last) =
                        self.lstm_sequence(k, &sequence.x, &state, direction == 1, keep)?;
                    finals.push(last);
                    per_direction.push(outputs);
                    continue;
                }
                let projected = self.cells[k].project(self.kind, &sequence.x)?;
                let mut outputs: Vec<Option<Tensor>> = vec![None; if keep { layout.t } else { 0 }];
                for i in 0..layout.t {
                    let t = if direction == 0 { i } else { layout.t - 1 - i };
                    let gates_x = sequence.step(&projected, t)?;
                    let next = self.cells[k].step(self.kind, &gates_x, &state)?;
                    state = match &masks {
                        None => next,
                        Some(m) => m.hold(t, next, &state)?,
                    };
                    if recording && k == 0 {
                        state.h.retain_grad();
                        recorded.push(state.h.clone());
                    }
                    if keep {
                        outputs[t] = Some(match &masks {
                            None => state.h.clone(),
                            Some(m) => m.output(t, &state.h)?,
                        });
                    }
                }
                finals.push(state);
                per_direction.push(outputs.into_iter().flatten().collect());
            }
            if keep {
                outputs_below = match per_direction.as_slice() {
                    [forward, backward] => forward
                        .iter()
                        .zip(backward)
                        .map(|(f, b)| Tensor::try_cat(&[f, b], 1))
                        .collect::<nabla_core::Result<_>>()?,
                    _ => per_direction.swap_remove(0),
                };
            }
        }
        if recording {
            *self.recorded.lock().unwrap_or_else(|p| p.into_inner()) = recorded;
        }
        Ok(Run {
            outputs: if want_outputs {
                outputs_below
            } else {
                Vec::new()
            },
            finals,
            batched: layout.batched,
        })
    }

    /// Layer and direction `k` over the whole sequence in one `lstm_sequence` operation (no
    /// masks, no per-step recording): its hidden state at every step (`[N, H]` each, when
    /// `keep`) and its final state; without `keep`, `lstm_sequence_final` gives the final
    /// state alone.
    fn lstm_sequence(
        &self,
        k: usize,
        x: &Tensor,
        initial: &Hidden,
        reverse: bool,
        keep: bool,
    ) -> Result<(Vec<Tensor>, Hidden)> {
        let h = self.hidden_size;
        // An unbatched input is [T, I]: one sequence.
        let x = match x.shape() {
            [_, _] => x.try_unsqueeze(1)?,
            _ => x.clone(),
        };
        // A step's [h | c] as the state it holds.
        let state = |hc: &Tensor| -> Result<Hidden> {
            Ok(Hidden {
                h: hc.try_narrow(1, 0, h)?,
                c: Some(hc.try_narrow(1, h, h)?),
            })
        };
        if !keep {
            let last = self.cells[k].lstm_sequence(&x, initial, (reverse, true))?;
            return Ok((Vec::new(), state(&last)?));
        }
        let out = self.cells[k].lstm_sequence(&x, initial, (reverse, false))?;
        let steps = out.shape()[0];
        let at = |t: usize| -> Result<Tensor> { Ok(out.try_narrow(0, t, 1)?.try_squeeze(0)?) };
        let outputs = (0..steps)
            .map(|t| Ok(at(t)?.try_narrow(1, 0, h)?))
            .collect::<Result<_>>()?;
        Ok((outputs, state(&at(if reverse { 0 } else { steps - 1 })?)?))
    }

    /// The initial state of every layer and direction (`[N, H]` each), from a
    /// [`RecurrentState`] of `[L·D, N, H]` tensors (`[L·D, H]` unbatched).
    fn initial_states(
        &self,
        layout: &Layout,
        initial: Option<&RecurrentState>,
    ) -> Result<Option<Vec<Hidden>>> {
        let Some(state) = initial else {
            return Ok(None);
        };
        let rows = self.cells.len();
        let expected: Vec<usize> = if layout.batched {
            vec![rows, layout.n, self.hidden_size]
        } else {
            vec![rows, self.hidden_size]
        };
        let lstm = self.kind == Kind::Lstm;
        if lstm != state.c.is_some() {
            let what = if lstm {
                "an initial state without c"
            } else {
                "an initial state with c"
            };
            let expected = if lstm { "h and c" } else { "h only" };
            return Err(wrong_input(
                &self.describe(),
                what.to_string(),
                expected.to_string(),
            ));
        }
        for (name, t) in std::iter::once(("h", &state.h)).chain(state.c.iter().map(|c| ("c", c))) {
            if t.shape() != expected.as_slice() || t.dtype() != self.dtype() {
                return Err(wrong_input(
                    &self.describe(),
                    format!(
                        "initial {name} of shape {:?} and dtype {}",
                        t.shape(),
                        t.dtype()
                    ),
                    format!("[L·D, N, H] = {expected:?} of dtype {}", self.dtype()),
                ));
            }
        }
        let row = |t: &Tensor, k: usize| -> Result<Tensor> {
            let r = t.try_narrow(0, k, 1)?;
            // [1, N, H] -> [N, H]; unbatched, [1, H] is already one sequence's [N, H].
            Ok(if layout.batched { r.try_squeeze(0)? } else { r })
        };
        (0..rows)
            .map(|k| {
                Ok(Hidden {
                    h: row(&state.h, k)?,
                    c: state.c.as_ref().map(|c| row(c, k)).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The masks of the valid steps of sequences of `lengths`; `None` when every sequence
    /// fills all `T` steps (no masking at all).
    fn masks(&self, layout: &Layout, lengths: Option<&[usize]>) -> Result<Option<Masks>> {
        let Some(lengths) = lengths else {
            return Ok(None);
        };
        if lengths.len() != layout.n {
            return Err(wrong_input(
                &self.describe(),
                format!("{} lengths", lengths.len()),
                format!("one per sequence ({})", layout.n),
            ));
        }
        if let Some((i, &bad)) = lengths
            .iter()
            .enumerate()
            .find(|&(_, &l)| l == 0 || l > layout.t)
        {
            return Err(wrong_input(
                &self.describe(),
                format!("lengths[{i}] = {bad}"),
                format!("a length in 1..={} (the input's T)", layout.t),
            ));
        }
        if lengths.iter().all(|&l| l == layout.t) {
            return Ok(None);
        }
        let valid = (0..layout.t)
            .map(|t| {
                let flags: Vec<f64> = lengths
                    .iter()
                    .map(|&l| f64::from(u8::from(t < l)))
                    .collect();
                Tensor::try_from_vec(flags, &[layout.n, 1])
            })
            .collect::<nabla_core::Result<_>>()?;
        Ok(Some(Masks {
            valid,
            zeros: Tensor::try_zeros(&[layout.n, self.hidden_size], self.dtype())?,
        }))
    }
}

/// A layer's input sequence as one time-major tensor (`[T, N, ·]`, or `[T, ·]` unbatched).
struct Sequence {
    x: Tensor,
    /// Whether a step's slice loses the time dim (`[N, ·]` from a batched input); an
    /// unbatched input's `[1, ·]` slice is already one sequence's `[N, ·]`.
    squeeze: bool,
}

impl Sequence {
    /// Step `t` of `projected`, the projection of [`Sequence::x`]: `[N, gates·H]`.
    fn step(&self, projected: &Tensor, t: usize) -> Result<Tensor> {
        let slice = projected.try_narrow(0, t, 1)?;
        Ok(if self.squeeze {
            slice.try_squeeze(0)?
        } else {
            slice
        })
    }
}

/// Where the time steps and sequences of an input are.
struct Layout {
    /// Time steps.
    t: usize,
    /// Sequences (1 for an unbatched input).
    n: usize,
    batched: bool,
}

impl Layout {
    /// Checks `x` is `[T, N, I]` (`[N, T, I]` batch-first) or `[T, I]`, of the layer's dtype,
    /// with at least one time step.
    fn of(layers: &Layers, x: &Tensor) -> Result<Layout> {
        check_dtype(&layers.describe(), x, layers.dtype())?;
        let i = layers.input_size;
        let expected = if layers.options.batch_first {
            format!("[N, T, {i}] or [T, {i}] with T >= 1")
        } else {
            format!("[T, N, {i}] or [T, {i}] with T >= 1")
        };
        let layout = match *x.shape() {
            [t, n, last] if last == i => {
                let (t, n) = if layers.options.batch_first {
                    (n, t)
                } else {
                    (t, n)
                };
                Layout {
                    t,
                    n,
                    batched: true,
                }
            }
            [t, last] if last == i => Layout {
                t,
                n: 1,
                batched: false,
            },
            _ => Layout {
                t: 0,
                n: 0,
                batched: false,
            },
        };
        if layout.t == 0 {
            return Err(wrong_input(
                &layers.describe(),
                format!("input has shape {:?}", x.shape()),
                expected,
            ));
        }
        Ok(layout)
    }
}

/// The valid steps of a batch of sequences of different lengths (PyTorch's packed sequences):
/// past its length a sequence's state holds and its output is zero.
struct Masks {
    /// Per time step, `[N, 1]`: 1 where the step is within the sequence's length.
    valid: Vec<Tensor>,
    /// `[N, H]` zeros, the output past a sequence's length.
    zeros: Tensor,
}

impl Masks {
    /// The state after step `t`: `next` for the sequences still running, `before` for those
    /// past their length (so the reverse direction starts at each sequence's own last step).
    fn hold(&self, t: usize, next: Hidden, before: &Hidden) -> Result<Hidden> {
        let valid = &self.valid[t];
        let c = match (&next.c, &before.c) {
            (Some(a), Some(b)) => Some(valid.try_where_cond(a, b)?),
            _ => None,
        };
        Ok(Hidden {
            h: valid.try_where_cond(&next.h, &before.h)?,
            c,
        })
    }

    /// The output of step `t`: `h` within each sequence's length, zero past it.
    fn output(&self, t: usize, h: &Tensor) -> Result<Tensor> {
        Ok(self.valid[t].try_where_cond(h, &self.zeros)?)
    }
}
