//! [`Communicator`]: what data-parallel training needs from a group of processes (ranks):
//! element-wise sums over the ranks (all-reduce), copying bytes from one rank to all
//! (broadcast), waiting for all (barrier), and who this rank is. [`SingleProcess`] is the group
//! of one that every run has by default; [`crate::train::Mpi`] (feature `mpi`) is a group of
//! processes started by `mpiexec`.

use crate::{Error, Result};

/// A group of cooperating processes, numbered from 0 (the *ranks*). Every rank must call the
/// collective methods (all but [`Communicator::rank`] and [`Communicator::size`]) in the same
/// order with buffers of the same length; a rank that skips one leaves the others waiting.
///
/// It is enough for a data-parallel loop of one's own: broadcast rank 0's parameters once
/// ([`crate::train::broadcast_state`]), give each rank its own rows of every batch
/// ([`crate::train::shard_rows`]), and average the gradients before each update
/// ([`crate::train::all_reduce_gradients`]). With [`SingleProcess`] the same loop is an
/// ordinary one; under `mpiexec` with [`crate::train::Mpi`] it trains on every rank at once.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::Linear;
/// use nabla_nn::loss::mse_loss;
/// use nabla_nn::module::Module;
/// use nabla_nn::optim::{Optim, Optimizer, Sgd};
/// use nabla_nn::train::{
///     Communicator, SingleProcess, all_reduce_gradients, broadcast_state, shard_rows,
/// };
///
/// // Under `mpiexec` (feature `mpi`): `let comm = nabla_nn::train::Mpi::init()?;`
/// let comm = SingleProcess;
/// let model = Linear::new(3, 1, DType::F64, &mut Generator::new(comm.rank() as u64));
/// let mut optimizer = Optim::new(model.named_parameters(), Sgd::new(), 0.1).unwrap();
/// // Every rank starts from rank 0's weights (and optimiser state).
/// broadcast_state(&comm, &model, Some(&mut optimizer)).unwrap();
/// let x = Tensor::ones(&[8, 3], DType::F64);
/// let y = Tensor::zeros(&[8, 1], DType::F64);
/// for _ in 0..5 {
///     // This rank's rows of the global batch of 8.
///     let rows = shard_rows(8, comm.rank(), comm.size());
///     let (xs, ys) = (x.narrow(0, rows.start, rows.len()), y.narrow(0, rows.start, rows.len()));
///     optimizer.zero_grad();
///     mse_loss(&model.forward(&xs), &ys).backward();
///     // Each rank's mean gradient weighted by its share of the batch, summed over the ranks:
///     // the gradient of the mean loss over the whole batch.
///     all_reduce_gradients(&comm, &model.named_parameters(), rows.len() as f64 / 8.0).unwrap();
///     optimizer.step().unwrap();
/// }
/// // Sums over the ranks, for figures such as the loss.
/// let mut sums = [1.0f64, 2.0];
/// comm.all_reduce_f64(&mut sums).unwrap();
/// assert_eq!(sums, [1.0 * comm.size() as f64, 2.0 * comm.size() as f64]);
/// comm.barrier().unwrap();
/// ```
pub trait Communicator {
    /// This process's rank, from 0.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Replaces `values` on every rank with their element-wise sum over the ranks; every rank
    /// gets the same sums.
    fn all_reduce_f32(&self, values: &mut [f32]) -> Result<()>;
    /// [`Communicator::all_reduce_f32`] for `f64`.
    fn all_reduce_f64(&self, values: &mut [f64]) -> Result<()>;
    /// Replaces `bytes` on every rank with those of rank `root` (any length: the other ranks'
    /// buffers are resized).
    fn broadcast(&self, bytes: &mut Vec<u8>, root: usize) -> Result<()>;
    /// Returns once every rank has called it.
    fn barrier(&self) -> Result<()>;
}

/// The group of one process: sums and broadcasts leave the values as they are. What
/// [`crate::train::fit`] uses unless [`crate::train::FitOptions::communicator`] says otherwise.
///
/// ```
/// use nabla_nn::train::{Communicator, SingleProcess};
/// let mut bytes = vec![1u8, 2];
/// SingleProcess.broadcast(&mut bytes, 0).unwrap();
/// assert_eq!((SingleProcess.rank(), SingleProcess.size(), bytes), (0, 1, vec![1, 2]));
/// assert!(SingleProcess.broadcast(&mut vec![], 1).is_err());
/// ```
#[derive(Copy, Clone, Debug, Default)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn all_reduce_f32(&self, _values: &mut [f32]) -> Result<()> {
        Ok(())
    }

    fn all_reduce_f64(&self, _values: &mut [f64]) -> Result<()> {
        Ok(())
    }

    fn broadcast(&self, _bytes: &mut Vec<u8>, root: usize) -> Result<()> {
        check_root(self, root)
    }

    fn barrier(&self) -> Result<()> {
        Ok(())
    }
}

/// An error unless `root` is a rank of `comm`.
pub(crate) fn check_root(comm: &dyn Communicator, root: usize) -> Result<()> {
    if root < comm.size() {
        return Ok(());
    }
    Err(Error::invalid(
        "broadcast",
        format!(
            "the root rank is {root}, but the group has {} rank{} (0 to {})",
            comm.size(),
            if comm.size() == 1 { "" } else { "s" },
            comm.size() - 1
        ),
    ))
}
