//! `handle`: routes a request, checks identity and role, and runs the
//! action's handler over the application layer ([`inbox_app::App`]).

use crate::auth::{Claims, Identity};
use crate::conventions::{IfMatch, Query, check_body_size, parse_if_match};
use crate::handlers;
use crate::problem::ApiError;
use crate::response::{ApiRequest, ApiResponse};
use crate::routes::{Access, Action, PathParams, RouteMiss};
use bytes::Bytes;
use http::HeaderMap;
use inbox_app::{Decision, Executed, Plan, Principal, Target, Token};
use inbox_domain::model::{Lookup, Member};
use inbox_domain::{AiAgent, Capability, Command, Role, authorize};
use inbox_store::{CommandContext, DirectoryEntry, LookupKey, Store};

pub use inbox_app::{App, IdFactory, RECENT_MESSAGES};

/// Serves one request: route (404/405), then for a token's action identity
/// (401), role (403), body size (413) and the action; a webhook goes to its
/// channel's verification instead. Every error is a problem response.
pub async fn handle<S: Store>(app: &App<S>, req: ApiRequest) -> ApiResponse {
    match Action::resolve(&req.method, &req.path) {
        Ok((action, params)) => handle_action(app, action, params, req).await,
        Err(RouteMiss::NotFound) => {
            ApiError::NotFound(format!("no route for {}", req.path)).to_response()
        }
        Err(RouteMiss::MethodNotAllowed(allowed)) => {
            ApiError::MethodNotAllowed(allowed).to_response()
        }
    }
}

/// Serves a request already routed to `action` (a Lambda function that
/// serves one action may call this directly).
pub async fn handle_action<S: Store>(
    app: &App<S>,
    action: Action,
    params: PathParams,
    req: ApiRequest,
) -> ApiResponse {
    let result = match action.access() {
        Access::Signature(kind) => {
            Ok(handlers::webhooks::serve(app, action, kind, &params, req).await)
        }
        Access::Token(cap) => run(app, action, cap, params, req).await,
    };
    result.unwrap_or_else(|e| e.to_response())
}

async fn run<S: Store>(
    app: &App<S>,
    action: Action,
    capability: Capability,
    params: PathParams,
    req: ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let Identity::Verified(claims) = req.identity else {
        return Err(ApiError::Unauthenticated);
    };
    let role = claims
        .parsed_role()
        .ok_or(inbox_domain::DomainError::Forbidden)?;
    let mut who = Who::new(claims, role);
    match RoleSource::of(action, capability, role) {
        RoleSource::Token => authorize(role, capability)?,
        RoleSource::Command => {}
        RoleSource::Directory => {
            let caller = app.directory_caller(who.ws(), &who.token).await?;
            authorize(caller.role, capability)?;
            who.token.role = caller.role;
        }
    }
    check_body_size(&req.body)?;
    let query = Query::parse(&req.query)?;
    query.only(action.query_parameters())?;
    let cx = Request {
        action,
        params,
        query,
        headers: req.headers,
        body: req.body,
        who,
    };
    handlers::dispatch(app, cx).await
}

/// Where a request's role comes from: the directory decides for a listed
/// member, so a member-role token's role is final only where every member
/// role passes anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleSource {
    /// The token's role: an AI agent or integration (never a member), or a
    /// read (which every member role may do).
    Token,
    /// The domain checks it when deciding: the command's one read carries the
    /// caller's directory entry, whose role it acts with.
    Command,
    /// The caller's directory entry, read before the handler runs.
    Directory,
}

impl RoleSource {
    fn of(action: Action, capability: Capability, token_role: Role) -> RoleSource {
        if !token_role.is_member_role() || capability == Capability::Read {
            RoleSource::Token
        } else if action.is_conversation_command() || action == Action::ConversationCreate {
            RoleSource::Command
        } else {
            RoleSource::Directory
        }
    }
}

/// A routed, authenticated request as handlers see it.
pub(crate) struct Request {
    /// The action.
    pub action: Action,
    /// Path parameters.
    pub params: PathParams,
    /// Decoded query parameters.
    pub query: Query,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw body (size already checked).
    pub body: Bytes,
    /// The caller.
    pub who: Who,
}

impl Request {
    /// The path's `{id}`.
    pub fn id(&self) -> &str {
        self.params.id()
    }

    /// The parsed `If-Match` precondition.
    pub fn if_match(&self) -> Result<IfMatch, ApiError> {
        parse_if_match(&self.headers)
    }

    /// The JSON body as `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        crate::conventions::parse_json(&self.headers, &self.body)
    }

    /// Checks that a body-less command got no body (or `{}`).
    pub fn no_body(&self) -> Result<(), ApiError> {
        crate::conventions::expect_no_body(&self.headers, &self.body)
    }
}

/// The verified caller: claims and parsed role.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    /// The token's claims.
    pub claims: Claims,
    /// The token as the application layer sees it (its role parsed).
    pub token: Token,
}

impl Who {
    fn new(claims: Claims, role: Role) -> Who {
        let token = Token {
            sub: claims.sub.clone(),
            role,
            name: claims.name.clone(),
        };
        Who { claims, token }
    }

    /// The caller's workspace.
    pub fn ws(&self) -> &str {
        &self.claims.workspace_id
    }

    /// The caller's id.
    pub fn sub(&self) -> &str {
        &self.claims.sub
    }

    /// The caller as the domain sees them, named by the token alone (reads need no directory read).
    pub fn token_caller(&self) -> inbox_domain::Caller {
        self.token.caller(None)
    }

    /// A plan for a command by this caller on `target`.
    pub fn plan(&self, target: Target) -> Plan {
        Plan::new(self.ws(), Principal::Token(self.token.clone()), target)
    }
}

/// Runs `build`'s command on conversation `conv_id` as `who`, through the
/// application layer (`build` runs again on every re-read).
pub(crate) async fn run_command<S, F>(
    app: &App<S>,
    who: &Who,
    conv_id: &str,
    if_match: IfMatch,
    lookups: Vec<LookupKey>,
    mut build: F,
) -> Result<Executed, ApiError>
where
    S: Store,
    F: FnMut(&CommandContext) -> Command + Send,
{
    let plan = who
        .plan(Target::Conversation(conv_id.to_string()))
        .with_if_match(if_match)
        .with_lookups(lookups);
    Ok(app
        .execute(plan, |loaded, _| {
            Ok(Decision::Command(build(loaded.context)))
        })
        .await?)
}

/// What a member id names, for commands that want a member.
pub(crate) fn as_member(cx: &CommandContext, id: &str) -> Lookup<Member> {
    match cx.people.get(id) {
        Some(DirectoryEntry::Member(m)) => Lookup::Found(m.clone()),
        Some(DirectoryEntry::Agent(a)) => Lookup::AiAgent(a.clone()),
        None => Lookup::Unknown(id.to_string()),
    }
}

/// What an agent id names, for commands that want an AI agent.
pub(crate) fn as_agent(cx: &CommandContext, id: &str) -> Lookup<AiAgent> {
    match cx.people.get(id) {
        Some(DirectoryEntry::Agent(a)) => Lookup::Found(a.clone()),
        Some(DirectoryEntry::Member(m)) => Lookup::Member(m.clone()),
        None => Lookup::Unknown(id.to_string()),
    }
}
