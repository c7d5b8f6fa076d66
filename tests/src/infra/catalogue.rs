//! What the template deploys: every Lambda function, what starts it, what it
//! may touch, and how big it is. The API actions come from the route table
//! (`inbox_http::Action`); the channel routes and the background functions
//! are listed here. The generator turns this into template resources; the
//! infra tests check the template against the code independently of it.

use inbox_http::Action;

/// One route on the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path template, `{name}` for parameters.
    pub path: String,
    /// Whether the JWT authorizer guards it (the webhooks are authenticated by signature instead).
    pub jwt: bool,
}

/// How a function uses the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableAccess {
    /// Not at all.
    None,
    /// Point reads and queries (GET routes and other actions that write nothing).
    Read,
    /// Reads plus the item writes a `TransactWriteItems` is made of.
    ReadWrite,
    /// Queries on the due-timer index only (the sweep).
    QueryTimers,
}

/// What starts a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Routes on the HTTP API.
    Api(Vec<Route>),
    /// The every-minute EventBridge schedule.
    Schedule,
    /// The auto-close SQS queue.
    AutoCloseQueue,
    /// The table's stream.
    TableStream,
}

/// Memory, timeout, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// A short name used in the generated comment.
    pub profile: &'static str,
    /// MB.
    pub memory: u32,
    /// Seconds.
    pub timeout: u32,
}

/// API actions and the channel routes: 256 MB (a Rust handler needs ~30 MB,
/// but CPU grows with memory and shortens TLS set-up at cold start; 128 MB is
/// slower for nearly the same price), 10 s (one read and one write with bounded
/// retries; fail well before API Gateway's 30 s cap instead of holding concurrency).
pub const API: Sizing = Sizing {
    profile: "api",
    memory: 256,
    timeout: 10,
};
/// The CSV export pages through every conversation of a view in one request:
/// more CPU for serialising, and the longest timeout the HTTP API allows (29 s).
pub const EXPORT: Sizing = Sizing {
    profile: "export",
    memory: 1024,
    timeout: 29,
};
/// Webhooks: like the API, a little longer because providers allow 15 s and a
/// delivery may carry several messages (each its own atomic write).
pub const WEBHOOK: Sizing = Sizing {
    profile: "webhook",
    memory: 256,
    timeout: 15,
};
/// The sweep runs every minute: it must finish inside the minute (a longer
/// sweep overlaps the next; harmless, since the worker is idempotent, but wasteful).
pub const SWEEP: Sizing = Sizing {
    profile: "sweep",
    memory: 256,
    timeout: 55,
};
/// The worker closes up to 10 timers per batch, each one read and one write.
/// The queue's visibility timeout (180 s) is six times this.
pub const WORKER: Sizing = Sizing {
    profile: "worker",
    memory: 256,
    timeout: 30,
};
/// The publisher sends a stream batch (up to 100 records) to EventBridge in
/// calls of 10 entries.
pub const PUBLISHER: Sizing = Sizing {
    profile: "publisher",
    memory: 256,
    timeout: 60,
};

/// One Lambda function of the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Kebab-case name: the crate (or bin) under `functions/` and the build's binary.
    pub name: String,
    /// A one-line description.
    pub description: String,
    /// What starts it.
    pub trigger: Trigger,
    /// What it may do on the table.
    pub table: TableAccess,
    /// Whether it sends to the auto-close queue.
    pub sends_autoclose: bool,
    /// Whether it publishes to the event bus.
    pub publishes_events: bool,
    /// Whether it needs the public base URL (webhooks rebuild the URL a provider signed).
    pub public_base_url: bool,
    /// Memory and timeout.
    pub sizing: Sizing,
    /// Whether it gets its own error and throttle alarms.
    pub critical: bool,
}

/// Actions that are not GETs but write nothing (the contract: "written
/// nowhere"), so they get read-only table access.
pub const READ_ONLY_POSTS: [Action; 2] = [
    Action::ConversationClosingNoteDraft,
    Action::ConversationSummary,
];

/// Channel configuration and webhook routes: `(method, path, function, jwt)`.
/// They are served outside `inbox_http::Action` (see its `RESERVED_PREFIXES`).
pub const CHANNEL_ROUTES: [(&str, &str, &str, bool); 7] = [
    ("PUT", "/channels/{id}", "channel-put", true),
    ("GET", "/channels", "channels-list", true),
    (
        "POST",
        "/webhooks/twilio/{workspace_id}/{channel_id}",
        "webhook-twilio",
        false,
    ),
    (
        "GET",
        "/webhooks/whatsapp/{workspace_id}/{channel_id}",
        "webhook-whatsapp",
        false,
    ),
    (
        "POST",
        "/webhooks/whatsapp/{workspace_id}/{channel_id}",
        "webhook-whatsapp",
        false,
    ),
    (
        "POST",
        "/webhooks/telegram/{workspace_id}/{channel_id}",
        "webhook-telegram",
        false,
    ),
    (
        "POST",
        "/webhooks/generic/{workspace_id}/{channel_id}",
        "webhook-generic",
        false,
    ),
];

/// The sweep's function name.
pub const SWEEP_FUNCTION: &str = "autoclose-sweep";
/// The worker's function name.
pub const WORKER_FUNCTION: &str = "autoclose-worker";
/// The stream publisher's function name.
pub const PUBLISHER_FUNCTION: &str = "event-publisher";

/// Every route the HTTP API serves: `(method, path, function, jwt)`, route table first.
pub fn all_routes() -> Vec<(String, String, String, bool)> {
    let mut routes: Vec<_> = Action::ALL
        .iter()
        .map(|a| {
            (
                a.method().to_string(),
                a.path().to_string(),
                a.function_name().to_string(),
                true,
            )
        })
        .collect();
    routes.extend(
        CHANNEL_ROUTES
            .iter()
            .map(|(m, p, f, jwt)| (m.to_string(), p.to_string(), f.to_string(), *jwt)),
    );
    routes
}

/// Every function, in template order: the actions, the channel functions, then the background ones.
pub fn functions() -> Vec<FunctionSpec> {
    let mut out: Vec<FunctionSpec> = Vec::new();
    for &action in Action::ALL {
        let read_only = !action.is_write() || READ_ONLY_POSTS.contains(&action);
        out.push(FunctionSpec {
            name: action.function_name().to_string(),
            description: format!("{} {}", action.method(), action.path()),
            trigger: Trigger::Api(vec![Route {
                method: action.method().to_string(),
                path: action.path().to_string(),
                jwt: true,
            }]),
            table: if read_only {
                TableAccess::Read
            } else {
                TableAccess::ReadWrite
            },
            sends_autoclose: false,
            publishes_events: false,
            public_base_url: false,
            sizing: if action == Action::ConversationsExport {
                EXPORT
            } else {
                API
            },
            critical: false,
        });
    }
    for (method, path, name, jwt) in CHANNEL_ROUTES {
        let route = Route {
            method: method.to_string(),
            path: path.to_string(),
            jwt,
        };
        if let Some(existing) = out.iter_mut().find(|f| f.name == name) {
            if let Trigger::Api(routes) = &mut existing.trigger {
                routes.push(route);
            }
            if let Some(methods) = existing.description.strip_suffix(path) {
                existing.description = format!("{methods}and {method} {path}");
            }
            continue;
        }
        let webhook = !jwt;
        out.push(FunctionSpec {
            name: name.to_string(),
            description: format!("{method} {path}"),
            trigger: Trigger::Api(vec![route]),
            // A webhook stores what it receives (WhatsApp's GET handshake shares its function).
            table: if method == "GET" && !webhook {
                TableAccess::Read
            } else {
                TableAccess::ReadWrite
            },
            sends_autoclose: false,
            publishes_events: false,
            public_base_url: webhook,
            sizing: if webhook { WEBHOOK } else { API },
            critical: webhook,
        });
    }
    out.push(FunctionSpec {
        name: SWEEP_FUNCTION.to_string(),
        description: "Every minute: queue the due auto-close timers".to_string(),
        trigger: Trigger::Schedule,
        table: TableAccess::QueryTimers,
        sends_autoclose: true,
        publishes_events: false,
        public_base_url: false,
        sizing: SWEEP,
        critical: true,
    });
    out.push(FunctionSpec {
        name: WORKER_FUNCTION.to_string(),
        description: "Close the conversations whose timers are still due".to_string(),
        trigger: Trigger::AutoCloseQueue,
        table: TableAccess::ReadWrite,
        sends_autoclose: false,
        publishes_events: false,
        public_base_url: false,
        sizing: WORKER,
        critical: true,
    });
    out.push(FunctionSpec {
        name: PUBLISHER_FUNCTION.to_string(),
        description: "Publish outbox items from the table's stream to the event bus".to_string(),
        trigger: Trigger::TableStream,
        table: TableAccess::None,
        sends_autoclose: false,
        publishes_events: true,
        public_base_url: false,
        sizing: PUBLISHER,
        critical: true,
    });
    out
}
