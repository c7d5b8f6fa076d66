//! Channel webhooks end to end, and the configuration of channels.
//!
//! [`ingest`] takes one inbound webhook request as plain values (kind and ids
//! from the path, headers, raw body bytes, the public URL the provider called)
//! and does everything the contract asks: look the channel up, verify the
//! delivery over the raw bytes, parse it, find or create the contact, apply each
//! message to the contact's latest conversation on the channel through the
//! domain, store it atomically with its deduplication key, record delivery
//! statuses, and answer in the provider's expected form ([`WebhookReply`]).
//! [`handshake`] answers WhatsApp's subscription `GET`.
//!
//! [`put_channel`] and [`list_channels`] are the core of `PUT /channels/{id}` and
//! `GET /channels`. Nothing here knows about Lambda or axum: the webhook
//! functions, the dev server and the HTTP layer call these with what they
//! received and send back what they get.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

mod config;
mod convergent;
mod error;
mod ingest;
mod reply;
mod sending;
mod url;

pub use config::{ChannelList, ChannelView, ConfigError, list_channels, put_channel};
pub use error::IngestError;
pub use ingest::{
    DEDUPE_TTL_SECONDS, IngestReport, MAX_BODY_BYTES, handshake, ingest, message_body, try_ingest,
};
pub use reply::WebhookReply;
pub use url::{PUBLIC_BASE_URL_ENV, public_url, webhook_path};

/// The channel kinds, re-exported so callers need not depend on the domain for routing.
pub use inbox_channels::{ChannelKind, kind_from_path, kind_name};
