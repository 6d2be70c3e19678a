//! One module per subcommand.

pub mod bench;
pub mod compare;
pub mod grad;
pub mod summary;
pub mod train;
