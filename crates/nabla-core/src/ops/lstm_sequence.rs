//! A whole LSTM sequence (one layer, one direction) as one operation, PyTorch's and cuDNN's
//! fused RNN: every step's `h·W_hhᵀ` and cell in one forward kernel, and one backward rule
//! through all the steps ([`crate::kernels::lstm_sequence`]). The graph gets one node per
//! sequence instead of a GEMM, a cell and their slices per step.
//!
//! When the backward pass is itself recorded (`create_graph`), the rule builds the gradients
//! step by step from differentiable operations on the gates recomputed from the saved inputs
//! and output (the same pull-back as [`Tensor::lstm_cell`]'s rule; `lstm_sequence_final`, whose
//! saved states are constants, runs the sequence again, recorded, for them), so gradients of
//! gradients exist.

use super::recurrent::{LstmGates, gate};
use super::{Save, check_dtypes, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::lstm_sequence::{
    Incoming, SequenceGradients, Steps, lstm_sequence_backward, lstm_sequence_forward,
};
use crate::storage::Data;
use crate::tensor::Tensor;

/// Checks `x` is `[T, N, 4H]`, `weight_hh` `[4H, H]` and `h0`, `c0` `[N, H]`, of one float
/// dtype, naming `op` in the error; returns the sizes.
fn check(
    op: &'static str,
    x: &Tensor,
    (weight_hh, h0, c0): (&Tensor, &Tensor, &Tensor),
    reverse: bool,
) -> Result<Steps> {
    check_dtypes(op, x, &[weight_hh, h0, c0])?;
    let &[t, n, width] = x.shape() else {
        return Err(Error::invalid(
            op,
            format!(
                "the input gates must be [T, N, 4·H], got shape {:?}",
                x.shape()
            ),
        ));
    };
    if width % 4 != 0 {
        return Err(Error::invalid(
            op,
            format!(
                "the input gates must be [T, N, 4·H], got shape {:?} (width {width} is not a \
                 multiple of 4)",
                x.shape()
            ),
        ));
    }
    if t == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "the input gates must have at least one time step, got shape {:?}",
                x.shape()
            ),
        ));
    }
    let h = width / 4;
    if weight_hh.shape() != [width, h] {
        return Err(Error::shapes(
            op,
            x.shape(),
            weight_hh.shape(),
            format!("weight_hh must be [4·H, H] = [{width}, {h}]"),
        ));
    }
    for (name, state) in [("h0", h0), ("c0", c0)] {
        if state.shape() != [n, h] {
            return Err(Error::shapes(
                op,
                x.shape(),
                state.shape(),
                format!("{name} must be [N, H] = [{n}, {h}]"),
            ));
        }
    }
    Ok(Steps { t, n, h, reverse })
}

/// Step `t` of a `[T, ...]` tensor.
fn step(x: &Tensor, t: usize) -> Tensor {
    x.narrow(0, t, 1).squeeze(0)
}

/// The rule of `lstm_sequence` and of `lstm_sequence_final` (`final_step`, whose output is the
/// last step run's `[h | c]` alone). Saved: the input gates, `W_hh`, `h0`, `c0`, every step's
/// `[h | c]` and the workspace `[i | f | g | o]` of every step (which backward turns into the
/// gates' gradient).
struct LstmSequenceBackward {
    steps: Steps,
    final_step: bool,
}

impl LstmSequenceBackward {
    /// The operation's name, for errors.
    fn op(&self) -> &'static str {
        name(self.final_step)
    }

    /// The state `(h, c)` the step run `s`-th starts from: the initial one (`saved[2]`,
    /// `saved[3]`) or the step run before, from every step's `[h | c]` in `states`.
    fn previous(&self, saved: &[Tensor], states: &Tensor, s: usize) -> (Tensor, Tensor) {
        let h = self.steps.h;
        if s == 0 {
            return (saved[2].clone(), saved[3].clone());
        }
        let before = step(states, self.steps.at(s - 1));
        (gate(&before, 0, h), gate(&before, 1, h))
    }

    /// The gradient arriving at the `[h | c]` of the step run `s`-th (time step `t`), if any.
    fn arriving(&self, grad: &Tensor, (s, t): (usize, usize)) -> Option<Tensor> {
        if !self.final_step {
            Some(step(grad, t))
        } else {
            self.steps.is_last_run(s).then(|| grad.clone())
        }
    }

    /// The gradients by differentiable operations, step by step from the last run.
    fn recorded(&self, saved: &[Tensor], grad: &Tensor) -> Result<[Tensor; 4]> {
        let (x, w) = (&saved[0], &saved[1]);
        let Steps { t: steps, h, .. } = self.steps;
        let mut dgates = vec![None; steps];
        let mut dw = Tensor::zeros(w.shape(), w.dtype());
        let mut carry = Tensor::zeros(&[self.steps.n, 2 * h], w.dtype());
        // The states as functions of the inputs: the saved output is one, but the final
        // operation saved every step's as a constant, so it runs the sequence again, recorded.
        let states = if self.final_step {
            sequence(x, (w, &saved[2], &saved[3]), self.steps.reverse, false)?
        } else {
            saved[4].clone()
        };
        for s in (0..steps).rev() {
            let t = self.steps.at(s);
            let (hp, cp) = self.previous(saved, &states, s);
            let hg = hp.matmul(&w.t());
            let g = match self.arriving(grad, (s, t)) {
                Some(arriving) => arriving + &carry,
                None => carry.clone(),
            };
            let (dg, dc) = LstmGates::recomputed(&step(x, t), &hg, &cp, h).pull_back(&cp, &g, h);
            carry = Tensor::cat(&[&dg.matmul(w), &dc], 1);
            dw = dw + dg.t().matmul(&hp);
            dgates[t] = Some(dg);
        }
        let dgates: Vec<&Tensor> = dgates.iter().flatten().collect();
        Ok([
            Tensor::stack(&dgates, 0),
            dw,
            gate(&carry, 0, h),
            gate(&carry, 1, h),
        ])
    }

    fn gradients(&self, saved: &mut [Tensor], grad: &Tensor, needs: &[bool]) -> Result<Gradients> {
        let (d, op) = (self.steps, self.op());
        let [dx, dw, dh0, dc0] = if crate::is_grad_enabled() {
            self.recorded(saved, grad)?
        } else {
            let (inputs, workspace) = saved.split_at_mut(5);
            let [_, w, h0, c0, out] = &*inputs else {
                unreachable!("lstm_sequence saves six tensors")
            };
            let gates = &mut workspace[0];
            dispatch_float!(op, grad.dtype(), T => {
                let backward = |ws: &mut [T]| {
                    grad.try_read(op, |g: &[T]| {
                        let g = if self.final_step {
                            Incoming::FinalStep(g)
                        } else {
                            Incoming::EveryStep(g)
                        };
                        out.try_read(op, |o: &[T]| w.try_read(op, |w: &[T]| {
                            h0.try_read(op, |h0: &[T]| c0.try_read(op, |c0: &[T]| {
                                lstm_sequence_backward(g, (o, ws), w, (h0, c0), (d, needs[2]))
                            }))
                        }))
                    })
                };
                // The workspace becomes the gates' gradient: in place when nothing else holds
                // it (the graph is not kept for another pass), else in a copy.
                let mut in_place = None;
                gates.update_private(|ws: &mut [T]| in_place = Some(backward(ws)));
                let (dx, grads) = match in_place {
                    Some(grads) => (gates.clone(), grads),
                    None => {
                        let mut copy: Data<T> = gates.try_read(op, |ws: &[T]| {
                            let mut copy = crate::pool::take(ws.len());
                            copy.copy_from_slice(ws);
                            copy
                        })?;
                        let grads = backward(&mut copy);
                        (Tensor::from_data(copy, gates.shape()), grads)
                    }
                };
                let SequenceGradients { w, h0, c0 } = grads?????;
                [
                    dx,
                    Tensor::from_data(w, &[4 * d.h, d.h]),
                    Tensor::from_data(h0, &[d.n, d.h]),
                    Tensor::from_data(c0, &[d.n, d.h]),
                ]
            })
        };
        Ok(smallvec::smallvec![
            needs[0].then_some(dx),
            needs[1].then_some(dw),
            needs[2].then_some(dh0),
            needs[3].then_some(dc0),
        ])
    }
}

impl Backward for LstmSequenceBackward {
    fn name(&self) -> &'static str {
        "LstmSequenceBackward"
    }

    fn rule(&self) -> &'static str {
        if self.final_step {
            "LstmSequenceBackward(final)"
        } else {
            "LstmSequenceBackward"
        }
    }

    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![
            Local::map(
                "[dG_t for every step t] with, from the last step run to the first, [dh_t, dc_t] = {g}_t + what step t+1 sends back and dG_t = lstm_cell's gradient of the gates at step t",
                Binding::Sum,
            ),
            Local::map(
                "Σ_t dG_tᵀ·h_(t−1) (one product over all steps)",
                Binding::Sum,
            ),
            Local::map(
                "dG_1·{1} (what the first step run sends back to h)",
                Binding::Product,
            ),
            Local::map(
                "dc_1·f_1 (what the first step run sends back to c)",
                Binding::Product,
            ),
        ];
        let output = if self.final_step {
            "lstm_sequence_final({0}, {1}, {2}, {3})"
        } else {
            "lstm_sequence({0}, {1}, {2}, {3})"
        };
        Some(Formula::new(output, Binding::Atom, self.op(), inputs))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        ok(self.gradients(&mut saved.to_vec(), grad, needs))
    }

    fn try_vjp_owned(
        &self,
        saved: &mut [Tensor],
        grad: Tensor,
        needs: &[bool],
    ) -> Result<Gradients> {
        self.gradients(saved, &grad, needs)
    }

    /// Step by step from the first run: the tangent of the summed pre-activations, then the
    /// cell's ([`LstmGates::push_forward`] at the kept gates and `tanh c_t` of the output).
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (w, ws, output) = (&saved[1], &saved[5], saved[4].detach());
        let (tx, tw) = (&tangents[0], &tangents[1]);
        let Steps { t: steps, h, .. } = self.steps;
        let (mut th, mut tc) = (tangents[2].clone(), tangents[3].clone());
        // Every step's tangent, unless only the last is returned.
        let mut out = vec![None; if self.final_step { 0 } else { steps }];
        for s in 0..steps {
            let t = self.steps.at(s);
            let (hp, cp) = self.previous(saved, &output, s);
            let a = step(tx, t)
                .try_add(&th.try_matmul(&w.t())?)?
                .try_add(&hp.try_matmul(&tw.t())?)?;
            let tanh_c = gate(&step(&output, t), 1, h).try_tanh()?;
            let next = LstmGates::kept(&step(ws, t), tanh_c, h).push_forward(&cp, &a, &tc)?;
            (th, tc) = (gate(&next, 0, h), gate(&next, 1, h));
            if let Some(slot) = out.get_mut(t) {
                *slot = Some(next);
            }
        }
        if self.final_step {
            // The last step run's tangent.
            return Tensor::try_cat(&[&th, &tc], 1);
        }
        let out: Vec<&Tensor> = out.iter().flatten().collect();
        Tensor::try_stack(&out, 0)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let [x, w, h0, c0] = inputs else {
            return None;
        };
        Some(sequence(
            x,
            (w, h0, c0),
            self.steps.reverse,
            self.final_step,
        ))
    }
}

/// The name of the sequence operation that returns only the final step's state when
/// `final_step`, else every step's.
fn name(final_step: bool) -> &'static str {
    if final_step {
        "lstm_sequence_final"
    } else {
        "lstm_sequence"
    }
}

/// Both sequence operations: `lstm_sequence` returns every step's `[h | c]` (`[T, N, 2H]`);
/// with `final_step`, `lstm_sequence_final` a copy of the last step run's alone (`[N, 2H]`),
/// every step's kept for backward only.
fn sequence(
    x: &Tensor,
    (weight_hh, h0, c0): (&Tensor, &Tensor, &Tensor),
    reverse: bool,
    final_step: bool,
) -> Result<Tensor> {
    let op = name(final_step);
    let d = check(op, x, (weight_hh, h0, c0), reverse)?;
    crate::limits::allocation(op, &[d.t, d.n, 6 * d.h], x.dtype())?;
    let (out, ws, last) = dispatch_float!(op, x.dtype(), T => {
        let (out, ws) = x.try_read(op, |x: &[T]| {
            weight_hh.try_read(op, |w: &[T]| h0.try_read(op, |h0: &[T]| {
                c0.try_read(op, |c0: &[T]| lstm_sequence_forward(x, w, (h0, c0), d))
            }))
        })????;
        let last = final_step.then(|| {
            let width = d.n * 2 * d.h;
            let mut last: Data<T> = crate::pool::take(width);
            last.copy_from_slice(&out[d.at(d.t - 1) * width..][..width]);
            Tensor::from_data(last, &[d.n, 2 * d.h])
        });
        (
            Tensor::from_data(out, &[d.t, d.n, 2 * d.h]),
            Tensor::from_data(ws, &[d.t, d.n, 4 * d.h]),
            last,
        )
    });
    let backward = LstmSequenceBackward {
        steps: d,
        final_step,
    };
    let inputs = [x, weight_hh, h0, c0];
    let saved = |every_step| {
        [
            Save::Input(0),
            Save::Input(1),
            Save::Input(2),
            Save::Input(3),
            every_step,
            Save::Extra(&ws),
        ]
    };
    Ok(match last {
        None => record(out, &inputs, backward, &saved(Save::Output)),
        Some(last) => record(last, &inputs, backward, &saved(Save::Extra(&out))),
    })
}

impl Tensor {
    /// A whole LSTM sequence, one layer and direction (`torch.nn.LSTM` after its input
    /// projection), in one operation. `self` holds every step's input gate pre-activations
    /// `x_t·W_ihᵀ + b_ih + b_hh`, `[T, N, 4H]` in PyTorch's gate order i, f, g, o; `weight_hh`
    /// is `[4H, H]` and `h0`, `c0` the initial state `[N, H]`. Step `t` computes
    /// `[h_t | c_t] = lstm_cell(x_t, h_{t−1}·W_hhᵀ, c_{t−1})` (see [`Tensor::lstm_cell`]), from
    /// the first step to the last, or with `reverse` from the last to the first (a
    /// bidirectional layer's backward direction, where `h_{t+1}` comes before `h_t`). Returns
    /// `[T, N, 2H]`: `[h_t | c_t]` of every step. One fused kernel forward and one backward
    /// through all the steps; rule `LstmSequenceBackward`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// // H = 1, zero weights and pre-activations: every gate 1/2, g = 0, so c halves each step.
    /// let x = Tensor::zeros(&[2, 1, 4], DType::F64);
    /// let w = Tensor::zeros(&[4, 1], DType::F64);
    /// let h0 = Tensor::zeros(&[1, 1], DType::F64);
    /// let c0 = Tensor::from_vec(vec![4.0f64], &[1, 1]);
    /// let out = x.lstm_sequence(&w, &h0, &c0, false).to_vec::<f64>();
    /// assert_eq!((out[1], out[3]), (2.0, 1.0)); // c_0, c_1
    /// assert!((out[2] - 0.5 * 1.0f64.tanh()).abs() < 1e-15); // h_1 = o·tanh c_1
    /// ```
    pub fn try_lstm_sequence(
        &self,
        weight_hh: &Tensor,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Result<Tensor> {
        sequence(self, (weight_hh, h0, c0), reverse, false)
    }

    /// Panicking form of [`Tensor::try_lstm_sequence`].
    #[track_caller]
    pub fn lstm_sequence(
        &self,
        weight_hh: &Tensor,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Tensor {
        ok(self.try_lstm_sequence(weight_hh, h0, c0, reverse))
    }

    /// [`Tensor::try_lstm_sequence`] when only the state it ends in is wanted (a classifier
    /// reading a sequence, `torch.nn.LSTM`'s `h_n` and `c_n`): returns the last step run's
    /// `[h | c]`, `[N, 2H]` (time step `T − 1`, or `0` with `reverse`). The same kernels;
    /// backward starts from this one step's gradient instead of reading a `[T, N, 2H]` one that
    /// is zero everywhere else. Rule `LstmSequenceBackward(final)`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// // H = 1, zero weights and pre-activations: every gate 1/2, g = 0, so c halves each step.
    /// let x = Tensor::zeros(&[3, 1, 4], DType::F64);
    /// let w = Tensor::zeros(&[4, 1], DType::F64);
    /// let h0 = Tensor::zeros(&[1, 1], DType::F64);
    /// let c0 = Tensor::from_vec(vec![8.0f64], &[1, 1]);
    /// let last = x.lstm_sequence_final(&w, &h0, &c0, false);
    /// assert_eq!((last.shape(), last.to_vec::<f64>()[1]), (&[1, 2][..], 1.0)); // c_2
    /// ```
    pub fn try_lstm_sequence_final(
        &self,
        weight_hh: &Tensor,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Result<Tensor> {
        sequence(self, (weight_hh, h0, c0), reverse, true)
    }

    /// Panicking form of [`Tensor::try_lstm_sequence_final`].
    #[track_caller]
    pub fn lstm_sequence_final(
        &self,
        weight_hh: &Tensor,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Tensor {
        ok(self.try_lstm_sequence_final(weight_hh, h0, c0, reverse))
    }
}
