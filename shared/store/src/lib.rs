//! The store port and its adapters.

#[cfg(feature = "dynamo")]
pub mod dynamo;
pub mod port;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod system;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use port::*;
pub use system::{Clock, ManualClock, SystemClock, UlidIds};
