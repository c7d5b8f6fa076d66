//! The contract test suite every store adapter must pass (used by the adapters' tests).
