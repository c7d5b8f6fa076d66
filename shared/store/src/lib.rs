//! The store port and its adapters.

pub mod port;
pub mod system;

pub use port::*;
pub use system::{Clock, ManualClock, SystemClock, UlidIds};
