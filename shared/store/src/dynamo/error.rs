//! Mapping SDK errors to [`StoreError`]: a failed condition is a conflict, never a 500.

use crate::port::StoreError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_smithy_types::error::display::DisplayErrorContext;
use std::error::Error;

/// Any failure of the backend: unreachable, throttled, misconfigured.
pub(crate) fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(format!("dynamodb: {}", DisplayErrorContext(&e)))
}

/// A single-item write: its failed condition is a conflict.
pub(crate) fn conditional<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_condition_failure(&e) {
        StoreError::Conflict
    } else {
        unavailable(e)
    }
}

/// Whether the request failed only because its condition did not hold.
pub(crate) fn is_condition_failure<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// A conditional write's result: `true` when applied, `false` when its
/// condition did not hold, an error for anything else.
pub(crate) fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

/// A transaction: a failed condition on the dedupe item is a duplicate
/// delivery, on a message's delivery update a moved delivery; any other
/// failed condition, or a concurrent transaction on the same items, is a conflict.
pub(crate) fn transaction<R>(
    e: SdkError<TransactWriteItemsError, R>,
    guards: super::transaction::TxGuards,
) -> StoreError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
            let reasons = c.cancellation_reasons();
            let code_at = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
            let failed = |index: Option<usize>| {
                index.is_some_and(|i| code_at(i) == "ConditionalCheckFailed")
            };
            if failed(guards.dedupe) {
                return StoreError::Duplicate;
            }
            if failed(guards.delivery) {
                return StoreError::DeliveryMoved;
            }
            let retryable = reasons.is_empty()
                || reasons.iter().any(|r| {
                    matches!(
                        r.code(),
                        Some("ConditionalCheckFailed") | Some("TransactionConflict")
                    )
                });
            if retryable {
                StoreError::Conflict
            } else {
                unavailable(e)
            }
        }
        Some(other) if other.code() == Some("TransactionConflictException") => StoreError::Conflict,
        _ => unavailable(e),
    }
}

/// An item that does not read back as what it should be.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
