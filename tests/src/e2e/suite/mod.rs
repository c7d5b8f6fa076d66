//! The end-to-end flows. Each takes the base URL of a running `inbox-dev`,
//! works in a workspace of its own, and goes through real HTTP only; the same
//! functions run against every storage backend (see [`crate::e2e_suite`]).

use super::client::{ADA, BOB, CAROL, MAX, OLIVIA, VIC, Ws, ZAP, enc};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TAKEOVER_NOTICE: &str = "You have taken over this conversation. AI will stop responding.";

async fn ready(base: &str, flow: &str) -> Ws {
    let ws = Ws::new(base, flow);
    ws.setup().await;
    ws
}

fn last<'a>(timeline: &'a [Value], kind: &str) -> &'a Value {
    timeline
        .iter()
        .rev()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {timeline:?}"))
}

mod agents;
mod ai;
mod api_keys;
mod assignment;
mod channels;
mod delivery;
mod directory;
mod failures;
mod live;
mod outgoing;
mod reports;
mod roles;
mod status;

pub use agents::*;
pub use ai::*;
pub use api_keys::*;
pub use assignment::*;
pub use channels::*;
pub use delivery::*;
pub use directory::*;
pub use failures::*;
pub use live::*;
pub use outgoing::*;
pub use reports::*;
pub use roles::*;
pub use status::*;
