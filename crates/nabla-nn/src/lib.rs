//! Neural-network library.
