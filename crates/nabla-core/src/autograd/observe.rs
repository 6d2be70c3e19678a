//! Watching autograd at work. An [`Observer`] sees every operation as it runs forward and every
//! node as backward passes through it (the gradient it received and what it sent to each
//! input). Graph rendering, the chain-rule explanation, anomaly detection and training
//! diagnostics are built on this, outside the core.

use super::node::Node;
use crate::tensor::Tensor;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// An operation that just ran.
pub struct ForwardEvent<'a> {
    /// The backward node's name of the operation, e.g. `MulBackward`.
    pub name: &'static str,
    pub inputs: &'a [&'a Tensor],
    /// The result; its `grad_fn` is set when the operation was recorded.
    pub output: &'a Tensor,
}

/// A node that backward just ran.
pub struct BackwardEvent<'a> {
    pub node: &'a Arc<Node>,
    /// The gradient of the node's output (after tensor hooks).
    pub grad_output: &'a Tensor,
    /// What the node sent to each input, already summed to the input's shape (`None` where the
    /// input needs no gradient). Empty for `AccumulateGrad`.
    pub grad_inputs: &'a [Option<Tensor>],
}

/// Receives events; both methods default to doing nothing.
pub trait Observer: Any {
    fn forward(&mut self, _event: &ForwardEvent) {}
    fn backward(&mut self, _event: &BackwardEvent) {}
}

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// Set while the engine runs: the operations of backward rules are not forward events.
    static IN_BACKWARD: Cell<bool> = const { Cell::new(false) };
    static OBSERVERS: RefCell<Vec<Box<dyn Observer>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `observer` receiving the events of this thread, and hands the observer back.
/// Operations an observer runs itself are not reported to it.
///
/// ```
/// use nabla_core::autograd::observe::{observe, BackwardEvent, ForwardEvent, Observer};
/// use nabla_core::Tensor;
/// #[derive(Default)]
/// struct Names(Vec<String>);
/// impl Observer for Names {
///     fn forward(&mut self, e: &ForwardEvent) { self.0.push(format!("forward {}", e.name)); }
///     fn backward(&mut self, e: &BackwardEvent) { self.0.push(format!("backward {}", e.node.name())); }
/// }
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// let ((), names) = observe(Names::default(), || (&x * &x).exp().backward());
/// assert_eq!(names.0, ["forward MulBackward", "forward ExpBackward", "backward ExpBackward",
///                      "backward MulBackward", "backward AccumulateGrad"]);
/// ```
pub fn observe<O: Observer, R>(observer: O, f: impl FnOnce() -> R) -> (R, O) {
    OBSERVERS.with(|o| o.borrow_mut().push(Box::new(observer)));
    ACTIVE.with(|a| a.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let (boxed, still_active) = OBSERVERS.with(|o| {
        let mut observers = o.borrow_mut();
        (
            observers.pop().expect("observer pushed above"),
            !observers.is_empty(),
        )
    });
    ACTIVE.with(|a| a.set(still_active));
    let result = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let any: Box<dyn Any> = boxed;
    (
        result,
        *any.downcast::<O>().expect("the observer pushed above"),
    )
}

/// Starts `observer` receiving the events of this thread until [`finish`] hands it back: the
/// form of [`observe`] for a caller whose scope is not a closure (a Python `with` block).
/// Observers nest; [`finish`] stops the one started last.
///
/// ```
/// use nabla_core::autograd::observe::{finish, start, ForwardEvent, Observer};
/// use nabla_core::Tensor;
/// #[derive(Default)]
/// struct Count(usize);
/// impl Observer for Count {
///     fn forward(&mut self, _: &ForwardEvent) { self.0 += 1; }
/// }
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// start(Count::default());
/// let _ = (&x * &x).exp();
/// assert_eq!(finish::<Count>().unwrap().0, 2);
/// assert!(finish::<Count>().is_none());
/// ```
pub fn start<O: Observer>(observer: O) {
    OBSERVERS.with(|o| o.borrow_mut().push(Box::new(observer)));
    ACTIVE.with(|a| a.set(true));
}

/// Stops the observer [`start`]ed last on this thread and hands it back; `None`, and nothing
/// stopped, when there is none or it is not an `O`.
pub fn finish<O: Observer>() -> Option<O> {
    let boxed = OBSERVERS.with(|o| {
        let mut observers = o.borrow_mut();
        let is_o = observers
            .last()
            .is_some_and(|last| (last.as_ref() as &dyn Any).is::<O>());
        let boxed = if is_o { observers.pop() } else { None };
        ACTIVE.with(|a| a.set(!observers.is_empty()));
        boxed
    })?;
    let any: Box<dyn Any> = boxed;
    any.downcast::<O>().ok().map(|o| *o)
}

fn each(f: impl Fn(&mut dyn Observer)) {
    if !ACTIVE.with(Cell::get) {
        return;
    }
    OBSERVERS.with(|o| {
        // Busy means an observer is running and caused this event itself: not reported.
        if let Ok(mut observers) = o.try_borrow_mut() {
            for observer in observers.iter_mut() {
                f(observer.as_mut());
            }
        }
    });
}

pub(crate) fn forward(name: &'static str, inputs: &[&Tensor], output: &Tensor) {
    if IN_BACKWARD.with(Cell::get) {
        return;
    }
    each(|o| {
        o.forward(&ForwardEvent {
            name,
            inputs,
            output,
        })
    });
}

pub(crate) fn backward(node: &Arc<Node>, grad_output: &Tensor, grad_inputs: &[Option<Tensor>]) {
    each(|o| {
        o.backward(&BackwardEvent {
            node,
            grad_output,
            grad_inputs,
        })
    });
}

pub(crate) fn is_active() -> bool {
    ACTIVE.with(Cell::get)
}

/// Marks the engine as running until dropped.
pub(crate) struct BackwardScope(bool);

impl BackwardScope {
    pub(crate) fn enter() -> Self {
        BackwardScope(IN_BACKWARD.with(|b| b.replace(true)))
    }
}

impl Drop for BackwardScope {
    fn drop(&mut self) {
        IN_BACKWARD.with(|b| b.set(self.0));
    }
}
