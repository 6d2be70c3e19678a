//! How many graph nodes and tensor storages are alive, to check that a long loop frees its
//! graphs and the tensors they saved: a training step that leaks shows a count that grows step
//! by step. Each thread counts what it creates and frees (a plain thread-local add, no atomic on
//! the hot path), so the figures are exact for objects a thread both creates and drops, which is
//! the case for a training loop that records, steps and builds its batches on one thread.

use std::cell::Cell;

thread_local! {
    static NODES: Cell<isize> = const { Cell::new(0) };
    static STORAGES: Cell<isize> = const { Cell::new(0) };
}

/// Graph nodes and tensor storages created minus those freed by the calling thread.
///
/// ```
/// use nabla_core::{Tensor, live_counts};
/// let before = live_counts();
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// let y = &x * &x;
/// y.backward();
/// drop((x, y));
/// assert_eq!(live_counts(), before);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LiveCounts {
    /// Nodes of backward graphs (operations recorded for autograd, and gradient accumulators).
    pub graph_nodes: isize,
    /// Tensor storages (buffers of tensor elements, including those a graph saved).
    pub storages: isize,
}

/// The calling thread's [`LiveCounts`].
pub fn live_counts() -> LiveCounts {
    LiveCounts {
        graph_nodes: NODES.with(Cell::get),
        storages: STORAGES.with(Cell::get),
    }
}

fn add(counter: &'static std::thread::LocalKey<Cell<isize>>, delta: isize) {
    // During thread exit the counter may be gone already; nothing is left to count then.
    let _ = counter.try_with(|c| c.set(c.get() + delta));
}

/// Adds `delta` to the calling thread's counts: how [`crate::parallel::join`] hands the objects a
/// task created on a helper thread over to the thread that called it (subtracted there, added
/// here), so a loop's counts stay exact.
pub(crate) fn shift(delta: LiveCounts) {
    add(&NODES, delta.graph_nodes);
    add(&STORAGES, delta.storages);
}

pub(crate) fn node_created() {
    add(&NODES, 1);
}

pub(crate) fn node_freed() {
    add(&NODES, -1);
}

pub(crate) fn storage_created() {
    add(&STORAGES, 1);
}

pub(crate) fn storage_freed() {
    add(&STORAGES, -1);
}
