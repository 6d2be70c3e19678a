//! One module per subcommand.

pub mod bench;
pub mod compare;
pub mod evaluate;
pub mod grad;
pub mod json;
pub mod predict;
pub mod summary;
pub mod train;
pub mod view;
