//! Mini-batches over a [`Dataset`]: a seeded shuffle per epoch, an optional dropped last batch,
//! and batches gathered when asked for or, with [`DataLoader::prefetch`], on a background thread
//! a few steps ahead.

use super::dataset::{Batch, Dataset};
use crate::error::{Error, Result};
use nabla_core::Generator;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Iterates a dataset in mini-batches, epoch by epoch.
///
/// With [`DataLoader::shuffle`], epoch `e` visits the samples in an order drawn from a generator
/// seeded by `(seed, e)`: a rerun sees the same orders, and successive epochs differ.
///
/// By default a batch is gathered on the calling thread when the iterator is advanced, as
/// PyTorch's `DataLoader` does with no workers. Gathering is one copy per row from memory, into
/// a buffer the previous batches freed, so it is cheaper there than handing batches over from
/// another thread that competes with the kernel threads for the cores. A dataset whose batches
/// cost more to make can be prepared ahead with [`DataLoader::prefetch`].
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
    prefetch: usize,
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
            prefetch: 0,
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

    /// Gathers batches on a background thread that keeps up to `batches` of them ready ahead of
    /// the consumer; 0 (the default) gathers each batch on the calling thread. The batches and
    /// their order are the same either way.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_nn::data::{DataLoader, Dataset};
    /// let features = Tensor::from_vec((0..12).map(|i| i as f32).collect(), &[6, 2]);
    /// let targets = Tensor::from_vec(vec![0i64; 6], &[6]);
    /// let loader = DataLoader::new(Dataset::new(features, targets).unwrap(), 4).unwrap();
    /// let ahead = loader.clone().prefetch(2);
    /// let firsts = |l: &DataLoader| -> Vec<f32> {
    ///     l.epoch(0).map(|b| b.features.to_vec::<f32>()[0]).collect()
    /// };
    /// assert_eq!(firsts(&loader), vec![0.0, 8.0]);
    /// assert_eq!(firsts(&ahead), firsts(&loader));
    /// ```
    pub fn prefetch(mut self, batches: usize) -> DataLoader {
        self.prefetch = batches;
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

    /// The batches of epoch `epoch`, gathered as they are asked for (or ahead, with
    /// [`DataLoader::prefetch`]).
    pub fn epoch(&self, epoch: u64) -> Batches {
        let mut order = self.order(epoch);
        let remaining = self.num_batches();
        order.truncate(remaining * self.batch_size);
        let (dataset, batch_size) = (self.dataset.clone(), self.batch_size);
        let source = if self.prefetch == 0 {
            Source::Here {
                dataset,
                order,
                batch_size,
                next: 0,
            }
        } else {
            let (sender, receiver) = sync_channel(self.prefetch);
            let worker = std::thread::spawn(move || produce(&dataset, &order, batch_size, &sender));
            Source::Ahead {
                receiver: Some(receiver),
                worker: Some(worker),
            }
        };
        Batches { source, remaining }
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
    source: Source,
    remaining: usize,
}

/// Where the batches come from: gathered on the calling thread, or received from a worker.
enum Source {
    Here {
        dataset: Dataset,
        order: Vec<usize>,
        batch_size: usize,
        next: usize,
    },
    Ahead {
        receiver: Option<Receiver<Batch>>,
        worker: Option<JoinHandle<()>>,
    },
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let batch = match &mut self.source {
            Source::Here {
                dataset,
                order,
                batch_size,
                next,
            } => {
                let chunk = order.get(*next..)?.chunks(*batch_size).next()?;
                *next += chunk.len();
                dataset.gather_in_range(chunk)
            }
            Source::Ahead { receiver, .. } => match receiver.as_ref()?.recv() {
                Ok(batch) => batch,
                Err(_) => {
                    *receiver = None;
                    self.join_worker();
                    return None;
                }
            },
        };
        self.remaining -= 1;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Batches {}

impl Batches {
    /// Waits for the worker; a panic there is raised again here rather than lost.
    fn join_worker(&mut self) {
        if let Source::Ahead { worker, .. } = &mut self.source
            && let Some(worker) = worker.take()
            && let Err(panic) = worker.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        if let Source::Ahead { receiver, worker } = &mut self.source {
            // Dropping the receiver first makes a blocked worker's send fail, so the join
            // returns.
            *receiver = None;
            if let Some(worker) = worker.take() {
                let _ = worker.join();
            }
        }
    }
}
