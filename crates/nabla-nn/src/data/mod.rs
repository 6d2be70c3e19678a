//! Data loading: in-memory datasets, a shuffling mini-batch loader, and readers for the IDX
//! format (MNIST and its relatives) and for CSV tables.

pub mod csv;
pub mod dataset;
pub mod idx;
pub mod loader;
pub mod mnist;
pub mod schema;

pub use csv::{Column, CsvData, CsvOptions, TargetKind};
pub use dataset::{Batch, Dataset};
pub use idx::{IdxArray, IdxData};
pub use loader::{Batches, DataLoader};
pub use mnist::{Mnist, Normalization};
pub use schema::{Preprocess, Schema};
