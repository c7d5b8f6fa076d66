//! Commands on one conversation: parse the body, name what to look up, let
//! the domain decide, commit, render.

use super::conversation_response;
use crate::app::{App, Request, as_agent, as_member, run_command};
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::routes::Action;
use crate::wire::{
    AgentAssignIn, AssignIn, BodyIn, ChannelIn, HandoffIn, LabelsIn, MessageIn, MessagePostedOut,
    SnoozeIn, StatusIn, TAKEOVER_NOTICE, TakeoverOut, TeamAssignIn,
};
use http::StatusCode;
use inbox_app::Target;
use inbox_domain::commands::validate_body;
use inbox_domain::model::Lookup;
use inbox_domain::{Command, Timestamp, render};
use inbox_store::{CommandContext, LookupKey, Store};

/// Builds the command from the context read (re-run on every retry).
type Build = Box<dyn FnMut(&CommandContext) -> Command + Send>;

/// A command to build from the context read, and the ids it needs looked up.
struct Plan {
    lookups: Vec<LookupKey>,
    build: Build,
}

impl Plan {
    fn fixed(cmd: Command) -> Plan {
        Plan {
            lookups: Vec::new(),
            build: Box::new(move |_| cmd.clone()),
        }
    }
}

fn plan(cx: &Request) -> Result<Plan, ApiError> {
    Ok(match cx.action {
        Action::ConversationAssign => {
            let id = cx.json::<AssignIn>()?.member_id;
            Plan {
                lookups: vec![LookupKey::Person(id.clone())],
                build: Box::new(move |c| Command::Assign {
                    target: as_member(c, &id),
                }),
            }
        }
        Action::ConversationTakeover => {
            cx.no_body()?;
            Plan::fixed(Command::Takeover)
        }
        Action::ConversationUnassign => {
            cx.no_body()?;
            Plan::fixed(Command::Unassign)
        }
        Action::ConversationTeam => match cx.json::<TeamAssignIn>()?.team_id {
            None => {
                return Err(ApiError::BadRequest(
                    "team_id is required (null clears the team)".into(),
                ));
            }
            Some(None) => Plan::fixed(Command::SetTeam { team: None }),
            Some(Some(id)) => Plan {
                lookups: vec![LookupKey::Team(id.clone())],
                build: Box::new(move |c| {
                    let team = match c.teams.get(&id) {
                        Some(t) => Lookup::Found(t.clone()),
                        None => Lookup::Unknown(id.clone()),
                    };
                    Command::SetTeam { team: Some(team) }
                }),
            },
        },
        Action::ConversationAgentAssign => {
            let body: AgentAssignIn = cx.json()?;
            let id = body.agent_id;
            let send_initial_message = body.send_initial_message;
            Plan {
                lookups: vec![LookupKey::Person(id.clone())],
                build: Box::new(move |c| Command::HandToAgent {
                    agent: as_agent(c, &id),
                    send_initial_message,
                }),
            }
        }
        Action::ConversationAgentUnassign => {
            cx.no_body()?;
            Plan::fixed(Command::UnassignAgent)
        }
        Action::ConversationAgentSessionEnd => {
            cx.no_body()?;
            Plan::fixed(Command::EndAgentSession)
        }
        Action::ConversationStatus => {
            let body: StatusIn = cx.json()?;
            Plan::fixed(Command::SetStatus {
                status: body.status,
                closing_note: body.closing_note,
                // Filled in by the command runner when the settings ask for it.
                recent_messages: Vec::new(),
            })
        }
        Action::ConversationSnooze => {
            let body: SnoozeIn = cx.json()?;
            let until = Timestamp::parse(&body.until)
                .map_err(|_| ApiError::BadRequest("until must be an RFC 3339 timestamp".into()))?;
            Plan::fixed(Command::Snooze { until })
        }
        Action::ConversationUnsnooze => {
            cx.no_body()?;
            Plan::fixed(Command::Unsnooze)
        }
        Action::ConversationMessagePost => {
            let body: MessageIn = cx.json()?;
            // A body that breaks its own rules is refused as such before the
            // conversation is read, so a stale If-Match never hides it.
            validate_body(&body.body)?;
            Plan::fixed(Command::PostMessage {
                body: body.body,
                on_closed: body.on_closed,
                sender: body.sender,
            })
        }
        Action::ConversationHandoff => {
            let body: HandoffIn = cx.json()?;
            Plan::fixed(Command::Handoff {
                reason: body.reason,
            })
        }
        Action::ConversationNoteCreate => {
            let body: BodyIn = cx.json()?;
            validate_body(&body.body)?;
            Plan::fixed(Command::AddNote { body: body.body })
        }
        Action::ConversationLabels => {
            let body: LabelsIn = cx.json()?;
            Plan::fixed(Command::Labels {
                add: body.add,
                remove: body.remove,
            })
        }
        Action::ConversationChannel => {
            let id = cx.json::<ChannelIn>()?.channel_id;
            Plan {
                lookups: vec![LookupKey::Channel(id.clone())],
                build: Box::new(move |c| {
                    let channel = match c.channels.get(&id) {
                        Some(ch) => Lookup::Found(ch.clone()),
                        None => Lookup::Unknown(id.clone()),
                    };
                    Command::TransferChannel { channel }
                }),
            }
        }
        other => {
            return Err(ApiError::NotFound(format!(
                "{} is not a conversation command",
                other.function_name()
            )));
        }
    })
}

/// Runs the command route in `cx`.
pub(crate) async fn run<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let if_match = cx.if_match()?;
    let Plan { lookups, build } = plan(&cx)?;
    let done = run_command(app, &cx.who, cx.id(), if_match, lookups, build).await?;
    let caller = done
        .caller()
        .cloned()
        .unwrap_or_else(|| cx.who.token_caller());
    let conv = &done.outcome.conversation;
    Ok(match cx.action {
        Action::ConversationTakeover => ApiResponse::json(
            StatusCode::OK,
            &TakeoverOut {
                conversation: render(conv, &caller, app.clock().now()),
                notice: TAKEOVER_NOTICE,
            },
        )
        .with_etag(conv.version),
        Action::ConversationMessagePost => {
            let body = MessagePostedOut {
                message: &done.outcome.message,
                conversation: render(conv, &caller, app.clock().now()),
            };
            ApiResponse::json(StatusCode::CREATED, &body).with_etag(conv.version)
        }
        _ => conversation_response(StatusCode::OK, conv, &caller, app.clock().now()),
    })
}

/// `POST /conversations/{id}/messages/{message_id}/retry`: 202 with the
/// message queued again and the conversation.
pub(crate) async fn retry_delivery<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    cx.no_body()?;
    let plan = cx
        .who
        .plan(Target::Conversation(cx.id().to_string()))
        .with_if_match(cx.if_match()?);
    let message_id = cx.params.get("message_id").unwrap_or_default();
    let (done, message) = app.retry_delivery(plan, message_id).await?;
    let caller = done
        .caller()
        .cloned()
        .unwrap_or_else(|| cx.who.token_caller());
    let conv = &done.outcome.conversation;
    let body = MessagePostedOut {
        message: &message,
        conversation: render(conv, &caller, app.clock().now()),
    };
    Ok(ApiResponse::json(StatusCode::ACCEPTED, &body).with_etag(conv.version))
}
