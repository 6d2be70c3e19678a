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
/// group of one), or this process alone without the feature `mpi`. Unless `--threads` is among
/// the `given` flags, ranks sharing a host share its cores: each gets cores / ranks there (at
/// least one) kernel threads, as `torchrun` sets `OMP_NUM_THREADS` for several processes.
pub fn communicator(given: &[String]) -> CliResult<Rc<dyn Communicator>> {
    #[cfg(feature = "mpi")]
    {
        let mpi = nabla_nn::train::Mpi::init()?;
        let (rank, size) = (mpi.rank(), mpi.size());
        if size > 1 {
            // A panic ends this process; MPI then ends the others: say whose it was.
            let report = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                eprint!("rank {rank} of {size}: ");
                report(info);
            }));
        }
        let local = mpi.ranks_on_this_host();
        if local > 1 && !given.iter().any(|g| g == "threads") {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            nabla_core::set_num_threads((cores / local).max(1))?;
        }
        Ok(Rc::new(mpi))
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = given;
        Ok(Rc::new(nabla_nn::train::SingleProcess))
    }
}

/// Which process each rank is, `0 (pid 4242 on node1), 1 (pid 4243 on node2)`, for rank 0 to
/// print at the start: when a rank dies, `mpiexec` names its PID and host, and this names its
/// rank.
pub fn roll_call(comm: &dyn Communicator) -> CliResult<String> {
    let own = format!("pid {} on {}", std::process::id(), host_name());
    let mut entries = Vec::with_capacity(comm.size());
    for rank in 0..comm.size() {
        let mut bytes = match rank == comm.rank() {
            true => own.clone().into_bytes(),
            false => Vec::new(),
        };
        comm.broadcast(&mut bytes, rank)?;
        entries.push(format!("{rank} ({})", String::from_utf8_lossy(&bytes)));
    }
    Ok(entries.join(", "))
}

/// The name of this host as MPI gives it.
fn host_name() -> String {
    #[cfg(feature = "mpi")]
    {
        mpi::environment::processor_name().unwrap_or_else(|_| "this host".to_string())
    }
    #[cfg(not(feature = "mpi"))]
    {
        "this host".to_string()
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
