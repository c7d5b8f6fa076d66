//! End-to-end and infrastructure tests live in `tests/`; this library holds their shared helpers.

pub mod e2e;
pub mod infra;
