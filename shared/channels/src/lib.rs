//! Messaging-channel webhooks, decided without I/O.
//!
//! This crate answers two questions about one inbound delivery, and nothing
//! else: *is it authentic?* ([`verify`]) and *what does it say?* ([`parse`]).
//! Everything it needs — the channel secret, the request headers, the raw body
//! bytes, the configured public URL and `now` in Unix seconds — is passed in as
//! a value, so the same code runs in a Lambda function, in the dev server and in
//! tests, and never reads a clock, a network or the environment.
//!
//! Headers are taken as an [`http::HeaderMap`]: both `lambda_http` and `axum`
//! hand one over, and it already looks names up case-insensitively.
//!
//! Errors come in two families that the HTTP layer must keep apart:
//! [`VerifyError`] (answer 401 `invalid_signature`, write nothing) and
//! [`ParseError`] (the delivery is authentic but malformed: 400 `bad_request`).
//! The WhatsApp subscription handshake has its own [`HandshakeError`] (403).

// Parsers and verifiers see attacker-controlled input: keep every panic path out of
// non-test code, mechanically rather than by review.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice,
        clippy::unreachable
    )
)]
#![warn(missing_docs)]

mod error;
mod form;
mod handshake;
mod headers;
mod model;
pub mod parse;
pub mod verify;

pub use error::{HandshakeError, ParseError, VerifyError, WebhookError};
pub use handshake::{whatsapp_handshake, whatsapp_handshake_query};
pub use model::{DeliveryState, DeliveryStatus, Inbound, InboundMessage, Sender};

/// The channel kinds, shared with the domain so routing and storage agree on one type.
pub use inbox_domain::ChannelKind;

/// Every channel kind, for routing tables and exhaustive tests.
pub const KINDS: [ChannelKind; 4] = [
    ChannelKind::Twilio,
    ChannelKind::Whatsapp,
    ChannelKind::Telegram,
    ChannelKind::Generic,
];

/// The kind named by the `{kind}` segment of `/webhooks/{kind}/…` (its serde name), if any.
pub fn kind_from_path(segment: &str) -> Option<ChannelKind> {
    KINDS.into_iter().find(|kind| kind_name(*kind) == segment)
}

/// The kind's name as used in URLs and in `PUT /channels/{id}`.
pub fn kind_name(kind: ChannelKind) -> &'static str {
    kind.as_str()
}
pub use verify::{
    GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, GENERIC_TOLERANCE_SECONDS,
    TELEGRAM_SECRET_HEADER, TWILIO_SIGNATURE_HEADER, WHATSAPP_SIGNATURE_HEADER,
};

use http::HeaderMap;

/// One inbound webhook request, reduced to what verification and parsing need.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The request headers exactly as received.
    pub headers: &'a HeaderMap,
    /// The raw body bytes: signatures are over these, never over a re-encoding.
    pub body: &'a [u8],
    /// The public URL the provider called, query string included (Twilio signs it;
    /// API Gateway's own host is not what the provider saw).
    pub public_url: &'a str,
    /// The current time in Unix seconds (the generic scheme's replay window).
    pub now: i64,
}

/// Checks that `delivery` was signed with `secret` under the scheme of `kind`.
pub fn verify(kind: ChannelKind, secret: &str, delivery: &Delivery<'_>) -> Result<(), VerifyError> {
    match kind {
        ChannelKind::Twilio => {
            verify::verify_twilio(secret, delivery.public_url, delivery.headers, delivery.body)
        }
        ChannelKind::Whatsapp => verify::verify_whatsapp(secret, delivery.headers, delivery.body),
        ChannelKind::Telegram => verify::verify_telegram(secret, delivery.headers),
        ChannelKind::Generic => {
            verify::verify_generic(secret, delivery.headers, delivery.body, delivery.now)
        }
    }
}

/// Normalises an already verified body of a `kind` delivery into inbound items.
pub fn parse(kind: ChannelKind, body: &[u8]) -> Result<Vec<Inbound>, ParseError> {
    match kind {
        ChannelKind::Twilio => parse::twilio::parse(body),
        ChannelKind::Whatsapp => parse::whatsapp::parse(body),
        ChannelKind::Telegram => parse::telegram::parse(body),
        ChannelKind::Generic => parse::generic::parse(body),
    }
}

/// Verifies then parses, so a caller cannot parse an unauthenticated body by mistake.
pub fn verify_and_parse(
    kind: ChannelKind,
    secret: &str,
    delivery: &Delivery<'_>,
) -> Result<Vec<Inbound>, WebhookError> {
    verify(kind, secret, delivery)?;
    Ok(parse(kind, delivery.body)?)
}
