//! Data-parallel training over MPI, on 2 ranks. Run as `cargo test -p nabla-nn --features mpi
//! --test mpi`: started without `mpiexec`, the binary starts itself under `mpiexec -n 2` (MPICH)
//! and passes when both ranks do. Each check runs on both ranks in the same order (the
//! collectives must meet), rank 0 comparing against one process where that is the claim.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::data::{DataLoader, Dataset};
use nabla_nn::layers::{Dropout, Linear, Tanh};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::{Adam, Optim, Optimizer, Sgd};
use nabla_nn::task::Task;
use nabla_nn::train::{
    Communicator, Control, FitOptions, Mpi, Observer, SingleProcess, StepEnd, fit,
};
use std::process::{Command, ExitCode};
use std::rc::Rc;

/// One check, run on every rank.
type Check = fn(&Rc<dyn Communicator>);

/// Set by Hydra (MPICH's `mpiexec`) in every process it starts.
const UNDER_MPIEXEC: &str = "PMI_RANK";

fn main() -> ExitCode {
    if std::env::var_os(UNDER_MPIEXEC).is_none() {
        let exe = std::env::current_exe().expect("the test binary's path");
        let status = Command::new("mpiexec")
            .args(["-n", "2"])
            .arg(exe)
            .args(std::env::args().skip(1))
            .status()
            .expect("mpiexec (MPICH) on the PATH");
        return if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let comm: Rc<dyn Communicator> = Rc::new(Mpi::init().expect("MPI starts"));
    assert_eq!(comm.size(), 2, "run under mpiexec -n 2");
    let again = Mpi::init().err().map(|e| e.to_string());
    assert_eq!(
        again.as_deref(),
        Some("Mpi::init: MPI is already initialised in this process (it can be once)")
    );
    let checks: [(&str, Check); 6] = [
        (
            "f64: 2 ranks equal 1 process with the same global batch to 1e-12",
            f64_matches_one_process,
        ),
        (
            "f32 with Adam: 2 ranks equal 1 process to 1e-5",
            f32_matches_one_process,
        ),
        (
            "uneven and empty shards: 2 ranks equal 1 process",
            uneven_shards_match_one_process,
        ),
        (
            "parameters stay bit-identical across ranks, dropout included",
            ranks_stay_identical,
        ),
        (
            "an error on one rank stops both, naming the rank",
            an_error_on_one_rank_stops_both,
        ),
        (
            "different data on one rank is refused at the start",
            different_data_is_refused,
        ),
    ];
    for (name, check) in checks {
        check(&comm);
        comm.barrier().unwrap();
        if comm.rank() == 0 {
            println!("test {name} ... ok");
        }
    }
    ExitCode::SUCCESS
}

/// A classification set of `n` points in 4 dimensions, 3 classes, the same on every rank.
fn data(n: usize, dtype: DType) -> Dataset {
    let mut rng = Generator::new(11);
    let x = Tensor::randn_with(&[n, 4], dtype, &mut rng);
    let labels: Vec<i64> = (0..n).map(|i| (i % 3) as i64).collect();
    Dataset::new(x, Tensor::from_vec(labels, &[n])).unwrap()
}

/// An MLP 4-16-3 drawn from `seed` on every rank (rank 1 from another seed where asked, to
/// show the broadcast makes the difference vanish).
fn model(dtype: DType, seed: u64, dropout: bool) -> Sequential {
    let mut rng = Generator::new(seed);
    let mut net = Sequential::new();
    net.push(Box::new(Linear::new(4, 16, dtype, &mut rng)));
    net.push(Box::new(Tanh));
    if dropout {
        net.push(Box::new(Dropout::new(0.3, 5)));
    }
    net.push(Box::new(Linear::new(16, 3, dtype, &mut rng)));
    net
}

/// Trains `net` for 3 epochs over `data` in global batches of `batch` on `comm`.
fn train(
    net: &mut Sequential,
    optimizer: &mut dyn Optimizer,
    data: &Dataset,
    batch: usize,
    comm: Rc<dyn Communicator>,
) {
    let loader = DataLoader::new(data.clone(), batch).unwrap().shuffle(3);
    let options = FitOptions::new(Task::classes(3), 3).communicator(comm);
    fit(net, &loader, optimizer, &options, &mut []).unwrap();
}

fn values(net: &Sequential) -> Vec<f64> {
    net.parameters()
        .iter()
        .flat_map(|p| p.to_f64_vec())
        .collect()
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Trains on 2 ranks, then (rank 0) in one process from the same start; the largest
/// parameter difference.
fn against_one_process(
    comm: &Rc<dyn Communicator>,
    dtype: DType,
    n: usize,
    batch: usize,
    optimizer: fn(&Sequential) -> Box<dyn Optimizer>,
) -> Option<f64> {
    let set = data(n, dtype);
    // Rank 1 starts from other weights: rank 0's are broadcast.
    let mut net = model(dtype, 1 + comm.rank() as u64, false);
    let mut opt = optimizer(&net);
    train(&mut net, opt.as_mut(), &set, batch, comm.clone());
    if comm.rank() != 0 {
        return None;
    }
    let mut alone = model(dtype, 1, false);
    let mut opt = optimizer(&alone);
    train(
        &mut alone,
        opt.as_mut(),
        &set,
        batch,
        Rc::new(SingleProcess),
    );
    Some(max_difference(&values(&net), &values(&alone)))
}

fn sgd(net: &Sequential) -> Box<dyn Optimizer> {
    Box::new(Optim::new(net.named_parameters(), Sgd::new().momentum(0.9), 0.1).unwrap())
}

fn adam(net: &Sequential) -> Box<dyn Optimizer> {
    Box::new(Optim::new(net.named_parameters(), Adam::new(), 0.01).unwrap())
}

/// Checks the largest difference against `bound` and prints it (docs/distributed.md quotes it).
fn within(difference: Option<f64>, bound: f64) {
    if let Some(d) = difference {
        assert!(d <= bound, "the parameters differ by {d:e}, over {bound:e}");
        println!("  largest parameter difference {d:.1e} (bound {bound:e})");
    }
}

fn f64_matches_one_process(comm: &Rc<dyn Communicator>) {
    within(against_one_process(comm, DType::F64, 96, 16, sgd), 1e-12);
}

fn f32_matches_one_process(comm: &Rc<dyn Communicator>) {
    within(against_one_process(comm, DType::F32, 96, 16, adam), 1e-5);
}

fn uneven_shards_match_one_process(comm: &Rc<dyn Communicator>) {
    // Batches of 7 split 4 + 3, and the last batch of 50 (one sample) leaves rank 1 nothing.
    within(against_one_process(comm, DType::F64, 50, 7, sgd), 1e-12);
}

fn ranks_stay_identical(comm: &Rc<dyn Communicator>) {
    let set = data(64, DType::F32);
    let mut net = model(DType::F32, 7 + comm.rank() as u64, true);
    let mut opt = adam(&net);
    train(&mut net, opt.as_mut(), &set, 16, comm.clone());
    let mut bits: Vec<f32> = values(&net).iter().map(|&v| v as f32).collect();
    let own = bits.clone();
    // Rank 0's values minus rank 1's must be exactly zero: send rank 0's, compare bit by bit.
    let mut bytes: Vec<u8> = bits.iter().flat_map(|v| v.to_le_bytes()).collect();
    comm.broadcast(&mut bytes, 0).unwrap();
    bits = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let differing = own
        .iter()
        .zip(&bits)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(differing, 0, "rank {} differs from rank 0", comm.rank());
    let generators: Vec<[u64; 4]> = net
        .named_generators()
        .iter()
        .map(|(_, g)| g.state())
        .collect();
    let mut words: Vec<f64> = generators
        .iter()
        .flatten()
        .flat_map(|w| (0..4).map(move |p| ((w >> (16 * p)) & 0xffff) as f64))
        .collect();
    let own_words = words.clone();
    comm.all_reduce_f64(&mut words).unwrap();
    let doubled: Vec<f64> = own_words.iter().map(|w| 2.0 * w).collect();
    assert_eq!(
        words, doubled,
        "the dropout generators differ between the ranks"
    );
}

/// Fails at step 3 of epoch 1 on rank 1 only.
struct FailOnRankOne(usize);

impl Observer for FailOnRankOne {
    fn step_end(&mut self, step: &StepEnd) -> nabla_nn::Result<Control> {
        if self.0 == 1 && step.step == 3 {
            return Err(nabla_nn::Error::invalid("test", "rank 1's step 3 failed"));
        }
        Ok(Control::Continue)
    }
}

fn an_error_on_one_rank_stops_both(comm: &Rc<dyn Communicator>) {
    let set = data(64, DType::F32);
    let mut net = model(DType::F32, 1, false);
    let mut opt = adam(&net);
    let loader = DataLoader::new(set, 8).unwrap();
    let options = FitOptions::new(Task::classes(3), 2).communicator(comm.clone());
    let mut fail = FailOnRankOne(comm.rank());
    let err = fit(&mut net, &loader, opt.as_mut(), &options, &mut [&mut fail])
        .unwrap_err()
        .to_string();
    let expected = match comm.rank() {
        1 => "test: rank 1's step 3 failed",
        _ => "rank 1 of 2 failed (its error is reported by that rank); every rank stopped",
    };
    assert_eq!(err, expected);
}

fn different_data_is_refused(comm: &Rc<dyn Communicator>) {
    // Rank 1 has one more sample, so its data, and its batch order, differ.
    let set = data(64 + comm.rank(), DType::F32);
    let mut net = model(DType::F32, 1, false);
    let mut opt = adam(&net);
    let loader = DataLoader::new(set, 8).unwrap();
    let options = FitOptions::new(Task::classes(3), 1).communicator(comm.clone());
    let err = fit(&mut net, &loader, opt.as_mut(), &options, &mut [])
        .unwrap_err()
        .to_string();
    if comm.rank() == 0 {
        assert!(
            err.starts_with(
                "distributed training: rank 1 of 2 differs from rank 0 in the training data \
                 (fingerprint "
            ) && err.ends_with(
                "every rank must run the same configuration (the same seed, model and data)"
            ),
            "{err}"
        );
    } else {
        assert_eq!(
            err,
            "rank 0 of 2 failed (its error is reported by that rank); every rank stopped"
        );
    }
}
