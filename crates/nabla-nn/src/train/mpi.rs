//! [`Mpi`]: the [`Communicator`] of the processes `mpiexec` starts (feature `mpi`), on the
//! `mpi` crate over the system's MPI library (MPICH).

use super::communicator::{Communicator, check_root};
use crate::{Error, Result};
use mpi::collective::SystemOperation;
use mpi::environment::{Threading, Universe};
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives, Root};

/// Elements per MPI call: counts are C `int`s, so longer buffers go in pieces.
const PIECE: usize = 1 << 30;

/// Every process of the job (`MPI_COMM_WORLD`). MPI is finalised when it is dropped, and can be
/// initialised once per process.
///
/// MPI's default error handler ends the whole job at a failed call, so the collectives return
/// `Ok` or do not return; when a rank dies, `mpiexec` (MPICH's Hydra) ends the other ranks and
/// names the one that died.
///
/// ```no_run
/// use nabla_nn::train::{Communicator, Mpi};
/// let comm = Mpi::init().unwrap();
/// let mut sums = [comm.rank() as f64];
/// comm.all_reduce_f64(&mut sums).unwrap();
/// println!("rank {} of {}: sum of the ranks {}", comm.rank(), comm.size(), sums[0]);
/// ```
pub struct Mpi {
    world: SimpleCommunicator,
    _universe: Universe,
}

impl Mpi {
    /// Initialises MPI (only the calling thread makes MPI calls: kernel threads do not). A
    /// process started without `mpiexec` is a group of one.
    pub fn init() -> Result<Mpi> {
        let Some((universe, _)) = mpi::initialize_with_threading(Threading::Funneled) else {
            return Err(Error::invalid(
                "Mpi::init",
                "MPI is already initialised in this process (it can be once)",
            ));
        };
        Ok(Mpi {
            world: universe.world(),
            _universe: universe,
        })
    }

    /// The number of ranks on this host (those that share its memory), this one included:
    /// what the cores are divided among.
    pub fn ranks_on_this_host(&self) -> usize {
        self.world.split_shared(0).size() as usize
    }

    /// Ends every rank of the job at once with `code`, as `MPI_Abort`: for a rank that cannot
    /// reach the next collective the others wait in.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

impl Communicator for Mpi {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_reduce_f32(&self, values: &mut [f32]) -> Result<()> {
        for piece in values.chunks_mut(PIECE) {
            let send = piece.to_vec();
            self.world
                .all_reduce_into(&send[..], piece, SystemOperation::sum());
        }
        Ok(())
    }

    fn all_reduce_f64(&self, values: &mut [f64]) -> Result<()> {
        for piece in values.chunks_mut(PIECE) {
            let send = piece.to_vec();
            self.world
                .all_reduce_into(&send[..], piece, SystemOperation::sum());
        }
        Ok(())
    }

    fn broadcast(&self, bytes: &mut Vec<u8>, root: usize) -> Result<()> {
        check_root(self, root)?;
        let process = self.world.process_at_rank(root as i32);
        let mut len = bytes.len() as u64;
        process.broadcast_into(&mut len);
        let len = usize::try_from(len).map_err(|_| {
            Error::Memory(format!(
                "broadcast: rank {root} sends {len} bytes, more than this machine can address"
            ))
        })?;
        bytes.resize(len, 0);
        for piece in bytes.chunks_mut(PIECE) {
            process.broadcast_into(piece);
        }
        Ok(())
    }

    fn barrier(&self) -> Result<()> {
        self.world.barrier();
        Ok(())
    }
}
