//! Mini-batches over a [`Dataset`]: a seeded shuffle per epoch, an optional dropped last batch,
//! and batches gathered on a background thread a few steps ahead so copying overlaps training.

use super::dataset::{Batch, Dataset};
use crate::error::{Error, Result};
use nabla_core::Generator;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// How many batches the background thread prepares ahead of the consumer.
const PREFETCH: usize = 2;

/// Iterates a dataset in mini-batches, epoch by epoch.
///
/// With [`DataLoader::shuffle`], epoch `e` visits the samples in an order drawn from a generator
/// seeded by `(seed, e)`: a rerun sees the same orders, and successive epochs differ.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::data::{DataLoader, Dataset};
/// let features = Tensor::from_vec((0..10).map(|i| i as f32).collect(), &[5, 2]);
/// let targets = Tensor::from_vec(vec![0i64, 1, 2, 3, 4], &[5]);
/// let loader = DataLoader::new(Dataset::new(features, targets).unwrap(), 2).unwrap();
/// assert_eq!(loader.num_batches(), 3);
/// let sizes: Vec<usize> = loader.epoch(0).map(|b| b.len()).collect();
/// assert_eq!(sizes, vec![2, 2, 1]);
/// ```
#[derive(Clone, Debug)]
pub struct DataLoader {
    dataset: Dataset,
    batch_size: usize,
    seed: Option<u64>,
    drop_last: bool,
}

impl DataLoader {
    /// A loader giving batches of `batch_size` samples in dataset order, the last one partial.
    pub fn new(dataset: Dataset, batch_size: usize) -> Result<DataLoader> {
        if batch_size == 0 {
            return Err(Error::invalid(
                "DataLoader::new",
                "batch size must be at least 1",
            ));
        }
        Ok(DataLoader {
            dataset,
            batch_size,
            seed: None,
            drop_last: false,
        })
    }

    /// Shuffles the samples every epoch, reproducibly from `seed`.
    pub fn shuffle(mut self, seed: u64) -> DataLoader {
        self.seed = Some(seed);
        self
    }

    /// Whether to leave out the last batch when it is smaller than the batch size.
    pub fn drop_last(mut self, drop_last: bool) -> DataLoader {
        self.drop_last = drop_last;
        self
    }

    /// The dataset this loader reads.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The number of samples per full batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The number of batches in one epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// The order in which epoch `epoch` visits the samples (before any dropped last batch).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.seed {
            Generator::new(epoch_seed(seed, epoch)).shuffle(&mut order);
        }
        order
    }

    /// The batches of epoch `epoch`, gathered on a background thread.
    pub fn epoch(&self, epoch: u64) -> Batches {
        let mut order = self.order(epoch);
        order.truncate(self.num_batches() * self.batch_size);
        let remaining = self.num_batches();
        let (sender, receiver) = sync_channel(PREFETCH);
        let dataset = self.dataset.clone();
        let batch_size = self.batch_size;
        let worker = std::thread::spawn(move || produce(&dataset, &order, batch_size, &sender));
        Batches {
            receiver: Some(receiver),
            worker: Some(worker),
            remaining,
        }
    }
}

/// Mixes the loader seed and the epoch so every (seed, epoch) pair gets its own stream.
fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    let mut g = Generator::new(seed);
    g.next_seed() ^ Generator::new(epoch).next_seed()
}

fn produce(dataset: &Dataset, order: &[usize], batch_size: usize, sender: &SyncSender<Batch>) {
    for chunk in order.chunks(batch_size) {
        // A send fails once the consumer has dropped the iterator: nothing is left to do.
        if sender.send(dataset.gather_in_range(chunk)).is_err() {
            return;
        }
    }
}

/// The batches of one epoch, in order; see [`DataLoader::epoch`].
pub struct Batches {
    receiver: Option<Receiver<Batch>>,
    worker: Option<JoinHandle<()>>,
    remaining: usize,
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        match self.receiver.as_ref()?.recv() {
            Ok(batch) => {
                self.remaining -= 1;
                Some(batch)
            }
            Err(_) => {
                self.receiver = None;
                self.join_worker();
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Batches {}

impl Batches {
    /// Waits for the worker; a panic there is raised again here rather than lost.
    fn join_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        // Dropping the receiver first makes a blocked worker's send fail, so the join returns.
        self.receiver = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
