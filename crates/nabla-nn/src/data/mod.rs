//! Data loading: in-memory datasets, a shuffling mini-batch loader, readers for the IDX format
//! (MNIST and its relatives, any image size), CSV tables, image folders (PNG, JPEG) and toy
//! sets in the plane, and [`DataSpec`], which names a run's data and reads it into training,
//! validation and test [`Splits`] with the [`Schema`] taken from the data.

pub mod csv;
pub mod dataset;
pub mod idx;
mod idx_images;
mod image_folder;
mod inputs;
pub mod loader;
pub mod mnist;
mod samples;
pub mod schema;
mod spec;
mod standardize;
mod table;
mod toy;

pub use csv::{Column, CsvData, CsvOptions, TargetKind};
pub use dataset::{Batch, Dataset};
pub use idx::{IdxArray, IdxData};
pub use inputs::Inputs;
pub use loader::{Batches, DataLoader};
pub use mnist::{Mnist, Normalization};
pub use schema::{Preprocess, Schema};
pub use spec::{DataSpec, Source, Splits, TaskKind};
pub use toy::ToySet;
