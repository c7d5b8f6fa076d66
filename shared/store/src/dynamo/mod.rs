//! The DynamoDB single-table adapter.
