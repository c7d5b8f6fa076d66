//! Response shapes of the contract that are not domain types already, and the
//! strict request bodies (unknown fields are refused).

use inbox_domain::commands::{ClosingNoteInput, OnClosed};
use inbox_domain::model::{AiAgent, Contact, Member, SenderKind, Status};
use inbox_domain::{Job, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};

/// A list page: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Serialize)]
pub struct ListPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, or null at the end.
    pub next_cursor: Option<String>,
}

/// A member: `{"id","name","email","role","initials"}`.
#[derive(Debug, Serialize)]
pub struct MemberOut {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Role.
    pub role: &'static str,
    /// First letters of the first and last words of the name.
    pub initials: String,
}

impl From<&Member> for MemberOut {
    fn from(m: &Member) -> Self {
        MemberOut {
            id: m.id.clone(),
            name: m.name.clone(),
            email: m.email.clone(),
            role: m.role.as_str(),
            initials: m.initials(),
        }
    }
}

/// An AI agent: `{"id","name"}`.
#[derive(Debug, Serialize)]
pub struct AgentOut {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `external`, `webhook` or `llm`.
    pub kind: &'static str,
    /// A webhook agent's settings (its secret only when just made or rotated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<AgentWebhookOut>,
    /// An LLM agent's settings, without its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<AgentLlmOut>,
}

/// `webhook` of an agent.
#[derive(Debug, Serialize)]
pub struct AgentWebhookOut {
    /// Where reply requests are POSTed.
    pub url: String,
    /// How many of the latest messages a request carries.
    pub history_messages: usize,
    /// `whsec_…`: shown only when made and when rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `llm` of an agent: everything but the key.
#[derive(Debug, Serialize)]
pub struct AgentLlmOut {
    /// The API's base URL.
    pub base_url: String,
    /// The model.
    pub model: String,
    /// Always true: a key is configured (it is never shown).
    pub has_api_key: bool,
    /// The system message.
    pub instructions: String,
    /// How many of the latest messages the model sees.
    pub history_messages: usize,
    /// Seconds one request may take.
    pub timeout_seconds: u64,
}

impl AgentOut {
    /// The agent as listed; a webhook agent's secret only `with_secret`.
    pub fn of(a: &AiAgent, with_secret: bool) -> Self {
        use inbox_domain::agents::AgentKind;
        let (webhook, llm) = match &a.answers {
            AgentKind::External => (None, None),
            AgentKind::Webhook(w) => (
                Some(AgentWebhookOut {
                    url: w.url.clone(),
                    history_messages: w.history_messages,
                    secret: with_secret.then(|| w.secret.clone()),
                }),
                None,
            ),
            AgentKind::Llm(l) => (
                None,
                Some(AgentLlmOut {
                    base_url: l.base_url.clone(),
                    model: l.model.clone(),
                    has_api_key: !l.api_key.is_empty(),
                    instructions: l.instructions.clone(),
                    history_messages: l.history_messages,
                    timeout_seconds: l.timeout_seconds,
                }),
            ),
        };
        AgentOut {
            id: a.id.clone(),
            name: a.name.clone(),
            kind: a.answers.as_str(),
            webhook,
            llm,
        }
    }
}

impl From<&AiAgent> for AgentOut {
    fn from(a: &AiAgent) -> Self {
        AgentOut::of(a, false)
    }
}

/// A job's progress: `GET /jobs/{id}`.
#[derive(Debug, Serialize)]
pub struct JobOut {
    /// `job_…`
    pub id: String,
    /// `member_removal`, `team_removal`, `agent_removal`, `contact_refresh` or `conversation_export`.
    pub kind: &'static str,
    /// The member, team, AI agent or contact it is about.
    pub subject: String,
    /// `running`, `done` or `failed`.
    pub status: &'static str,
    /// Conversations changed so far (the request's own part included).
    pub done: u64,
    /// Conversations in all, once known (when done).
    pub total: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub created_at: Timestamp,
    /// When it last moved.
    pub updated_at: Timestamp,
}

impl From<&Job> for JobOut {
    fn from(j: &Job) -> Self {
        JobOut {
            id: j.id.clone(),
            kind: j.kind.as_str(),
            subject: j.subject.clone(),
            status: j.status.as_str(),
            done: j.done,
            total: j.total,
            error: j.error.clone(),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

/// An export job: `POST /conversations/exports`, `GET /conversations/exports/{id}`.
#[derive(Debug, Serialize)]
pub struct ExportOut {
    /// `exp_…`
    pub id: String,
    /// `running`, `done` or `failed`.
    pub status: &'static str,
    /// Rows written (the header not counted): 0 until done.
    pub rows: u64,
    /// A time-limited link to the CSV file, once done.
    pub url: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub created_at: Timestamp,
    /// When it last moved.
    pub updated_at: Timestamp,
}

impl From<&inbox_app::ExportStatus> for ExportOut {
    fn from(s: &inbox_app::ExportStatus) -> Self {
        ExportOut {
            id: s.job.id.clone(),
            status: s.job.status.as_str(),
            rows: s.job.done,
            url: s.url.clone(),
            error: s.job.error.clone(),
            created_at: s.job.created_at,
            updated_at: s.job.updated_at,
        }
    }
}

/// An AI agent in the member search: `{"id","name","kind":"ai"}`.
#[derive(Debug, Serialize)]
pub struct SearchAgentOut {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Always `ai`.
    pub kind: &'static str,
}

/// The member search: members as `items`, AI agents beside them.
#[derive(Debug, Serialize)]
pub struct MemberSearchOut {
    /// Matching members.
    pub items: Vec<MemberOut>,
    /// Where the next page of members starts, or null.
    pub next_cursor: Option<String>,
    /// Matching AI agents.
    pub agents: Vec<SearchAgentOut>,
}

/// A contact: `{"id","name","email","phone","blocked","has_lead"}`.
#[derive(Debug, Serialize)]
pub struct ContactOut {
    /// Id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Blocked.
    pub blocked: bool,
    /// An email or phone is known.
    pub has_lead: bool,
}

impl From<&Contact> for ContactOut {
    fn from(c: &Contact) -> Self {
        ContactOut {
            id: c.id.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            blocked: c.blocked,
            has_lead: c.has_lead(),
        }
    }
}

/// Deserializes a field that may be absent (outer `None`), null (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Deserializes a field that may be absent (`None`) but, when present, is a
/// value: `null` is refused (400), not taken for absent.
pub fn not_null<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// `PUT /members/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    /// Display name, required (blank allowed: such a member may read but not reply).
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Role, required: viewer, agent, admin or owner.
    #[serde(default)]
    pub role: Option<String>,
}

/// `POST /members/invite`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteIn {
    /// Email, required: where the invitation goes.
    #[serde(default)]
    pub email: Option<String>,
    /// Display name, required.
    #[serde(default)]
    pub name: Option<String>,
    /// Role, required: viewer, agent, admin or owner.
    #[serde(default)]
    pub role: Option<String>,
}

/// An invited member: the member, and `invited: true`.
#[derive(Debug, Serialize)]
pub struct InvitedOut {
    /// The member as listed.
    #[serde(flatten)]
    pub member: MemberOut,
    /// Always true: their sign-in was created and they were told.
    pub invited: bool,
}

/// `PUT /teams/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamIn {
    /// Display name, required.
    #[serde(default)]
    pub name: Option<String>,
    /// Members of the team.
    #[serde(default)]
    pub member_ids: Vec<String>,
}

/// `PUT /agents/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentIn {
    /// Display name, required.
    #[serde(default)]
    pub name: Option<String>,
    /// `external` (default), `webhook` or `llm`.
    #[serde(default, deserialize_with = "not_null")]
    pub kind: Option<String>,
    /// A webhook agent's settings.
    #[serde(default, deserialize_with = "not_null")]
    pub webhook: Option<AgentWebhookIn>,
    /// An LLM agent's settings.
    #[serde(default, deserialize_with = "not_null")]
    pub llm: Option<AgentLlmIn>,
}

/// `webhook` of `PUT /agents/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentWebhookIn {
    /// Required.
    #[serde(default, deserialize_with = "not_null")]
    pub url: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "not_null")]
    pub history_messages: Option<i64>,
}

/// `llm` of `PUT /agents/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentLlmIn {
    /// Required.
    #[serde(default, deserialize_with = "not_null")]
    pub base_url: Option<String>,
    /// Required.
    #[serde(default, deserialize_with = "not_null")]
    pub model: Option<String>,
    /// Required when making an LLM agent; absent keeps the stored key.
    #[serde(default, deserialize_with = "not_null")]
    pub api_key: Option<String>,
    /// The system message.
    #[serde(default, deserialize_with = "not_null")]
    pub instructions: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "not_null")]
    pub history_messages: Option<i64>,
    /// 1 to 60, default 20.
    #[serde(default, deserialize_with = "not_null")]
    pub timeout_seconds: Option<i64>,
}

impl AgentIn {
    /// The kind-specific part, as the domain reads it.
    pub fn input(&self) -> inbox_domain::agents::AgentInput {
        inbox_domain::agents::AgentInput {
            kind: self.kind.clone(),
            webhook_url: self.webhook.as_ref().map(|w| w.url.clone()),
            webhook_history: self.webhook.as_ref().and_then(|w| w.history_messages),
            llm: self.llm.as_ref().map(|l| inbox_domain::agents::LlmInput {
                base_url: l.base_url.clone(),
                model: l.model.clone(),
                api_key: l.api_key.clone(),
                instructions: l.instructions.clone(),
                history_messages: l.history_messages,
                timeout_seconds: l.timeout_seconds,
            }),
        }
    }
}

/// `POST /contacts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `PATCH /contacts/{id}`: absent keeps, null clears.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPatchIn {
    /// Name.
    #[serde(default, deserialize_with = "double_option")]
    pub name: Option<Option<String>>,
    /// Email.
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    /// Phone.
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
}

/// A body with just `{"body"}` (notes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyIn {
    /// The text.
    pub body: String,
}

/// `POST /conversations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationIn {
    /// The contact.
    pub contact_id: String,
    /// The channel, if any.
    #[serde(default)]
    pub channel_id: Option<String>,
}

/// `POST /conversations/{id}/assign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// The member to assign.
    pub member_id: String,
}

/// `POST /conversations/{id}/team`: `team_id` must be present, null clears.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamAssignIn {
    /// The team, or null.
    #[serde(default, deserialize_with = "double_option")]
    pub team_id: Option<Option<String>>,
}

/// `POST /conversations/{id}/agent`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentAssignIn {
    /// The AI agent.
    pub agent_id: String,
    /// Ask the AI to write first.
    #[serde(default)]
    pub send_initial_message: bool,
}

/// `POST /conversations/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    /// The new status.
    pub status: Status,
    /// A closing note, only when closing.
    #[serde(default)]
    pub closing_note: Option<ClosingNoteInput>,
}

/// `POST /conversations/{id}/snooze`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnoozeIn {
    /// RFC 3339 time to wake.
    pub until: String,
}

/// `POST /conversations/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// The text.
    pub body: String,
    /// For a member's reply to a closed conversation.
    #[serde(default)]
    pub on_closed: Option<OnClosed>,
    /// For integrations: broadcast or workflow.
    #[serde(default)]
    pub sender: Option<SenderKind>,
}

/// `POST /conversations/{id}/handoff`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffIn {
    /// Free-text reason.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /conversations/{id}/labels`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsIn {
    /// Labels to add.
    #[serde(default)]
    pub add: Vec<String>,
    /// Labels to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `POST /conversations/{id}/channel`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelIn {
    /// The channel to move to.
    pub channel_id: String,
}

/// `POST /conversations/{id}/summary`.
#[derive(Debug, Serialize)]
pub struct SummaryOut {
    /// The summary (null when there are no messages).
    pub summary: Option<String>,
    /// How many messages it covers (at most 100).
    pub message_count: usize,
    /// `llm` or `builtin`: who wrote it (absent when there is none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<inbox_domain::notes::Generator>,
}

/// The takeover response.
#[derive(Debug, Serialize)]
pub struct TakeoverOut<C> {
    /// The conversation.
    pub conversation: C,
    /// What the caller is told.
    pub notice: &'static str,
}

/// The message-post response.
#[derive(Debug, Serialize)]
pub struct MessagePostedOut<M, C> {
    /// The message.
    pub message: M,
    /// The conversation it landed in.
    pub conversation: C,
}

/// The notice a takeover answers with.
pub const TAKEOVER_NOTICE: &str = "You have taken over this conversation. AI will stop responding.";

/// `POST /api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyIn {
    /// Display name, required.
    #[serde(default)]
    pub name: Option<String>,
    /// `ai_agent` or `integration`, required.
    #[serde(default)]
    pub role: Option<String>,
    /// The AI agent's id or the integration's chosen id, required.
    #[serde(default)]
    pub subject: Option<String>,
}

/// An API key as listed: `{"id","name","role","subject","created_at","last_used_at"}`, never its secret or hash.
#[derive(Debug, Serialize)]
pub struct ApiKeyOut {
    /// `key_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `ai_agent` or `integration`.
    pub role: &'static str,
    /// Who it acts as.
    pub subject: String,
    /// When it was made.
    pub created_at: inbox_domain::Timestamp,
    /// The minute it was last used in, or null.
    pub last_used_at: Option<inbox_domain::Timestamp>,
}

impl From<&inbox_domain::ApiKey> for ApiKeyOut {
    fn from(k: &inbox_domain::ApiKey) -> Self {
        ApiKeyOut {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.as_str(),
            subject: k.subject.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A key just made: the listed fields and, this once, its `secret`.
#[derive(Debug, Serialize)]
pub struct ApiKeyCreatedOut {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKeyOut,
    /// `ibx_…`: shown only in this answer.
    pub secret: String,
}

/// `PUT /outgoing-webhooks/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointIn {
    /// Where events are POSTed, required.
    #[serde(default)]
    pub url: Option<String>,
    /// Event types and families, required.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Default true (absent, never null).
    #[serde(default, deserialize_with = "not_null")]
    pub enabled: Option<bool>,
}

/// An outgoing webhook endpoint; `secret` only when it was just made or rotated.
#[derive(Debug, Serialize)]
pub struct WebhookEndpointOut {
    /// Chosen by the admin.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// What it receives.
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// `failing` when the inbox turned it off, else null.
    pub disabled_reason: Option<inbox_domain::webhooks::DisabledReason>,
    /// Since when every delivery has failed, if so.
    pub failing_since: Option<inbox_domain::Timestamp>,
    /// When it was made.
    pub created_at: inbox_domain::Timestamp,
    /// When it last changed.
    pub updated_at: inbox_domain::Timestamp,
    /// `whsec_…`: shown only when made and when rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookEndpointOut {
    /// The endpoint as listed, its secret shown only `with_secret`.
    pub fn of(e: &inbox_domain::webhooks::WebhookEndpoint, with_secret: bool) -> Self {
        WebhookEndpointOut {
            id: e.id.clone(),
            url: e.url.clone(),
            events: e.events.iter().map(|f| f.as_str().to_string()).collect(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            created_at: e.created_at,
            updated_at: e.updated_at,
            secret: with_secret.then(|| e.secret.clone()),
        }
    }
}

/// One delivery of `GET /outgoing-webhooks/{id}/deliveries`.
#[derive(Debug, Serialize)]
pub struct WebhookDeliveryOut {
    /// The `webhook-id` every attempt carried.
    pub event_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// `succeeded` | `retrying` | `failed`.
    pub status: inbox_domain::webhooks::DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last answer, null when none came.
    pub last_response_status: Option<u16>,
    /// When the next attempt is due, while retrying.
    pub next_attempt_at: Option<inbox_domain::Timestamp>,
    /// When the event was committed.
    pub created_at: inbox_domain::Timestamp,
    /// When the delivery last changed.
    pub updated_at: inbox_domain::Timestamp,
}

impl From<&inbox_domain::webhooks::WebhookDelivery> for WebhookDeliveryOut {
    fn from(d: &inbox_domain::webhooks::WebhookDelivery) -> Self {
        WebhookDeliveryOut {
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            conversation_id: d.conversation_id.clone(),
            status: d.status,
            attempts: d.attempts,
            last_response_status: d.last_response_status,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// `{"items": […]}`: a list that is not paged (the latest, newest first).
#[derive(Debug, Serialize)]
pub struct Latest<T> {
    /// The items.
    pub items: Vec<T>,
}
