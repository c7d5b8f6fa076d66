//! The route table: one `Action` per route of the contract, each with its
//! method, path template, Lambda function name and who may call it. Every
//! HTTP entry point dispatches from it (the Lambda functions and the dev
//! server alike), channel configuration and webhooks included, and a known
//! path with another method is 405 with an `Allow` made from it.

use http::Method;
use inbox_domain::{Capability, ChannelKind};

/// Who may call an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A verified token whose role has this capability (401, then 403).
    Token(Capability),
    /// A channel provider: the delivery is verified by the channel's own
    /// signature scheme, never by a token.
    Signature(ChannelKind),
}

macro_rules! access {
    (Signature $kind:ident) => {
        Access::Signature(ChannelKind::$kind)
    };
    ($cap:ident) => {
        Access::Token(Capability::$cap)
    };
}

/// The values captured by a path template's `{name}` segments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    /// The value captured for `name`, if the template has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `{id}` segment (every parameterised route has exactly this one).
    pub fn id(&self) -> &str {
        self.get("id").unwrap_or_default()
    }

    /// Every captured pair, in template order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// Why no action serves a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMiss {
    /// No template matches the path: 404 `not_found`.
    NotFound,
    /// The path is known but not with this method: 405 with these methods in `Allow`.
    MethodNotAllowed(Vec<Method>),
}

macro_rules! actions {
    ($( $(#[$doc:meta])* $variant:ident => $method:ident $path:literal $function:literal $($access:ident)+ ; )*) => {
        /// One route of the contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $( $(#[$doc])* $variant, )*
        }

        impl Action {
            /// Every action, in table order.
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )* ];

            /// The HTTP method.
            pub fn method(self) -> Method {
                match self { $( Action::$variant => Method::$method, )* }
            }

            /// The path template, with `{id}` for the one path parameter.
            pub fn path(self) -> &'static str {
                match self { $( Action::$variant => $path, )* }
            }

            /// The Lambda function that serves it: kebab-case, named after the
            /// action (WhatsApp's handshake and deliveries share one).
            pub fn function_name(self) -> &'static str {
                match self { $( Action::$variant => $function, )* }
            }

            /// Who may call it.
            pub fn access(self) -> Access {
                match self { $( Action::$variant => access!($($access)+), )* }
            }
        }
    };
}

actions! {
    /// `POST /members/invite`: invite a member by email (their sign-in is created).
    MemberInvite => POST "/members/invite" "member-invite" ManageWorkspace;
    /// `PUT /members/{id}`: create or replace a member.
    MemberPut => PUT "/members/{id}" "member-put" ManageWorkspace;
    /// `GET /members`: the "Search members…" list (members and AI agents).
    MembersList => GET "/members" "members-list" Read;
    /// `DELETE /members/{id}`: remove a member and unassign their conversations.
    MemberDelete => DELETE "/members/{id}" "member-delete" ManageWorkspace;
    /// `PUT /teams/{id}`: create or replace a team.
    TeamPut => PUT "/teams/{id}" "team-put" ManageWorkspace;
    /// `GET /teams`: every team.
    TeamsList => GET "/teams" "teams-list" Read;
    /// `DELETE /teams/{id}`: remove a team and clear it from its conversations.
    TeamDelete => DELETE "/teams/{id}" "team-delete" ManageWorkspace;
    /// `PUT /agents/{id}`: create or replace an AI agent.
    AgentPut => PUT "/agents/{id}" "agent-put" ManageWorkspace;
    /// `GET /agents`: every AI agent.
    AgentsList => GET "/agents" "agents-list" Read;
    /// `POST /agents/{id}/rotate-secret`: a new signing secret for a webhook agent.
    AgentRotateSecret => POST "/agents/{id}/rotate-secret" "agent-rotate-secret" ManageWorkspace;
    /// `DELETE /agents/{id}`: remove an AI agent.
    AgentDelete => DELETE "/agents/{id}" "agent-delete" ManageWorkspace;
    /// `POST /api-keys`: a credential for an AI agent or an integration (its secret shown once).
    ApiKeyCreate => POST "/api-keys" "api-key-create" ManageWorkspace;
    /// `GET /api-keys`: the workspace's keys, without secrets.
    ApiKeysList => GET "/api-keys" "api-keys-list" ManageWorkspace;
    /// `DELETE /api-keys/{id}`: revoke a key.
    ApiKeyRevoke => DELETE "/api-keys/{id}" "api-key-revoke" ManageWorkspace;
    /// `PUT /outgoing-webhooks/{id}`: create or change an endpoint (its secret shown when made).
    OutgoingWebhookPut => PUT "/outgoing-webhooks/{id}" "outgoing-webhook-put" ManageWorkspace;
    /// `GET /outgoing-webhooks`: the workspace's endpoints, without secrets.
    OutgoingWebhooksList => GET "/outgoing-webhooks" "outgoing-webhooks-list" ManageWorkspace;
    /// `DELETE /outgoing-webhooks/{id}`: remove an endpoint.
    OutgoingWebhookDelete => DELETE "/outgoing-webhooks/{id}" "outgoing-webhook-delete" ManageWorkspace;
    /// `POST /outgoing-webhooks/{id}/rotate-secret`: a new signing secret.
    OutgoingWebhookRotateSecret => POST "/outgoing-webhooks/{id}/rotate-secret" "outgoing-webhook-rotate-secret" ManageWorkspace;
    /// `GET /outgoing-webhooks/{id}/deliveries`: the endpoint's latest deliveries.
    OutgoingWebhookDeliveries => GET "/outgoing-webhooks/{id}/deliveries" "outgoing-webhook-deliveries" ManageWorkspace;
    /// `GET /jobs/{id}`: the progress of work that continues after a request.
    JobGet => GET "/jobs/{id}" "job-get" Read;
    /// `GET /settings`: the workspace's settings document.
    SettingsGet => GET "/settings" "settings-get" Read;
    /// `PUT /settings`: replace the settings document.
    SettingsPut => PUT "/settings" "settings-put" ManageWorkspace;
    /// `POST /contacts`: create a contact.
    ContactCreate => POST "/contacts" "contact-create" CreateContactsAndConversations;
    /// `GET /contacts/{id}`: one contact.
    ContactGet => GET "/contacts/{id}" "contact-get" Read;
    /// `PATCH /contacts/{id}`: change name, email or phone.
    ContactPatch => PATCH "/contacts/{id}" "contact-patch" ChatEdit;
    /// `POST /contacts/{id}/block`: block the contact.
    ContactBlock => POST "/contacts/{id}/block" "contact-block" ChatEdit;
    /// `POST /contacts/{id}/unblock`: unblock the contact.
    ContactUnblock => POST "/contacts/{id}/unblock" "contact-unblock" ChatEdit;
    /// `POST /contacts/{id}/notes`: an internal note on the contact.
    ContactNoteCreate => POST "/contacts/{id}/notes" "contact-note-create" ChatEdit;
    /// `GET /contacts/{id}/notes`: the contact's notes, oldest first.
    ContactNotesList => GET "/contacts/{id}/notes" "contact-notes-list" Read;
    /// `POST /conversations`: start a conversation with a contact.
    ConversationCreate => POST "/conversations" "conversation-create" CreateContactsAndConversations;
    /// `GET /conversations`: a view with filters, newest activity first.
    ConversationsList => GET "/conversations" "conversations-list" Read;
    /// `GET /conversations/export.csv`: the same list as CSV, every page.
    ConversationsExport => GET "/conversations/export.csv" "conversations-export" ChatEdit;
    /// `POST /conversations/exports`: export a view of any size to a file, as a job.
    ConversationExportStart => POST "/conversations/exports" "conversation-export-start" ChatEdit;
    /// `GET /conversations/exports/{id}`: an export job and, once done, its file's link.
    ConversationExportGet => GET "/conversations/exports/{id}" "conversation-export-get" ChatEdit;
    /// `GET /conversations/{id}`: one conversation.
    ConversationGet => GET "/conversations/{id}" "conversation-get" Read;
    /// `GET /conversations/{id}/transcript`: the messages as plain text.
    ConversationTranscript => GET "/conversations/{id}/transcript" "conversation-transcript" Read;
    /// `GET /conversations/{id}/messages`: messages, oldest first.
    ConversationMessagesList => GET "/conversations/{id}/messages" "conversation-messages-list" Read;
    /// `GET /conversations/{id}/timeline`: timeline events in commit order.
    ConversationTimeline => GET "/conversations/{id}/timeline" "conversation-timeline" Read;
    /// `POST /conversations/{id}/assign`: assign a member.
    ConversationAssign => POST "/conversations/{id}/assign" "conversation-assign" ChatEdit;
    /// `POST /conversations/{id}/takeover`: move the assignment to the caller.
    ConversationTakeover => POST "/conversations/{id}/takeover" "conversation-takeover" ChatEdit;
    /// `POST /conversations/{id}/unassign`: clear the assignee.
    ConversationUnassign => POST "/conversations/{id}/unassign" "conversation-unassign" ChatEdit;
    /// `POST /conversations/{id}/team`: set or clear the team.
    ConversationTeam => POST "/conversations/{id}/team" "conversation-team" ChatEdit;
    /// `POST /conversations/{id}/agent`: hand the conversation to an AI agent.
    ConversationAgentAssign => POST "/conversations/{id}/agent" "conversation-agent-assign" ChatEdit;
    /// `DELETE /conversations/{id}/agent`: remove the AI agent.
    ConversationAgentUnassign => DELETE "/conversations/{id}/agent" "conversation-agent-unassign" ChatEdit;
    /// `POST /conversations/{id}/agent-session/end`: end the active AI session.
    ConversationAgentSessionEnd => POST "/conversations/{id}/agent-session/end" "conversation-agent-session-end" ChatEdit;
    /// `POST /conversations/{id}/status`: open, close (with a closing note) or unset.
    ConversationStatus => POST "/conversations/{id}/status" "conversation-status" ChatEdit;
    /// `POST /conversations/{id}/closing-note/draft`: what auto-generation would write now.
    ConversationClosingNoteDraft => POST "/conversations/{id}/closing-note/draft" "conversation-closing-note-draft" ChatEdit;
    /// `POST /conversations/{id}/summary`: a summary of the latest messages.
    ConversationSummary => POST "/conversations/{id}/summary" "conversation-summary" ChatEdit;
    /// `POST /conversations/{id}/snooze`: snooze until a future time.
    ConversationSnooze => POST "/conversations/{id}/snooze" "conversation-snooze" ChatEdit;
    /// `POST /conversations/{id}/unsnooze`: clear the snooze.
    ConversationUnsnooze => POST "/conversations/{id}/unsnooze" "conversation-unsnooze" ChatEdit;
    /// `POST /conversations/{id}/messages`: a human reply, AI reply or integration message.
    ConversationMessagePost => POST "/conversations/{id}/messages" "conversation-message-post" PostMessage;
    /// `POST /conversations/{id}/messages/{message_id}/retry`: queue a failed message again.
    ConversationMessageRetry => POST "/conversations/{id}/messages/{message_id}/retry" "conversation-message-retry" ChatEdit;
    /// `POST /conversations/{id}/handoff`: ask for a human.
    ConversationHandoff => POST "/conversations/{id}/handoff" "conversation-handoff" RequestHandoff;
    /// `POST /conversations/{id}/notes`: an internal note on the timeline.
    ConversationNoteCreate => POST "/conversations/{id}/notes" "conversation-note-create" ChatEdit;
    /// `POST /conversations/{id}/read`: mark read for the caller.
    ConversationRead => POST "/conversations/{id}/read" "conversation-read" ChatEdit;
    /// `POST /conversations/{id}/unread`: mark unread for the caller.
    ConversationUnread => POST "/conversations/{id}/unread" "conversation-unread" ChatEdit;
    /// `POST /conversations/{id}/favorite`: favorite for the caller.
    ConversationFavorite => POST "/conversations/{id}/favorite" "conversation-favorite" ChatEdit;
    /// `DELETE /conversations/{id}/favorite`: remove the caller's favorite.
    ConversationUnfavorite => DELETE "/conversations/{id}/favorite" "conversation-unfavorite" ChatEdit;
    /// `POST /conversations/{id}/labels`: add and remove labels.
    ConversationLabels => POST "/conversations/{id}/labels" "conversation-labels" ChatEdit;
    /// `POST /conversations/{id}/channel`: move to another channel.
    ConversationChannel => POST "/conversations/{id}/channel" "conversation-channel" ChatEdit;
    /// `PUT /channels/{id}`: create or replace a channel (its secret is never returned).
    ChannelPut => PUT "/channels/{id}" "channel-put" ManageWorkspace;
    /// `GET /channels`: every channel, without secrets.
    ChannelsList => GET "/channels" "channels-list" Read;
    /// `GET /reports/conversations`: closed conversations by closing source, category, assignee, channel or day, with first response and resolution times.
    ReportConversations => GET "/reports/conversations" "report-conversations" Read;
    /// `GET /reports/conversations.csv`: the same report's rows as CSV.
    ReportConversationsCsv => GET "/reports/conversations.csv" "report-conversations-csv" Read;
    /// `POST /webhooks/twilio/{workspace_id}/{channel_id}`: Twilio SMS, MMS and WhatsApp deliveries and statuses.
    WebhookTwilio => POST "/webhooks/twilio/{workspace_id}/{channel_id}" "webhook-twilio" Signature Twilio;
    /// `GET /webhooks/whatsapp/{workspace_id}/{channel_id}`: WhatsApp Cloud's subscription handshake.
    WebhookWhatsappHandshake => GET "/webhooks/whatsapp/{workspace_id}/{channel_id}" "webhook-whatsapp" Signature Whatsapp;
    /// `POST /webhooks/whatsapp/{workspace_id}/{channel_id}`: WhatsApp Cloud messages and statuses.
    WebhookWhatsapp => POST "/webhooks/whatsapp/{workspace_id}/{channel_id}" "webhook-whatsapp" Signature Whatsapp;
    /// `POST /webhooks/telegram/{workspace_id}/{channel_id}`: Telegram bot updates.
    WebhookTelegram => POST "/webhooks/telegram/{workspace_id}/{channel_id}" "webhook-telegram" Signature Telegram;
    /// `POST /webhooks/generic/{workspace_id}/{channel_id}`: the generic signed channel.
    WebhookGeneric => POST "/webhooks/generic/{workspace_id}/{channel_id}" "webhook-generic" Signature Generic;
}

/// How a template matched a path: the captures and how many segments were literal.
fn match_template(template: &'static str, path: &str) -> Option<(PathParams, usize)> {
    let mut t = template.split('/');
    let mut p = path.split('/');
    let mut params = Vec::new();
    let mut literal = 0;
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some((PathParams(params), literal)),
            (Some(ts), Some(ps)) => {
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    params.push((name, ps.to_string()));
                } else if ts == ps {
                    literal += 1;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

impl Action {
    /// The action for `method` and `path`, with its path parameters.
    pub fn route(method: &Method, path: &str) -> Option<(Action, PathParams)> {
        Action::resolve(method, path).ok()
    }

    /// Like [`Action::route`], but says whether the path is unknown (404) or
    /// known with other methods (405). A template with more literal segments
    /// wins over one with parameters, so `/conversations/export.csv` is never
    /// taken for `/conversations/{id}`.
    pub fn resolve(method: &Method, path: &str) -> Result<(Action, PathParams), RouteMiss> {
        let mut best: Vec<(Action, PathParams)> = Vec::new();
        let mut best_literal = 0;
        for &action in Action::ALL {
            if let Some((params, literal)) = match_template(action.path(), path) {
                if best.is_empty() || literal > best_literal {
                    best.clear();
                    best_literal = literal;
                } else if literal < best_literal {
                    continue;
                }
                best.push((action, params));
            }
        }
        if best.is_empty() {
            return Err(RouteMiss::NotFound);
        }
        let mut allowed: Vec<Method> = best.iter().map(|(a, _)| a.method()).collect();
        match best.into_iter().find(|(a, _)| a.method() == *method) {
            Some(found) => Ok(found),
            None => {
                allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                allowed.dedup();
                Err(RouteMiss::MethodNotAllowed(allowed))
            }
        }
    }

    /// The actions the Lambda function of this name serves, in table order.
    pub fn served_by(function_name: &str) -> Vec<Action> {
        Action::ALL
            .iter()
            .copied()
            .filter(|a| a.function_name() == function_name)
            .collect()
    }

    /// Every HTTP function's name, once each, in table order.
    pub fn function_names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for a in Action::ALL {
            if !names.contains(&a.function_name()) {
                names.push(a.function_name());
            }
        }
        names
    }

    /// The action's own name, kebab-case (`conversation-takeover`): its
    /// OpenAPI `operationId`, and its function's name unless a function serves several.
    pub fn operation_id(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The capability a token must have, or `None` for a signed webhook.
    pub fn capability(self) -> Option<Capability> {
        match self.access() {
            Access::Token(cap) => Some(cap),
            Access::Signature(_) => None,
        }
    }

    /// The query parameters the action takes; any other, any given twice
    /// and any empty value is 400 (`Query::only`).
    pub fn query_parameters(self) -> &'static [&'static str] {
        use Action::*;
        match self {
            MembersList => &["q", "limit", "cursor"],
            OutgoingWebhookDeliveries => &["limit"],
            TeamsList
            | AgentsList
            | ApiKeysList
            | ContactNotesList
            | ConversationMessagesList
            | ConversationTimeline => &["limit", "cursor"],
            ConversationsList => &CONVERSATION_LIST,
            // Every page, always: no paging parameters.
            ConversationsExport => export_fields(),
            ReportConversations | ReportConversationsCsv => &["from", "to", "group_by"],
            WebhookWhatsappHandshake => &["hub.mode", "hub.verify_token", "hub.challenge"],
            _ => &[],
        }
    }

    /// Whether the action changes state (GETs never do).
    pub fn is_write(self) -> bool {
        self.method() != Method::GET
    }

    /// Whether the action acts on one conversation named by `{id}` (and so honours `If-Match`).
    pub fn is_conversation_command(self) -> bool {
        self.is_write()
            && self.path().starts_with("/conversations/{id}/")
            && !matches!(
                self,
                Action::ConversationClosingNoteDraft | Action::ConversationSummary
            )
    }
}

/// The query of `GET /conversations`: the view, the filters (the export's
/// whole query), then paging.
static CONVERSATION_LIST: [&str; 9] = [
    "view",
    "team",
    "label",
    "channel_id",
    "agent_type",
    "responded_by",
    "status",
    "limit",
    "cursor",
];

/// The view and filters of an export: the list's parameters without paging
/// (`GET /conversations/export.csv`'s query, `POST /conversations/exports`' body).
pub fn export_fields() -> &'static [&'static str] {
    &CONVERSATION_LIST[..CONVERSATION_LIST.len() - 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn concrete(template: &str) -> String {
        template.replace("{id}", "x1")
    }

    #[test]
    fn every_route_resolves_to_itself() {
        for &a in Action::ALL {
            let path = concrete(a.path());
            let (found, params) =
                Action::route(&a.method(), &path).unwrap_or_else(|| panic!("{a:?} did not route"));
            assert_eq!(found, a, "{path}");
            if a.path().contains("{id}") {
                assert_eq!(params.id(), "x1");
            }
        }
    }

    #[test]
    fn table_has_unique_routes_and_function_names() {
        let routes: HashSet<_> = Action::ALL.iter().map(|a| (a.method(), a.path())).collect();
        assert_eq!(routes.len(), Action::ALL.len());
        for &a in Action::ALL {
            let n = a.function_name();
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') && n.len() <= 64,
                "{n}"
            );
            let served = Action::served_by(n);
            assert!(served.contains(&a));
            // Only WhatsApp's handshake shares a function, with its deliveries.
            if served.len() > 1 {
                assert_eq!(
                    served,
                    vec![Action::WebhookWhatsappHandshake, Action::WebhookWhatsapp]
                );
            }
            // Webhooks, and only webhooks, go without a token.
            assert_eq!(
                a.path().starts_with("/webhooks/"),
                matches!(a.access(), Access::Signature(_)),
                "{a:?}"
            );
        }
        assert_eq!(Action::function_names().len(), Action::ALL.len() - 1);
    }

    #[test]
    fn export_csv_is_not_a_conversation_id() {
        let (a, _) = Action::route(&Method::GET, "/conversations/export.csv").unwrap();
        assert_eq!(a, Action::ConversationsExport);
        let (a, p) = Action::route(&Method::GET, "/conversations/conv_01").unwrap();
        assert_eq!((a, p.id()), (Action::ConversationGet, "conv_01"));
        assert_eq!(
            Action::resolve(&Method::DELETE, "/conversations/export.csv"),
            Err(RouteMiss::MethodNotAllowed(vec![Method::GET]))
        );
    }

    #[test]
    fn known_path_with_wrong_method_lists_allowed_methods() {
        assert_eq!(
            Action::resolve(&Method::GET, "/members/bob"),
            Err(RouteMiss::MethodNotAllowed(vec![
                Method::DELETE,
                Method::PUT
            ]))
        );
        assert_eq!(
            Action::resolve(&Method::PUT, "/conversations/c1/favorite"),
            Err(RouteMiss::MethodNotAllowed(vec![
                Method::DELETE,
                Method::POST
            ]))
        );
        assert_eq!(
            Action::resolve(&Method::DELETE, "/conversations"),
            Err(RouteMiss::MethodNotAllowed(vec![Method::GET, Method::POST]))
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for p in [
            "/",
            "",
            "/nope",
            "/conversations/",
            "/conversations//assign",
            "/conversations/c1/assign/extra",
            "/members/bob/",
            "/channels/",
            "/webhooks/sms/ws/ch",
            "/webhooks/twilio/ws",
            "/webhooks/twilio/ws/ch/x",
        ] {
            assert_eq!(
                Action::resolve(&Method::GET, p),
                Err(RouteMiss::NotFound),
                "{p}"
            );
            assert_eq!(
                Action::resolve(&Method::POST, p),
                Err(RouteMiss::NotFound),
                "{p}"
            );
        }
    }

    #[test]
    fn channel_and_webhook_routes_are_in_the_table() {
        let (a, p) = Action::route(&Method::POST, "/webhooks/twilio/acme/sms-main").unwrap();
        assert_eq!(a, Action::WebhookTwilio);
        assert_eq!(
            (p.get("workspace_id"), p.get("channel_id")),
            (Some("acme"), Some("sms-main"))
        );
        assert_eq!(
            Action::resolve(&Method::GET, "/webhooks/twilio/acme/sms-main"),
            Err(RouteMiss::MethodNotAllowed(vec![Method::POST]))
        );
        assert_eq!(
            Action::resolve(&Method::DELETE, "/webhooks/whatsapp/acme/wa"),
            Err(RouteMiss::MethodNotAllowed(vec![Method::GET, Method::POST]))
        );
        assert_eq!(
            Action::resolve(&Method::POST, "/channels"),
            Err(RouteMiss::MethodNotAllowed(vec![Method::GET]))
        );
        assert_eq!(
            Action::resolve(&Method::GET, "/channels/sms"),
            Err(RouteMiss::MethodNotAllowed(vec![Method::PUT]))
        );
    }

    #[test]
    fn command_classification() {
        assert!(Action::ConversationTakeover.is_conversation_command());
        assert!(Action::ConversationRead.is_conversation_command());
        assert!(!Action::ConversationSummary.is_conversation_command());
        assert!(!Action::ConversationGet.is_conversation_command());
        assert!(!Action::ConversationCreate.is_conversation_command());
        assert!(!Action::ConversationGet.is_write());
    }
}
