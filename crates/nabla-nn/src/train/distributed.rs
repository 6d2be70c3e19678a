//! Data-parallel training on a [`Communicator`]: each rank's rows of a batch
//! ([`shard_rows`]), rank 0's state copied to every rank ([`broadcast_state`]), gradients
//! averaged over the ranks in buckets ([`all_reduce_gradients`]), the same configuration
//! checked on every rank ([`check_agreement`]), and one error for all ranks when one fails
//! ([`settle`]).

use super::communicator::Communicator;
use crate::checkpoint::{encode, parse_safetensors};
use crate::module::Module;
use crate::optim::Optimizer;
use crate::{Error, Result};
use nabla_core::{DType, Element, Generator, Tensor};
use std::collections::BTreeMap;
use std::ops::Range;

/// Bytes of gradients per all-reduce: PyTorch DDP's default `bucket_cap_mb` of 25.
pub const BUCKET_BYTES: usize = 25 << 20;

/// The rows of a batch of `len` that rank `rank` of `size` trains on: consecutive ranges in
/// rank order, their lengths differing by at most one (the first `len % size` ranks take one
/// more, as `numpy.array_split`). A rank beyond the batch's rows gets an empty range.
///
/// ```
/// use nabla_nn::train::shard_rows;
/// assert_eq!(shard_rows(128, 1, 2), 64..128);
/// let parts: Vec<_> = (0..3).map(|r| shard_rows(5, r, 3)).collect();
/// assert_eq!(parts, vec![0..2, 2..4, 4..5]);
/// assert!(shard_rows(1, 1, 2).is_empty());
/// ```
pub fn shard_rows(len: usize, rank: usize, size: usize) -> Range<usize> {
    let size = size.max(1);
    let (base, extra) = (len / size, len % size);
    let start = rank * base + rank.min(extra);
    let end = start + base + usize::from(rank < extra);
    start.min(len)..end.min(len)
}

/// Sums every parameter's gradient, scaled by `weight`, over the ranks, in place: with `weight`
/// the rank's share of the global batch (its rows over the batch's), each rank's mean-loss
/// gradient becomes the gradient of the mean loss over the whole batch. Gradients travel in
/// buckets of up to [`BUCKET_BYTES`], last parameters first (the order backward finishes them),
/// one bucket per dtype run. A parameter without a gradient counts as zeros; one without a
/// gradient on every rank keeps none (so the optimiser skips it, as in one process).
///
/// Every rank must call it with the same parameters. With one rank the gradients are only
/// scaled.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::train::{SingleProcess, all_reduce_gradients};
/// let w = Tensor::zeros(&[2], DType::F32).requires_grad();
/// w.set_grad(Some(Tensor::from_vec(vec![2.0f32, 4.0], &[2])));
/// all_reduce_gradients(&SingleProcess, &[("w".into(), w.clone())], 0.5).unwrap();
/// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![1.0, 2.0]);
/// ```
pub fn all_reduce_gradients(
    comm: &dyn Communicator,
    params: &[(String, Tensor)],
    weight: f64,
) -> Result<()> {
    let mut present: Vec<f64> = params
        .iter()
        .map(|(_, p)| f64::from(u8::from(p.grad().is_some())))
        .collect();
    comm.all_reduce_f64(&mut present)?;
    let present: Vec<bool> = present.iter().map(|&n| n > 0.0).collect();
    reduce_buckets(comm, params, weight, &present)
}

/// [`all_reduce_gradients`] once every rank knows which parameters have a gradient on some
/// rank (`present`, in the order of `params`).
pub(crate) fn reduce_buckets(
    comm: &dyn Communicator,
    params: &[(String, Tensor)],
    weight: f64,
    present: &[bool],
) -> Result<()> {
    let order: Vec<usize> = (0..params.len()).rev().filter(|&i| present[i]).collect();
    let mut bucket: Vec<usize> = Vec::new();
    let mut bytes = 0;
    for (n, &i) in order.iter().enumerate() {
        let p = &params[i].1;
        bucket.push(i);
        bytes += p.numel() * p.dtype().size_in_bytes();
        let next = order.get(n + 1).map(|&j| params[j].1.dtype());
        if bytes >= BUCKET_BYTES || next != Some(p.dtype()) {
            match p.dtype() {
                DType::F32 => reduce_bucket::<f32>(comm, params, &bucket, weight)?,
                DType::F64 => reduce_bucket::<f64>(comm, params, &bucket, weight)?,
                DType::I64 => {
                    return Err(Error::invalid(
                        "all_reduce_gradients",
                        format!("parameter {:?} is i64, which has no gradient", params[i].0),
                    ));
                }
            }
            bucket.clear();
            bytes = 0;
        }
    }
    Ok(())
}

/// The element types gradients are summed in.
trait Reduced: Element + Copy + std::ops::Mul<Output = Self> {
    fn all_reduce(comm: &dyn Communicator, values: &mut [Self]) -> Result<()>;
}

impl Reduced for f32 {
    fn all_reduce(comm: &dyn Communicator, values: &mut [f32]) -> Result<()> {
        comm.all_reduce_f32(values)
    }
}

impl Reduced for f64 {
    fn all_reduce(comm: &dyn Communicator, values: &mut [f64]) -> Result<()> {
        comm.all_reduce_f64(values)
    }
}

/// Packs the gradients of `params[bucket]` (scaled by `weight`, zeros where there is none)
/// into one buffer, sums it over the ranks and gives each parameter its part.
fn reduce_bucket<T: Reduced>(
    comm: &dyn Communicator,
    params: &[(String, Tensor)],
    bucket: &[usize],
    weight: f64,
) -> Result<()> {
    let total = bucket.iter().map(|&i| params[i].1.numel()).sum();
    let mut buffer: Vec<T> = Vec::with_capacity(total);
    let w = T::from_f64(weight);
    for &i in bucket {
        let p = &params[i].1;
        match p.grad() {
            Some(g) => g.try_with_slice(|s: &[T]| buffer.extend(s.iter().map(|&x| x * w)))?,
            None => buffer.resize(buffer.len() + p.numel(), T::from_f64(0.0)),
        }
    }
    T::all_reduce(comm, &mut buffer)?;
    let mut offset = 0;
    for &i in bucket {
        let p = &params[i].1;
        let part = buffer[offset..offset + p.numel()].to_vec();
        offset += p.numel();
        p.try_set_grad(Some(Tensor::from_vec(part, p.shape())))?;
    }
    Ok(())
}

/// Copies rank 0's model state (parameters and buffers such as batch-norm statistics), the
/// model's generators (dropout masks) and, when given, the optimiser's state to every other
/// rank, in one broadcast: what makes every rank start from the same point, whether rank 0
/// initialised the model or restored it from a checkpoint.
///
/// ```
/// use nabla_core::{DType, Generator};
/// use nabla_nn::layers::Linear;
/// use nabla_nn::train::{SingleProcess, broadcast_state};
/// let model = Linear::new(2, 2, DType::F32, &mut Generator::new(0));
/// broadcast_state(&SingleProcess, &model, None).unwrap();
/// ```
pub fn broadcast_state(
    comm: &dyn Communicator,
    model: &dyn Module,
    optimizer: Option<&mut dyn Optimizer>,
) -> Result<()> {
    if comm.size() == 1 {
        return Ok(());
    }
    const MODEL: &str = "model.";
    const OPTIMIZER: &str = "optimizer.";
    const GENERATOR: &str = "generator.";
    let mut bytes = Vec::new();
    if comm.rank() == 0 {
        let mut tensors = prefixed(MODEL, model.state_dict());
        if let Some(o) = &optimizer {
            tensors.extend(prefixed(OPTIMIZER, o.state_dict()));
        }
        for (name, g) in model.named_generators() {
            let words = g.state().map(|w| w as i64).to_vec();
            tensors.push((format!("{GENERATOR}{name}"), Tensor::from_vec(words, &[4])));
        }
        bytes = encode(&tensors, &BTreeMap::new());
    }
    comm.broadcast(&mut bytes, 0)?;
    if comm.rank() == 0 {
        return Ok(());
    }
    let (tensors, _) = parse_safetensors(&bytes, "rank 0's state")?;
    let group = |prefix: &str| -> Vec<(String, Tensor)> {
        tensors
            .iter()
            .filter_map(|(n, t)| Some((n.strip_prefix(prefix)?.to_string(), t.clone())))
            .collect()
    };
    model.load_state_dict(&group(MODEL))?;
    if let Some(o) = optimizer {
        o.load_state_dict(&group(OPTIMIZER))?;
    }
    let generators = group(GENERATOR)
        .into_iter()
        .map(|(name, t)| {
            let words: Vec<i64> = t.try_to_vec()?;
            let state = std::array::from_fn(|i| words.get(i).copied().unwrap_or(0) as u64);
            Ok((name, Generator::from_state(state)?))
        })
        .collect::<Result<Vec<_>>>()?;
    model.load_generators(&generators)
}

fn prefixed(prefix: &str, items: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    items
        .into_iter()
        .map(|(n, t)| (format!("{prefix}{n}"), t))
        .collect()
}

/// Checks that every rank has the same value of each named fingerprint (a hash of its model,
/// data, configuration, ...: see [`fingerprint`]). When one differs, rank 0 gets the error,
/// naming the first thing that differs and the ranks whose value is not rank 0's, and the
/// others [`Error::OtherRank`] (rank 0 reports it).
///
/// ```
/// use nabla_nn::train::{SingleProcess, check_agreement, fingerprint};
/// let seed = fingerprint(b"--seed 0");
/// check_agreement(&SingleProcess, &[("the seed", seed)]).unwrap();
/// ```
pub fn check_agreement(comm: &dyn Communicator, items: &[(&str, u64)]) -> Result<()> {
    // Each u64 as four 16-bit pieces, in this rank's slot: a sum over the ranks then gathers
    // every rank's values exactly (f64 holds integers to 2^53).
    const PIECES: usize = 4;
    let (rank, size) = (comm.rank(), comm.size());
    let width = items.len() * PIECES;
    let mut all = vec![0.0f64; width * size];
    for (k, (_, value)) in items.iter().enumerate() {
        for p in 0..PIECES {
            all[rank * width + k * PIECES + p] = ((value >> (16 * p)) & 0xffff) as f64;
        }
    }
    comm.all_reduce_f64(&mut all)?;
    let value_of = |r: usize, k: usize| -> u64 {
        (0..PIECES).fold(0, |v, p| {
            v | ((all[r * width + k * PIECES + p] as u64) << (16 * p))
        })
    };
    for (k, (what, _)) in items.iter().enumerate() {
        let differ: Vec<usize> = (1..size)
            .filter(|&r| value_of(r, k) != value_of(0, k))
            .collect();
        let Some(&first) = differ.first() else {
            continue;
        };
        if rank != 0 {
            return Err(Error::OtherRank { rank: 0, size });
        }
        let names: Vec<String> = differ.iter().map(usize::to_string).collect();
        return Err(Error::invalid(
            "distributed training",
            format!(
                "rank{} {} of {size} differ{} from rank 0 in {what} (fingerprint {:016x} against \
                 {:016x}); every rank must run the same configuration (the same seed, model and \
                 data)",
                if differ.len() == 1 { "" } else { "s" },
                names.join(", "),
                if differ.len() == 1 { "s" } else { "" },
                value_of(first, k),
                value_of(0, k)
            ),
        ));
    }
    Ok(())
}

/// A 64-bit FNV-1a hash of `bytes`: the same on every machine and build, for
/// [`check_agreement`].
///
/// ```
/// use nabla_nn::train::fingerprint;
/// assert_eq!(fingerprint(b""), 0xcbf29ce484222325);
/// assert_ne!(fingerprint(b"seed 0"), fingerprint(b"seed 1"));
/// ```
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hasher = Fingerprint::new();
    hasher.bytes(bytes);
    hasher.finish()
}

/// FNV-1a, fed piece by piece; tensors go in word by word (a multiply per element rather
/// than per byte: a data set of millions of values hashes in milliseconds).
pub(crate) struct Fingerprint(u64);

impl Fingerprint {
    const PRIME: u64 = 0x100_0000_01b3;

    pub(crate) fn new() -> Fingerprint {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.word(u64::from(b));
        }
    }

    fn word(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::PRIME);
    }

    /// The tensor's dtype, shape and elements (as their bit patterns).
    pub(crate) fn tensor(&mut self, t: &Tensor) -> Result<()> {
        self.bytes(t.dtype().to_string().as_bytes());
        for &d in t.shape() {
            self.word(d as u64);
        }
        match t.dtype() {
            DType::F32 => t.try_with_slice(|s: &[f32]| {
                s.iter().for_each(|x| self.word(u64::from(x.to_bits())))
            })?,
            DType::F64 => {
                t.try_with_slice(|s: &[f64]| s.iter().for_each(|x| self.word(x.to_bits())))?
            }
            DType::I64 => {
                t.try_with_slice(|s: &[i64]| s.iter().for_each(|&x| self.word(x as u64)))?
            }
        }
        Ok(())
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// One outcome for every rank from each rank's own, in one all-reduce: when no rank failed,
/// `payload` (`len` values on every rank) summed over the ranks; when some did, an error on
/// every rank, so all leave the collective steps together instead of waiting for a rank that
/// left. The lowest failed rank gets its own error back (it is the one to report); the others
/// get [`Error::OtherRank`] naming it. With one rank the outcome is returned as it is.
///
/// ```
/// use nabla_nn::train::{SingleProcess, settle};
/// assert_eq!(settle(&SingleProcess, Ok(vec![1.0, 2.0]), 2).unwrap(), vec![1.0, 2.0]);
/// assert!(settle(&SingleProcess, Err(nabla_nn::Error::invalid("step", "bad row")), 2).is_err());
/// ```
pub fn settle(comm: &dyn Communicator, outcome: Result<Vec<f64>>, len: usize) -> Result<Vec<f64>> {
    let (rank, size) = (comm.rank(), comm.size());
    if size == 1 {
        return outcome;
    }
    // A flag per rank (1: failed), then the payload.
    let mut all = vec![0.0f64; size + len];
    match &outcome {
        Ok(values) => {
            let n = values.len().min(len);
            all[size..size + n].copy_from_slice(&values[..n]);
        }
        Err(_) => all[rank] = 1.0,
    }
    comm.all_reduce_f64(&mut all)?;
    match all[..size].iter().position(|&f| f > 0.0) {
        None => Ok(all.split_off(size)),
        Some(failed) if failed == rank => outcome,
        Some(failed) => Err(Error::OtherRank { rank: failed, size }),
    }
}
