//! The embedded SQLite adapter.
