//! [`Optim`]: applies an [`UpdateRule`] to named parameters with the weight decay of every
//! rule, owns the per-parameter state buffers and step counters, and saves and restores them
//! by name.

use super::{Optimizer, Step, UpdateRule};
use crate::{Error, Result};
use nabla_core::simd::with_simd;
use nabla_core::{DType, Float, GradModeGuard, Tensor};
use std::collections::BTreeMap;

/// An optimiser: an update rule plus the parameters it updates, their state and the weight
/// decay λ, applied as PyTorch's `weight_decay`: L2, added to the gradient (`∇W + λ W`) before
/// the rule sees it, for every rule but AdamW, whose decay is decoupled (`W ← (1 − η λ) W`
/// before its update).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Optim, Optimizer, Sgd};
/// let w = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).requires_grad();
/// let mut opt = Optim::new(vec![("w".to_string(), w.clone())], Sgd::new(), 0.5).unwrap();
/// (&w * &w).sum().backward();
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f32>(), vec![0.0, 0.0]);
/// opt.zero_grad();
/// assert!(w.grad().is_none());
/// ```
pub struct Optim<R: UpdateRule> {
    rule: R,
    params: Vec<(String, Tensor)>,
    /// Per parameter: its update count and buffers, created at its first update.
    state: Vec<Option<ParamState>>,
    steps: u64,
    lr: f64,
    weight_decay: f64,
}

struct ParamState {
    updates: u64,
    buffers: Vec<Tensor>,
}

impl<R: UpdateRule> Optim<R> {
    /// An optimiser for `params` (distinct names; contiguous `f32`/`f64` tensors) with `rule`
    /// at learning rate `lr`, as `torch.optim.X(params, lr=…)`.
    pub fn new(params: Vec<(String, Tensor)>, rule: R, lr: f64) -> Result<Self> {
        super::check_range(R::NAME, "learning rate", lr, 0.0, f64::INFINITY)?;
        rule.check()?;
        if R::STATE.len() > 2 {
            return Err(Error::invalid(
                R::NAME,
                format!(
                    "an update rule may keep at most two state buffers, this one declares {:?}",
                    R::STATE
                ),
            ));
        }
        if params.is_empty() {
            return Err(Error::invalid(R::NAME, "the parameter list is empty"));
        }
        let mut seen = BTreeMap::new();
        for (name, p) in &params {
            if seen.insert(name.as_str(), ()).is_some() {
                return Err(Error::invalid(
                    R::NAME,
                    format!("parameter name {name:?} appears twice"),
                ));
            }
            if !p.dtype().is_float() {
                return Err(Error::invalid(
                    R::NAME,
                    format!(
                        "parameter {name:?} has dtype {}; only f32 and f64 tensors can be optimised",
                        p.dtype()
                    ),
                ));
            }
            if !p.is_contiguous() {
                return Err(Error::invalid(
                    R::NAME,
                    format!("parameter {name:?} is not contiguous and cannot be updated in place"),
                ));
            }
        }
        let state = params.iter().map(|_| None).collect();
        Ok(Optim {
            rule,
            params,
            state,
            steps: 0,
            lr,
            weight_decay: R::DEFAULT_WEIGHT_DECAY,
        })
    }

    /// Sets the weight decay λ (0 turns it off; the rule's default otherwise: 0.01 for AdamW,
    /// as PyTorch, 0 for the others).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_nn::optim::{Adam, Optim, Optimizer};
    /// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
    /// let mut opt = Optim::new(vec![("w".into(), w.clone())], Adam::new(), 0.1)
    ///     .unwrap()
    ///     .with_weight_decay(0.5)
    ///     .unwrap();
    /// assert_eq!(opt.weight_decay(), 0.5);
    /// // A zero gradient still moves the weight: Adam sees ∇W + λ W = 0.5.
    /// w.set_grad(Some(Tensor::from_vec(vec![0.0f64], &[1])));
    /// opt.step().unwrap();
    /// assert!((w.to_vec::<f64>()[0] - 0.9).abs() < 1e-6);
    /// ```
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Result<Self> {
        super::check_range(R::NAME, "weight decay", weight_decay, 0.0, f64::INFINITY)?;
        self.weight_decay = weight_decay;
        Ok(self)
    }

    /// The weight decay λ.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// The update rule (its hyper-parameters).
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// The parameters, in the order given.
    pub fn params(&self) -> &[(String, Tensor)] {
        &self.params
    }

    /// How many times [`Optimizer::step`] has run.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Refuses a step that would take a step count past `i64::MAX`, the largest one a state
    /// dict can hold (a loaded state may already be there). A parameter's count never exceeds
    /// the optimiser's (loading refuses that), so the parameters are looked at only when the
    /// optimiser's own count is full: no work per step otherwise.
    fn check_counts(&self) -> Result<()> {
        let full = |count: u64| count >= i64::MAX as u64;
        if !full(self.steps) {
            return Ok(());
        }
        let param_full = self.params.iter().zip(&self.state).find(|((_, p), slot)| {
            p.grad().is_some() && slot.as_ref().is_some_and(|s| full(s.updates))
        });
        let what = param_full.map_or_else(
            || format!("the step count {}", self.steps),
            |((name, _), _)| format!("the step count of {name:?}, {},", i64::MAX),
        );
        Err(Error::invalid(
            R::NAME,
            format!("step: {what} has reached i64::MAX, the largest a state dict can hold"),
        ))
    }

    /// Checks every present gradient before anything is updated, so a bad gradient never
    /// leaves the parameters half-stepped.
    fn check_grads(&self) -> Result<()> {
        for (name, p) in &self.params {
            if let Some(g) = p.grad()
                && (g.shape() != p.shape() || g.dtype() != p.dtype())
            {
                return Err(Error::invalid(
                    R::NAME,
                    format!(
                        "gradient of {name:?} is {} {:?} but the parameter is {} {:?}",
                        g.dtype(),
                        g.shape(),
                        p.dtype(),
                        p.shape()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl<R: UpdateRule> Optimizer for Optim<R> {
    fn step(&mut self) -> Result<()> {
        self.check_grads()?;
        self.check_counts()?;
        // Parameters are leaves that require grad: the core writes them only under no_grad.
        let _no_grad = GradModeGuard::new(false);
        let rule_state = self.rule.state();
        let decay = Decay {
            weight_decay: self.weight_decay,
            lr: self.lr,
        };
        for ((_, p), slot) in self.params.iter().zip(&mut self.state) {
            let Some(g) = p.grad() else { continue };
            let st = slot.get_or_insert_with(|| ParamState {
                updates: 0,
                buffers: rule_state.iter().map(|_| p.zeros_like()).collect(),
            });
            st.updates += 1;
            match p.dtype() {
                DType::F32 => update::<f32, R>(&self.rule, decay, st.updates, p, &g, &st.buffers)?,
                DType::F64 => update::<f64, R>(&self.rule, decay, st.updates, p, &g, &st.buffers)?,
                DType::I64 => unreachable!("Optim::new accepts only float parameters"),
            }
        }
        self.steps += 1;
        Ok(())
    }

    fn zero_grad(&self) {
        for (_, p) in &self.params {
            p.set_grad(None);
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_dict(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("step".to_string(), Tensor::scalar(count(self.steps)))];
        for ((name, _), slot) in self.params.iter().zip(&self.state) {
            let Some(st) = slot else { continue };
            out.push((format!("{name}.step"), Tensor::scalar(count(st.updates))));
            for (buf_name, buf) in self.rule.state().iter().zip(&st.buffers) {
                out.push((format!("{name}.{buf_name}"), copy(buf)));
            }
        }
        out
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let mut entries: BTreeMap<&str, &Tensor> = BTreeMap::new();
        for (name, t) in state {
            if entries.insert(name, t).is_some() {
                return Err(state_error::<R>(format!("entry {name:?} appears twice")));
            }
        }
        let steps = take_count::<R>(&mut entries, "step")?
            .ok_or_else(|| state_error::<R>("the entry \"step\" is missing".to_string()))?;
        let mut loaded = Vec::with_capacity(self.params.len());
        for (name, p) in &self.params {
            let Some(updates) = take_count::<R>(&mut entries, &format!("{name}.step"))? else {
                loaded.push(None);
                continue;
            };
            let mut buffers = Vec::with_capacity(self.rule.state().len());
            for buf_name in self.rule.state() {
                let key = format!("{name}.{buf_name}");
                let t = entries.remove(key.as_str()).ok_or_else(|| {
                    state_error::<R>(format!("{key:?} is missing (\"{name}.step\" is present)"))
                })?;
                if t.shape() != p.shape() || t.dtype() != p.dtype() {
                    return Err(state_error::<R>(format!(
                        "{key:?} is {} {:?} but parameter {name:?} is {} {:?}",
                        t.dtype(),
                        t.shape(),
                        p.dtype(),
                        p.shape()
                    )));
                }
                buffers.push(copy(t));
            }
            if updates > steps {
                return Err(state_error::<R>(format!(
                    "\"{name}.step\" is {updates} but \"step\" is {steps}: a parameter cannot \
                     have been updated in more steps than the optimiser took"
                )));
            }
            loaded.push(Some(ParamState { updates, buffers }));
        }
        if !entries.is_empty() {
            let unknown: Vec<&str> = entries.keys().copied().collect();
            return Err(state_error::<R>(format!(
                "entries {unknown:?} match no parameter or state of this optimiser"
            )));
        }
        self.state = loaded;
        self.steps = steps;
        Ok(())
    }
}

/// The weight decay of a step and the learning rate it goes with.
#[derive(Copy, Clone)]
struct Decay {
    weight_decay: f64,
    lr: f64,
}

impl Decay {
    /// The rule's view of update `count` of a parameter.
    fn at(self, count: u64) -> Step {
        Step { lr: self.lr, count }
    }

    /// Applies the rule to a piece of a parameter with the decay: L2 folded into the gradient,
    /// or for a decoupled rule the weights shrunk by `1 − η λ` first.
    fn apply<T: Float, R: UpdateRule>(
        self,
        rule: &R,
        step: u64,
        param: &mut [T],
        grad: &[T],
        state: &mut [&mut [T]],
    ) {
        if self.weight_decay == 0.0 {
            return rule.apply(self.at(step), param, grad, state);
        }
        let wd = T::from_f64(self.weight_decay);
        if R::DECOUPLED_WEIGHT_DECAY {
            let keep = T::from_f64(1.0 - self.lr * self.weight_decay);
            param.iter_mut().for_each(|p| *p = *p * keep);
            return rule.apply(self.at(step), param, grad, state);
        }
        let decayed: Vec<T> = grad
            .iter()
            .zip(param.iter())
            .map(|(&g, &p)| g + wd * p)
            .collect();
        rule.apply(self.at(step), param, &decayed, state);
    }
}

/// Runs the rule on one parameter with all its buffers writable at once, so each element is
/// read and written in a single pass. The buffers are the optimiser's own, so their storages
/// never alias the parameter's and the nested write locks cannot conflict.
fn update<T: Float, R: UpdateRule>(
    rule: &R,
    decay: Decay,
    step: u64,
    param: &Tensor,
    grad: &Tensor,
    state: &[Tensor],
) -> Result<()> {
    let apply = |p: &mut [T], g: &[T], state: &mut [&mut [T]]| {
        in_parallel_chunks(p, g, state, |p, g, state| {
            with_simd(|| decay.apply(rule, step, p, g, state))
        });
    };
    let mut inner = Ok(());
    let mut innermost = Ok(());
    match state {
        [] => param.try_update_::<T>(&[grad], |p, o| apply(p, o[0], &mut []))?,
        [a] => a.try_update_::<T>(&[], |a, _| {
            inner = param.try_update_::<T>(&[grad], |p, o| apply(p, o[0], &mut [a]));
        })?,
        [a, b] => a.try_update_::<T>(&[], |a, _| {
            inner = b.try_update_::<T>(&[], |b, _| {
                innermost = param.try_update_::<T>(&[grad], |p, o| apply(p, o[0], &mut [a, b]));
            });
        })?,
        _ => unreachable!("Optim::new rejects rules with more than two buffers"),
    }
    inner?;
    innermost?;
    Ok(())
}

/// Elements per parallel piece of an update: every rule updates each element from its own
/// position alone, so a parameter can be cut anywhere and the pieces updated on any thread.
const UPDATE_CHUNK: usize = 1 << 14;

/// Runs `apply` over matching pieces of the parameter, its gradient and its state buffers, on
/// the kernel threads when the parameter is long enough to be worth splitting.
fn in_parallel_chunks<T: Float>(
    param: &mut [T],
    grad: &[T],
    state: &mut [&mut [T]],
    apply: impl Fn(&mut [T], &[T], &mut [&mut [T]]) + Sync,
) {
    if param.len() < 2 * UPDATE_CHUNK {
        apply(param, grad, state);
        return;
    }
    let mut state_pieces: Vec<std::slice::ChunksMut<'_, T>> = state
        .iter_mut()
        .map(|s| s.chunks_mut(UPDATE_CHUNK))
        .collect();
    let pieces = param
        .chunks_mut(UPDATE_CHUNK)
        .zip(grad.chunks(UPDATE_CHUNK))
        .map(|(p, g)| {
            let s: Vec<&mut [T]> = state_pieces
                .iter_mut()
                .map(|c| {
                    c.next()
                        .expect("state buffers match the parameter's length")
                })
                .collect();
            (p, g, s)
        });
    nabla_core::parallel::for_each(pieces, |(p, g, mut s)| apply(p, g, &mut s));
}

/// A copy with its own storage, so saved state does not change as training continues.
fn copy(t: &Tensor) -> Tensor {
    let c = t.zeros_like();
    c.copy_(t);
    c
}

/// Removes `key` from `entries` and reads it as a non-negative `i64` scalar counter.
fn take_count<R: UpdateRule>(
    entries: &mut BTreeMap<&str, &Tensor>,
    key: &str,
) -> Result<Option<u64>> {
    let Some(t) = entries.remove(key) else {
        return Ok(None);
    };
    if t.dtype() != DType::I64 || t.numel() != 1 {
        return Err(state_error::<R>(format!(
            "{key:?} must be a non-negative i64 scalar, got {} {:?}",
            t.dtype(),
            t.shape()
        )));
    }
    let value = t.item::<i64>();
    u64::try_from(value)
        .map(Some)
        .map_err(|_| state_error::<R>(format!("{key:?} must be non-negative, got {value}")))
}

/// A step count as a state dict stores it; [`Optim::step`] keeps counts within `i64`.
fn count(steps: u64) -> i64 {
    i64::try_from(steps).expect("step() keeps step counts within i64")
}

fn state_error<R: UpdateRule>(message: String) -> Error {
    Error::invalid(R::NAME, format!("load_state_dict: {message}"))
}
