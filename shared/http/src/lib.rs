//! The framework-neutral HTTP API core: the route table, identity, the
//! contract's conventions and problem details, and the handler of every
//! action. The Lambda functions and the dev server only convert their
//! framework's request into an [`ApiRequest`] and the [`ApiResponse`] back.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod channels;
pub mod conventions;
mod handlers;
pub mod live;
pub mod problem;
pub mod response;
pub mod routes;
pub mod verify;
pub mod wire;

pub use app::{App, IdFactory, handle, handle_action};
pub use auth::{
    AuthError, Claims, Identity, bearer_token, claims_from_authorizer, claims_from_jwt,
    mint_dev_token,
};
pub use conventions::{IfMatch, MAX_BODY_BYTES, Query, parse_if_match};
pub use problem::{ApiError, PROBLEM_TYPE_PREFIX, problem_response};
pub use response::{ApiRequest, ApiResponse, Body};
pub use routes::{Access, Action, PathParams, RouteMiss};
