//! A whole LSTM sequence (one layer, one direction) as one operation, PyTorch's and cuDNN's
//! fused RNN: every step's input projection `x_t·W_ihᵀ`, `h·W_hhᵀ` and cell in one forward
//! kernel, and one backward rule through all the steps ([`crate::kernels::lstm_sequence`]),
//! whose input projection's gradients are [`Tensor::linear`]'s rule applied to the gates'
//! gradient of every step. The graph gets one node per sequence instead of a GEMM, a cell and
//! their slices per step.
//!
//! When the backward pass is itself recorded (`create_graph`), the rule builds the gradients
//! step by step from differentiable operations on the gates recomputed from the saved inputs
//! and output (the same pull-back as [`Tensor::lstm_cell`]'s rule; `lstm_sequence_final`, whose
//! saved states are constants, runs the sequence again, recorded, for them), so gradients of
//! gradients exist.

use super::linear::LinearBackward;
use super::recurrent::{LstmGates, gate};
use super::{Save, check_dtypes, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::lstm_sequence::{
    Incoming, SequenceGradients, SequenceWeights, Steps, lstm_sequence_backward,
    lstm_sequence_forward,
};
use crate::storage::Data;
use crate::tensor::Tensor;

/// The weights of a sequence: `weight_ih` `[4H, I]`, `weight_hh` `[4H, H]` and an optional
/// bias `[4H]` added to every step's gate pre-activations.
type Weights<'a> = (&'a Tensor, &'a Tensor, Option<&'a Tensor>);

/// Where the rule finds what the operation saved: its inputs `x`, `W_ih`, `W_hh`, `h0`, `c0`
/// (the inputs' order too, the bias last when there is one), every step's `[h | c]`, the
/// workspace, and the bias.
const X: usize = 0;
const W_IH: usize = 1;
const W_HH: usize = 2;
const H0: usize = 3;
const C0: usize = 4;
const STATES: usize = 5;
const WORKSPACE: usize = 6;
const BIAS: usize = 7;
/// The bias's place among the inputs (and their `needs` and tangents).
const BIAS_INPUT: usize = 5;

/// Checks `x` is `[T, N, I]` with `T ≥ 1`, `weight_hh` `[4H, H]`, `weight_ih` `[4H, I]`, the bias
/// `[4H]` and `h0`, `c0` `[N, H]`, of one float dtype, naming `op` in the error; returns the
/// sizes and `I`.
fn check(
    op: &'static str,
    x: &Tensor,
    (weight_ih, weight_hh, bias): Weights<'_>,
    (h0, c0): (&Tensor, &Tensor),
    reverse: bool,
) -> Result<(Steps, usize)> {
    let others: Vec<&Tensor> = [weight_ih, weight_hh, h0, c0]
        .into_iter()
        .chain(bias)
        .collect();
    check_dtypes(op, x, &others)?;
    let &[t, n, i] = x.shape() else {
        return Err(Error::invalid(
            op,
            format!("the input must be [T, N, I], got shape {:?}", x.shape()),
        ));
    };
    if t == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "the input must have at least one time step, got shape {:?}",
                x.shape()
            ),
        ));
    }
    let h = match *weight_hh.shape() {
        [rows, h] if rows == 4 * h => h,
        _ => {
            return Err(Error::invalid(
                op,
                format!(
                    "weight_hh must be [4·H, H], got shape {:?}",
                    weight_hh.shape()
                ),
            ));
        }
    };
    if weight_ih.shape() != [4 * h, i] {
        return Err(Error::shapes(
            op,
            x.shape(),
            weight_ih.shape(),
            format!("weight_ih must be [4·H, I] = [{}, {i}]", 4 * h),
        ));
    }
    if let Some(b) = bias
        && b.shape() != [4 * h]
    {
        return Err(Error::shapes(
            op,
            weight_hh.shape(),
            b.shape(),
            format!("the bias must be [4·H] = [{}]", 4 * h),
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
    Ok((Steps { t, n, h, reverse }, i))
}

/// Step `t` of a `[T, ...]` tensor.
fn step(x: &Tensor, t: usize) -> Tensor {
    x.narrow(0, t, 1).squeeze(0)
}

/// The rule of `lstm_sequence` and of `lstm_sequence_final` (`final_step`, whose output is the
/// last step run's `[h | c]` alone). Saved (at the indices named above): the inputs, every
/// step's `[h | c]`, the workspace `[i | f | g | o]` of every step (which backward turns into
/// the gates' gradient) and the bias when there is one.
struct LstmSequenceBackward {
    steps: Steps,
    final_step: bool,
    biased: bool,
}

impl LstmSequenceBackward {
    /// The operation's name, for errors.
    fn op(&self) -> &'static str {
        name(self.final_step)
    }

    /// The saved weights.
    fn weights<'a>(&self, saved: &'a [Tensor]) -> Weights<'a> {
        (&saved[W_IH], &saved[W_HH], saved.get(BIAS))
    }

    /// The state `(h, c)` the step run `s`-th starts from: the initial one or the step run
    /// before, from every step's `[h | c]` in `states`.
    fn previous(&self, saved: &[Tensor], states: &Tensor, s: usize) -> (Tensor, Tensor) {
        let h = self.steps.h;
        if s == 0 {
            return (saved[H0].clone(), saved[C0].clone());
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

    /// The gradients of the gates' pre-activations (`[T, N, 4H]`), `W_hh`, `h0` and `c0` by
    /// differentiable operations, step by step from the last run.
    fn recorded(&self, saved: &[Tensor], grad: &Tensor) -> Result<[Tensor; 4]> {
        let (x, (w_ih, w, bias)) = (&saved[X], self.weights(saved));
        let Steps { t: steps, h, .. } = self.steps;
        let projected = x.try_linear(w_ih, bias)?;
        let mut dgates = vec![None; steps];
        let mut dw = Tensor::zeros(w.shape(), w.dtype());
        let mut carry = Tensor::zeros(&[self.steps.n, 2 * h], w.dtype());
        // The states as functions of the inputs: the saved output is one, but the final
        // operation saved every step's as a constant, so it runs the sequence again, recorded.
        let states = if self.final_step {
            let initial = (&saved[H0], &saved[C0]);
            sequence(x, self.weights(saved), initial, self.steps.reverse, false)?
        } else {
            saved[STATES].clone()
        };
        for s in (0..steps).rev() {
            let t = self.steps.at(s);
            let (hp, cp) = self.previous(saved, &states, s);
            let hg = hp.matmul(&w.t());
            let g = match self.arriving(grad, (s, t)) {
                Some(arriving) => arriving + &carry,
                None => carry.clone(),
            };
            let gates = LstmGates::recomputed(&step(&projected, t), &hg, &cp, h);
            let (dg, dc) = gates.pull_back(&cp, &g, h);
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

    /// The kernel's gradients of the gates' pre-activations (`[T, N, 4H]`, written over the
    /// workspace when nothing else holds it), `W_hh`, `h0` and `c0`.
    fn kernel(&self, saved: &mut [Tensor], grad: &Tensor, needs_h0: bool) -> Result<[Tensor; 4]> {
        let (d, op) = (self.steps, self.op());
        let (inputs, workspace) = saved.split_at_mut(WORKSPACE);
        let (w, h0, c0, out) = (&inputs[W_HH], &inputs[H0], &inputs[C0], &inputs[STATES]);
        let gates = &mut workspace[0];
        Ok(dispatch_float!(op, grad.dtype(), T => {
            let backward = |ws: &mut [T]| {
                grad.try_read(op, |g: &[T]| {
                    let g = if self.final_step {
                        Incoming::FinalStep(g)
                    } else {
                        Incoming::EveryStep(g)
                    };
                    out.try_read(op, |o: &[T]| w.try_read(op, |w: &[T]| {
                        h0.try_read(op, |h0: &[T]| c0.try_read(op, |c0: &[T]| {
                            lstm_sequence_backward(g, (o, ws), w, (h0, c0), (d, needs_h0))
                        }))
                    }))
                })
            };
            // The workspace becomes the gates' gradient: in place when nothing else holds it
            // (the graph is not kept for another pass), else in a copy.
            let mut in_place = None;
            gates.update_private(|ws: &mut [T]| in_place = Some(backward(ws)));
            let (dgates, grads) = match in_place {
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
                dgates,
                Tensor::from_data(w, &[4 * d.h, d.h]),
                Tensor::from_data(h0, &[d.n, d.h]),
                Tensor::from_data(c0, &[d.n, d.h]),
            ]
        }))
    }

    fn gradients(&self, saved: &mut [Tensor], grad: &Tensor, needs: &[bool]) -> Result<Gradients> {
        let [dgates, dw_hh, dh0, dc0] = if crate::is_grad_enabled() {
            self.recorded(saved, grad)?
        } else {
            self.kernel(saved, grad, needs[H0])?
        };
        // The input projection `x·W_ihᵀ + b` is linear's: its rule takes the gates' gradient.
        let mut projection_needs = vec![needs[X], needs[W_IH]];
        projection_needs.extend(self.biased.then(|| needs[BIAS_INPUT]));
        let projection = if projection_needs.contains(&true) {
            let inputs = [saved[X].clone(), saved[W_IH].clone()];
            LinearBackward.vjp(&inputs, &dgates, &projection_needs)
        } else {
            smallvec::smallvec![None; projection_needs.len()]
        };
        let mut projection = projection.into_iter();
        let (dx, dw_ih, db) = (projection.next(), projection.next(), projection.next());
        let mut grads: Gradients = smallvec::smallvec![
            dx.flatten(),
            dw_ih.flatten(),
            needs[W_HH].then_some(dw_hh),
            needs[H0].then_some(dh0),
            needs[C0].then_some(dc0),
        ];
        grads.extend(db);
        Ok(grads)
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
        let mut inputs = vec![
            Local::map(
                "dG·{1} with dG = [dG_t for every step t]: from the last step run to the first, [dh_t, dc_t] = {g}_t + what step t+1 sends back and dG_t = lstm_cell's gradient of the gates at step t",
                Binding::Sum,
            ),
            Local::map("Σ_t dG_tᵀ·{0}_t (one product over all steps)", Binding::Sum),
            Local::map(
                "Σ_t dG_tᵀ·h_(t−1) (one product over all steps)",
                Binding::Sum,
            ),
            Local::map(
                "dG_1·{2} (what the first step run sends back to h)",
                Binding::Product,
            ),
            Local::map(
                "dc_1·f_1 (what the first step run sends back to c)",
                Binding::Product,
            ),
        ];
        if self.biased {
            inputs.push(Local::map("Σ_(t, batch) dG_t", Binding::Sum));
        }
        let output = match (self.final_step, self.biased) {
            (false, false) => "lstm_sequence({0}, {1}, {2}, {3}, {4})",
            (false, true) => "lstm_sequence({0}, {1}, {2}, {3}, {4}, {5})",
            (true, false) => "lstm_sequence_final({0}, {1}, {2}, {3}, {4})",
            (true, true) => "lstm_sequence_final({0}, {1}, {2}, {3}, {4}, {5})",
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

    /// Step by step from the first run: the tangent of the gates' pre-activations (the input
    /// projection's, by [`Tensor::linear`]'s rule, plus that of `h·W_hhᵀ`), then the cell's
    /// ([`LstmGates::push_forward`] at the kept gates and `tanh c_t` of the output).
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (w, ws, output) = (&saved[W_HH], &saved[WORKSPACE], saved[STATES].detach());
        let projection_inputs = [saved[X].clone(), saved[W_IH].clone()];
        let mut projection_tangents = vec![tangents[X].clone(), tangents[W_IH].clone()];
        projection_tangents.extend(tangents.get(BIAS_INPUT).cloned());
        let tx = LinearBackward.jvp(&projection_inputs, &projection_tangents)?;
        let tw = &tangents[W_HH];
        let Steps { t: steps, h, .. } = self.steps;
        let (mut th, mut tc) = (tangents[H0].clone(), tangents[C0].clone());
        // Every step's tangent, unless only the last is returned.
        let mut out = vec![None; if self.final_step { 0 } else { steps }];
        for s in 0..steps {
            let t = self.steps.at(s);
            let (hp, cp) = self.previous(saved, &output, s);
            let a = step(&tx, t)
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
        let [x, w_ih, w_hh, h0, c0, bias @ ..] = inputs else {
            return None;
        };
        Some(sequence(
            x,
            (w_ih, w_hh, bias.first()),
            (h0, c0),
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
    weights: Weights<'_>,
    (h0, c0): (&Tensor, &Tensor),
    reverse: bool,
    final_step: bool,
) -> Result<Tensor> {
    let op = name(final_step);
    let (d, input_size) = check(op, x, weights, (h0, c0), reverse)?;
    crate::limits::allocation(op, &[d.t, d.n, 6 * d.h], x.dtype())?;
    let (weight_ih, weight_hh, bias) = weights;
    // The kernel reads the input's rows of each step: laid out row-major, outside the graph.
    let rows = crate::no_grad(|| x.try_contiguous_named(op))?;
    let (out, ws, last) = dispatch_float!(op, x.dtype(), T => {
        let forward = |b: Option<&[T]>| {
            rows.try_read(op, |x: &[T]| {
                weight_ih.try_read(op, |ih: &[T]| weight_hh.try_read(op, |hh: &[T]| {
                    h0.try_read(op, |h0: &[T]| c0.try_read(op, |c0: &[T]| {
                        let weights = SequenceWeights { ih, hh, bias: b };
                        lstm_sequence_forward((x, input_size), weights, (h0, c0), d)
                    }))
                }))
            })
        };
        let (out, ws) = match bias {
            Some(b) => b.try_read(op, |b: &[T]| forward(Some(b)))??,
            None => forward(None)?,
        }????;
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
        biased: bias.is_some(),
    };
    let mut inputs = vec![x, weight_ih, weight_hh, h0, c0];
    inputs.extend(bias);
    let saved = |every_step| {
        let mut saved = vec![
            Save::Input(X),
            Save::Input(W_IH),
            Save::Input(W_HH),
            Save::Input(H0),
            Save::Input(C0),
            every_step,
            Save::Extra(&ws),
        ];
        saved.extend(bias.map(|_| Save::Input(BIAS_INPUT)));
        saved
    };
    Ok(match last {
        None => record(out, &inputs, backward, &saved(Save::Output)),
        Some(last) => record(last, &inputs, backward, &saved(Save::Extra(&out))),
    })
}

impl Tensor {
    /// A whole LSTM sequence, one layer and direction (`torch.nn.LSTM`'s), in one operation.
    /// `self` is the input `[T, N, I]`; `weight_ih` is `[4H, I]` and `weight_hh` `[4H, H]` in
    /// PyTorch's gate order i, f, g, o; `bias` (`[4H]`, PyTorch's `b_ih + b_hh`) is added to
    /// every step's gate pre-activations; `h0`, `c0` are the initial state `[N, H]`. Step `t`
    /// computes `[h_t | c_t] = lstm_cell(x_t·W_ihᵀ + b, h_{t−1}·W_hhᵀ, c_{t−1})` (see
    /// [`Tensor::lstm_cell`]), from the first step to the last, or with `reverse` from the
    /// last to the first (a bidirectional layer's backward direction, where `h_{t+1}` comes
    /// before `h_t`). Returns `[T, N, 2H]`: `[h_t | c_t]` of every step. One fused kernel
    /// forward and one backward through all the steps; rule `LstmSequenceBackward`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// // H = 1, zero weights and input: every gate 1/2, g = 0, so c halves each step.
    /// let x = Tensor::zeros(&[2, 1, 3], DType::F64);
    /// let (w_ih, w_hh) = (Tensor::zeros(&[4, 3], DType::F64), Tensor::zeros(&[4, 1], DType::F64));
    /// let h0 = Tensor::zeros(&[1, 1], DType::F64);
    /// let c0 = Tensor::from_vec(vec![4.0f64], &[1, 1]);
    /// let out = x.lstm_sequence(&w_ih, &w_hh, None, &h0, &c0, false).to_vec::<f64>();
    /// assert_eq!((out[1], out[3]), (2.0, 1.0)); // c_0, c_1
    /// assert!((out[2] - 0.5 * 1.0f64.tanh()).abs() < 1e-15); // h_1 = o·tanh c_1
    /// ```
    pub fn try_lstm_sequence(
        &self,
        weight_ih: &Tensor,
        weight_hh: &Tensor,
        bias: Option<&Tensor>,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Result<Tensor> {
        sequence(self, (weight_ih, weight_hh, bias), (h0, c0), reverse, false)
    }

    /// Panicking form of [`Tensor::try_lstm_sequence`].
    #[track_caller]
    pub fn lstm_sequence(
        &self,
        weight_ih: &Tensor,
        weight_hh: &Tensor,
        bias: Option<&Tensor>,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Tensor {
        ok(self.try_lstm_sequence(weight_ih, weight_hh, bias, h0, c0, reverse))
    }

    /// [`Tensor::try_lstm_sequence`] when only the state it ends in is wanted (a classifier
    /// reading a sequence, `torch.nn.LSTM`'s `h_n` and `c_n`): returns the last step run's
    /// `[h | c]`, `[N, 2H]` (time step `T − 1`, or `0` with `reverse`). The same kernels;
    /// backward starts from this one step's gradient instead of reading a `[T, N, 2H]` one that
    /// is zero everywhere else. Rule `LstmSequenceBackward(final)`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// // H = 1, zero weights and input: every gate 1/2, g = 0, so c halves each step.
    /// let x = Tensor::zeros(&[3, 1, 2], DType::F64);
    /// let (w_ih, w_hh) = (Tensor::zeros(&[4, 2], DType::F64), Tensor::zeros(&[4, 1], DType::F64));
    /// let h0 = Tensor::zeros(&[1, 1], DType::F64);
    /// let c0 = Tensor::from_vec(vec![8.0f64], &[1, 1]);
    /// let last = x.lstm_sequence_final(&w_ih, &w_hh, None, &h0, &c0, false);
    /// assert_eq!((last.shape(), last.to_vec::<f64>()[1]), (&[1, 2][..], 1.0)); // c_2
    /// ```
    pub fn try_lstm_sequence_final(
        &self,
        weight_ih: &Tensor,
        weight_hh: &Tensor,
        bias: Option<&Tensor>,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Result<Tensor> {
        sequence(self, (weight_ih, weight_hh, bias), (h0, c0), reverse, true)
    }

    /// Panicking form of [`Tensor::try_lstm_sequence_final`].
    #[track_caller]
    pub fn lstm_sequence_final(
        &self,
        weight_ih: &Tensor,
        weight_hh: &Tensor,
        bias: Option<&Tensor>,
        h0: &Tensor,
        c0: &Tensor,
        reverse: bool,
    ) -> Tensor {
        ok(self.try_lstm_sequence_final(weight_ih, weight_hh, bias, h0, c0, reverse))
    }
}
