//! One module per subcommand.

pub mod bench;
pub mod grad;
pub mod train;
