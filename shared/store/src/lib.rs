//! The store port and its adapters.

pub mod dynamo;
pub mod port;
pub mod sqlite;
pub mod system;
pub mod testkit;

pub use port::*;
pub use system::{Clock, ManualClock, SystemClock, UlidIds};
