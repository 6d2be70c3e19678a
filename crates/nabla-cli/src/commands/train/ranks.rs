//! `nabla train` on several processes: the ranks' communicator (MPI with the feature `mpi`,
//! one process otherwise), one outcome for all ranks at each point where rank 0 alone has
//! worked ([`settle`]), rank 0's values sent to the others ([`from_leader`]), and how a rank
//! ends ([`finish`]): the rank whose error stopped the run reports it, naming itself.

use crate::CliResult;
use nabla_nn::train::Communicator;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::rc::Rc;

/// The ranks of this run: every process `mpiexec` started (a process started without it is a
/// group of one), or this process alone without the feature `mpi`.
pub fn communicator() -> CliResult<Rc<dyn Communicator>> {
    #[cfg(feature = "mpi")]
    {
        Ok(Rc::new(nabla_nn::train::Mpi::init()?))
    }
    #[cfg(not(feature = "mpi"))]
    {
        Ok(Rc::new(nabla_nn::train::SingleProcess))
    }
}

/// `result` on this rank when no rank failed; otherwise every rank stops with an error
/// ([`nabla_nn::train::settle`]), so none waits for one that left.
pub fn settle<T>(comm: &dyn Communicator, result: CliResult<T>) -> CliResult<T> {
    let (value, outcome) = match result {
        Ok(value) => (Some(value), Ok(Vec::new())),
        Err(e) => (None, Err(nabla_nn::Error::Observer(e))),
    };
    match (nabla_nn::train::settle(comm, outcome, 0), value) {
        (Ok(_), Some(value)) => Ok(value),
        (Err(nabla_nn::Error::Observer(e)), _) => Err(e),
        (Err(e), _) => Err(e.into()),
        (Ok(_), None) => Err("a failed step was settled as a success".into()),
    }
}

/// Rank 0's `value` (given there, `None` elsewhere) on every rank.
pub fn from_leader<T: Serialize + DeserializeOwned>(
    comm: &dyn Communicator,
    value: Option<&T>,
) -> CliResult<T> {
    let mut bytes = match value {
        Some(v) if comm.rank() == 0 => serde_json::to_vec(v)?,
        _ => Vec::new(),
    };
    comm.broadcast(&mut bytes, 0)?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// How `nabla train` ends on this rank. With several ranks an error names the rank that had it;
/// a rank stopped by another's error ([`nabla_nn::Error::OtherRank`]) says so on rank 0 only
/// and ends quietly elsewhere, once MPI is finalised.
pub fn finish(comm: Rc<dyn Communicator>, result: CliResult) -> CliResult {
    let (rank, size) = (comm.rank(), comm.size());
    let Err(e) = result else {
        return Ok(());
    };
    if size == 1 {
        return Err(e);
    }
    let other = matches!(
        e.downcast_ref::<nabla_nn::Error>(),
        Some(nabla_nn::Error::OtherRank { .. })
    );
    if other && rank != 0 {
        drop(comm);
        std::process::exit(1);
    }
    if other {
        return Err(e);
    }
    Err(format!("rank {rank} of {size}: {e}").into())
}
