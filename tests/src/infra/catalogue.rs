//! What the template deploys: every Lambda function of the binary's catalogue
//! (`inbox_runtime::Function`), what starts it, what it may touch, and how big
//! it is. The routes come from the route table (`inbox_http::Action`). The
//! generator turns this into template resources; the infra tests check the
//! template against the code independently of it.

use inbox_http::{Access, Action};
use inbox_runtime::Function;

/// One route on the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path template, `{name}` for parameters.
    pub path: String,
    /// Whether the authorizer guards it (the webhooks are authenticated by signature instead).
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
    /// Reads, and item puts, updates and condition checks, never a delete
    /// (the sender: delivery steps, provider-id pointers, a failure's commit).
    ReadUpdate,
    /// `GetItem` and `UpdateItem` on API key items only (`dynamodb:LeadingKeys`
    /// `APIKEY#*`): the authorizer reads a key and records its use.
    ApiKeyItems,
    /// Reads of the table (a member's name, the workspace's connections),
    /// and puts and deletes of live connection items only (`LIVE#*`).
    LiveConnections,
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
    /// The jobs SQS queue.
    JobsQueue,
    /// The send SQS queue (fed by the `message.outbound` rule; the function
    /// queues its own later attempts on it).
    SendQueue,
    /// The table's stream.
    TableStream,
    /// The table's stream, for its timeline event and message records (the
    /// change feed outgoing webhooks are dispatched from).
    ChangeFeed,
    /// The outgoing-webhook FIFO queue (the function holds retries back on it).
    WebhookQueue,
    /// The AI agents' queue (fed by the `ai.reply_requested` rule).
    AgentQueue,
    /// Nothing: an operator invokes it by hand.
    Manual,
    /// API Gateway, as the HTTP API's authorizer (its permission is the API's).
    ApiAuthorizer,
    /// The WebSocket API's routes (`$connect`, `$disconnect`, `$default`),
    /// wired by hand in the template (SAM has no WebSocket event).
    LiveSocket,
    /// The WebSocket API's `$connect` authorizer, wired by hand too.
    LiveAuthorizer,
}

/// What a function does with the events dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DlqAccess {
    /// Nothing.
    None,
    /// Keeps events there (the publisher).
    Send,
    /// Reads and deletes them (the replay).
    Consume,
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
/// A job step changes up to 1,000 conversations (about 35 transactions per
/// 100) and hands on to the next step; 120 s leaves room on a slow table.
pub const JOB_STEP: Sizing = Sizing {
    profile: "job-step",
    memory: 256,
    timeout: 120,
};
/// The sender makes the attempts of a batch (up to 10) at once, each one
/// provider call (15 s at most, 5 s to connect) between a few item writes:
/// 30 s. The send queue's visibility timeout (180 s) is six times this, and
/// longer than the claim's 2-minute lease.
pub const SENDER: Sizing = Sizing {
    profile: "sender",
    memory: 256,
    timeout: 30,
};
/// ai-agent answers a batch's requests (up to 10) at once, each up to 3
/// model or webhook calls of at most 20 s (60 s when an agent asks for it)
/// with waits between, inside the 70-second deadline, plus a few reads and
/// one write: 90 s. The agents' queue's visibility timeout (540 s) is six times this.
pub const AI_AGENT: Sizing = Sizing {
    profile: "ai-agent",
    memory: 256,
    timeout: 90,
};
/// The authorizer: one key read (and at most one write a minute) or a
/// signature check per uncached request; a JWKS fetch (4 s at most) on a cold
/// start or an unknown `kid`. API Gateway waits 10 s for an authorizer.
pub const AUTHORIZER: Sizing = Sizing {
    profile: "authorizer",
    memory: 256,
    timeout: 10,
};
/// Dispatch reads a stream batch (up to 100 records): it folds the report
/// counters (a facts read per conversation, a transaction per close), reads
/// the endpoints once per run of one workspace's records, writes a delivery
/// record per task, and queues tasks 10 a call.
pub const DISPATCH: Sizing = Sizing {
    profile: "dispatch",
    memory: 256,
    timeout: 60,
};
/// The webhook sender makes a batch's lanes (up to 10 records) at once,
/// each attempt one POST of at most 10 s between a few item writes. The
/// webhook queue's visibility timeout (360 s) is six times this.
pub const WEBHOOK_SENDER: Sizing = Sizing {
    profile: "webhook-sender",
    memory: 256,
    timeout: 60,
};
/// The WebSocket routes: a connect is one directory read and one put; a
/// `typing` frame one `Query` and a post per other connection (32 at once).
pub const LIVE: Sizing = Sizing {
    profile: "live",
    memory: 256,
    timeout: 10,
};
/// The replay drains the events dead-letter queue ten messages a call; a
/// queue longer than its timeout allows is finished by invoking it again.
pub const REPLAY: Sizing = Sizing {
    profile: "replay",
    memory: 256,
    timeout: 300,
};

/// One Lambda function of the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Kebab-case name: the catalogue's, set as the function's `INBOX_FUNCTION`.
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
    /// What it does with the events dead-letter queue.
    pub events_dlq: DlqAccess,
    /// Whether it creates users in the Cognito user pool (invitations).
    pub invites: bool,
    /// Whether it queues job steps (it starts or continues a job).
    pub sends_jobs: bool,
    /// What it does with the exports bucket.
    pub exports: ExportsAccess,
    /// Whether it needs the public base URL (webhooks rebuild the URL a provider signed).
    pub public_base_url: bool,
    /// Memory and timeout.
    pub sizing: Sizing,
    /// Whether it posts to live connections through the WebSocket API's
    /// management API (and forgets the gone ones).
    pub manages_connections: bool,
    /// Whether it gets its own error and throttle alarms.
    pub critical: bool,
}

/// Actions that are not GETs but write nothing (the contract: "written
/// nowhere"), so they get read-only table access.
pub const READ_ONLY_POSTS: [Action; 2] = [
    Action::ConversationClosingNoteDraft,
    Action::ConversationSummary,
];

/// The sweep's function name.
pub const SWEEP_FUNCTION: &str = Function::AutocloseSweep.name();
/// The worker's function name.
pub const WORKER_FUNCTION: &str = Function::AutocloseWorker.name();
/// The stream publisher's function name.
pub const PUBLISHER_FUNCTION: &str = Function::EventPublisher.name();
/// The dead-letter replay's function name.
pub const REPLAY_FUNCTION: &str = Function::EventReplay.name();
/// The job worker's function name.
pub const JOB_WORKER_FUNCTION: &str = Function::JobWorker.name();
/// The sender's function name.
pub const SENDER_FUNCTION: &str = Function::Sender.name();
/// The AI agents' function name.
pub const AI_AGENT_FUNCTION: &str = Function::AiAgent.name();
/// The authorizer's function name.
pub const AUTHORIZER_FUNCTION: &str = Function::Authorizer.name();
/// Webhook dispatch's function name.
pub const DISPATCH_FUNCTION: &str = Function::WebhookDispatch.name();
/// The webhook sender's function name.
pub const WEBHOOK_SENDER_FUNCTION: &str = Function::WebhookSender.name();
/// The WebSocket routes' function name.
pub const LIVE_FUNCTION: &str = Function::Live.name();
/// The WebSocket authorizer's function name.
pub const LIVE_AUTHORIZER_FUNCTION: &str = Function::LiveAuthorizer.name();

/// Actions that start jobs: work on many conversations, and export files.
pub const JOB_ACTIONS: [Action; 7] = [
    Action::MemberDelete,
    Action::TeamDelete,
    Action::AgentDelete,
    Action::ContactPatch,
    Action::ContactBlock,
    Action::ContactUnblock,
    Action::ConversationExportStart,
];

/// What a function does with the exports bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportsAccess {
    /// Nothing.
    None,
    /// Knows its name only (starting an export checks this deployment keeps files).
    Name,
    /// Presigns links to files (needs `s3:GetObject`).
    Link,
    /// Writes files (the job worker).
    Write,
}

/// Whether an action's route is guarded by the authorizer (webhooks are
/// authenticated by their channel's signature instead).
pub fn uses_jwt(action: Action) -> bool {
    matches!(action.access(), Access::Token(_))
}

/// Every route the HTTP API serves: `(method, path, function, jwt)`, in route-table order.
pub fn all_routes() -> Vec<(String, String, String, bool)> {
    Action::ALL
        .iter()
        .map(|&a| {
            (
                a.method().to_string(),
                a.path().to_string(),
                a.function_name().to_string(),
                uses_jwt(a),
            )
        })
        .collect()
}

/// The spec of an HTTP function serving `actions` (its routes, in table order).
fn http_function(name: &str, actions: &[Action]) -> FunctionSpec {
    let routes: Vec<Route> = actions
        .iter()
        .map(|&a| Route {
            method: a.method().to_string(),
            path: a.path().to_string(),
            jwt: uses_jwt(a),
        })
        .collect();
    let webhook = actions.iter().any(|&a| !uses_jwt(a));
    let read_only = actions
        .iter()
        .all(|&a| !a.is_write() || READ_ONLY_POSTS.contains(&a));
    let description = actions
        .iter()
        .map(|a| format!("{} {}", a.method(), a.path()))
        .collect::<Vec<_>>()
        .join(" and ");
    FunctionSpec {
        name: name.to_string(),
        description,
        trigger: Trigger::Api(routes),
        // A webhook stores what it receives (WhatsApp's GET handshake shares its function).
        table: if read_only && !webhook {
            TableAccess::Read
        } else {
            TableAccess::ReadWrite
        },
        sends_autoclose: false,
        publishes_events: false,
        events_dlq: DlqAccess::None,
        invites: actions.contains(&Action::MemberInvite),
        sends_jobs: actions.iter().any(|a| JOB_ACTIONS.contains(a)),
        exports: if actions.contains(&Action::ConversationExportGet) {
            ExportsAccess::Link
        } else if actions.contains(&Action::ConversationExportStart) {
            ExportsAccess::Name
        } else {
            ExportsAccess::None
        },
        public_base_url: webhook,
        sizing: if actions.contains(&Action::ConversationsExport) {
            EXPORT
        } else if webhook {
            WEBHOOK
        } else {
            API
        },
        manages_connections: false,
        critical: webhook,
    }
}

/// Every function of the catalogue, in its order: the HTTP functions, then the background ones.
pub fn functions() -> Vec<FunctionSpec> {
    Function::all()
        .into_iter()
        .map(|f| match f {
            Function::Http(name) => http_function(name, &f.routes()),
            Function::AutocloseSweep => FunctionSpec {
                name: f.name().to_string(),
                description: "Every minute: queue the due auto-close timers".to_string(),
                trigger: Trigger::Schedule,
                table: TableAccess::QueryTimers,
                sends_autoclose: true,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: SWEEP,
                manages_connections: false,
                critical: true,
            },
            Function::AutocloseWorker => FunctionSpec {
                name: f.name().to_string(),
                description: "Close the conversations whose timers are still due".to_string(),
                trigger: Trigger::AutoCloseQueue,
                table: TableAccess::ReadWrite,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: WORKER,
                manages_connections: false,
                critical: true,
            },
            Function::EventPublisher => FunctionSpec {
                name: f.name().to_string(),
                description: "Publish outbox items from the table's stream to the event bus"
                    .to_string(),
                trigger: Trigger::TableStream,
                table: TableAccess::None,
                sends_autoclose: false,
                publishes_events: true,
                events_dlq: DlqAccess::Send,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: PUBLISHER,
                manages_connections: false,
                critical: true,
            },
            Function::EventReplay => FunctionSpec {
                name: f.name().to_string(),
                description: "Invoked by hand: re-publish the events dead-letter queue".to_string(),
                trigger: Trigger::Manual,
                table: TableAccess::None,
                sends_autoclose: false,
                publishes_events: true,
                events_dlq: DlqAccess::Consume,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: REPLAY,
                manages_connections: false,
                critical: false,
            },
            Function::JobWorker => FunctionSpec {
                name: f.name().to_string(),
                description: "Run the steps of jobs: work that touches many conversations"
                    .to_string(),
                trigger: Trigger::JobsQueue,
                table: TableAccess::ReadWrite,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: true,
                exports: ExportsAccess::Write,
                public_base_url: false,
                sizing: JOB_STEP,
                manages_connections: false,
                critical: true,
            },
            Function::Sender => FunctionSpec {
                name: f.name().to_string(),
                description: "Send replies to contacts through their channel's provider"
                    .to_string(),
                trigger: Trigger::SendQueue,
                table: TableAccess::ReadUpdate,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                // Twilio's StatusCallback is the channel's webhook URL.
                public_base_url: true,
                sizing: SENDER,
                manages_connections: false,
                critical: true,
            },
            Function::AiAgent => FunctionSpec {
                name: f.name().to_string(),
                description: "Answer AI reply requests: call LLM agents' models and webhook agents"
                    .to_string(),
                trigger: Trigger::AgentQueue,
                // Reads (the agent, the conversation, its messages) and one
                // commit per answer (the reply or the hand-off, with its dedupe key).
                table: TableAccess::ReadWrite,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: AI_AGENT,
                manages_connections: false,
                // A contact waits on it.
                critical: true,
            },
            Function::Authorizer => FunctionSpec {
                name: f.name().to_string(),
                description: "Verify the bearer JWT or API key of every API request".to_string(),
                trigger: Trigger::ApiAuthorizer,
                table: TableAccess::ApiKeyItems,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: AUTHORIZER,
                manages_connections: false,
                // Every API request goes through it: failures and throttles page.
                critical: true,
            },
            Function::WebhookDispatch => FunctionSpec {
                name: f.name().to_string(),
                description:
                    "Fold report counters, queue outgoing webhook tasks and send live updates from the table's stream"
                        .to_string(),
                trigger: Trigger::ChangeFeed,
                // Endpoints read, delivery records and report aggregates made: never a delete.
                table: TableAccess::ReadUpdate,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: DISPATCH,
                manages_connections: true,
                critical: true,
            },
            Function::WebhookSender => FunctionSpec {
                name: f.name().to_string(),
                description: "Post outgoing webhooks, in order per endpoint and conversation"
                    .to_string(),
                trigger: Trigger::WebhookQueue,
                // Delivery records claimed and answered, endpoints' health.
                table: TableAccess::ReadUpdate,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: WEBHOOK_SENDER,
                manages_connections: false,
                critical: true,
            },
            Function::Live => FunctionSpec {
                name: f.name().to_string(),
                description: "Live updates' WebSocket routes: connect, disconnect, typing"
                    .to_string(),
                trigger: Trigger::LiveSocket,
                table: TableAccess::LiveConnections,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: LIVE,
                // Every connect goes through it.
                manages_connections: true,
                critical: true,
            },
            Function::LiveAuthorizer => FunctionSpec {
                name: f.name().to_string(),
                description: "Verify the token or API key of a live updates connection".to_string(),
                trigger: Trigger::LiveAuthorizer,
                table: TableAccess::ApiKeyItems,
                sends_autoclose: false,
                publishes_events: false,
                events_dlq: DlqAccess::None,
                invites: false,
                sends_jobs: false,
                exports: ExportsAccess::None,
                public_base_url: false,
                sizing: AUTHORIZER,
                manages_connections: false,
                critical: true,
            },
        })
        .collect()
}
