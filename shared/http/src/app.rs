//! The application: dependencies built once, and `handle`, which routes a
//! request, checks identity and role, and runs the action's handler.

use crate::auth::{Claims, Identity};
use crate::conventions::{IfMatch, Query, check_body_size, parse_if_match};
use crate::handlers;
use crate::problem::ApiError;
use crate::response::{ApiRequest, ApiResponse};
use crate::routes::{Action, PathParams, RouteMiss};
use bytes::Bytes;
use http::HeaderMap;
use inbox_domain::ids::IdGen;
use inbox_domain::model::{Lookup, Member};
use inbox_domain::{
    Actor, AiAgent, Caller, Command, Ctx, ExtractiveNotes, NoteGenerator, Outcome, Role, authorize,
    decide, directory,
};
use inbox_store::{
    Clock, CommandContext, Commit, DirectoryEntry, LookupKey, Store, StoreError, SystemClock,
    UlidIds,
};
use std::sync::Arc;

/// How many times a command is re-read and re-decided after losing a race.
pub const MAX_ATTEMPTS: usize = 10;
/// How many of the latest messages feed summaries and generated notes.
pub const RECENT_MESSAGES: usize = inbox_domain::notes::SUMMARY_WINDOW;

/// Makes a fresh id generator for one request.
pub type IdFactory = Arc<dyn Fn() -> Box<dyn IdGen> + Send + Sync>;

/// Everything the handlers need, built once per process (or Lambda cold start).
pub struct App<S> {
    store: S,
    clock: Arc<dyn Clock>,
    ids: IdFactory,
    notes: Arc<dyn NoteGenerator>,
}

impl<S: Store> App<S> {
    /// The production wiring: system clock, ULID ids, extractive notes.
    pub fn new(store: S) -> Self {
        let ulids = UlidIds::default();
        App {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(move || Box::new(ulids.clone()) as Box<dyn IdGen>),
            notes: Arc::new(ExtractiveNotes),
        }
    }

    /// Replaces the clock (tests use a manual one).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the id generator factory.
    pub fn with_ids(mut self, ids: impl Fn() -> Box<dyn IdGen> + Send + Sync + 'static) -> Self {
        self.ids = Arc::new(ids);
        self
    }

    /// Replaces the closing-note and summary generator.
    pub fn with_notes(mut self, notes: impl NoteGenerator + 'static) -> Self {
        self.notes = Arc::new(notes);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The note generator.
    pub fn notes(&self) -> &dyn NoteGenerator {
        self.notes.as_ref()
    }

    /// A fresh id generator.
    pub fn new_ids(&self) -> Box<dyn IdGen> {
        (self.ids)()
    }
}

/// Serves one request: route (404/405), identity (401), role (403), body
/// size (413), then the action. Every error is a problem response.
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
    match run(app, action, params, req).await {
        Ok(resp) => resp,
        Err(e) => e.to_response(),
    }
}

async fn run<S: Store>(
    app: &App<S>,
    action: Action,
    params: PathParams,
    req: ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let Identity::Verified(claims) = req.identity else {
        return Err(ApiError::Unauthenticated);
    };
    let role = claims
        .parsed_role()
        .ok_or(inbox_domain::DomainError::Forbidden)?;
    authorize(role, action.capability())?;
    check_body_size(&req.body)?;
    let cx = Request {
        action,
        params,
        query: Query::parse(&req.query)?,
        headers: req.headers,
        body: req.body,
        who: Who { claims, role },
    };
    handlers::dispatch(app, cx).await
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
    /// The token's role.
    pub role: Role,
}

impl Who {
    /// The caller's workspace.
    pub fn ws(&self) -> &str {
        &self.claims.workspace_id
    }

    /// The caller's id.
    pub fn sub(&self) -> &str {
        &self.claims.sub
    }

    /// The caller as the domain sees it: the directory's name when the caller
    /// is in it (even a blank one, which keeps `profile_incomplete`
    /// meaningful), else the token's `name`.
    pub fn caller(&self, entry: Option<&DirectoryEntry>) -> Caller {
        let name = match entry {
            Some(DirectoryEntry::Member(m)) if self.role.is_member_role() => Some(m.name.as_str()),
            Some(DirectoryEntry::Agent(a)) if self.role == Role::AiAgent => Some(a.name.as_str()),
            _ => self.claims.name.as_deref(),
        };
        Caller::new(self.sub(), self.role, name)
    }

    /// The member to provision just in time, if the caller is a member-role
    /// token not yet in the directory (never over an AI agent's id).
    pub fn provision(&self, entry: Option<&DirectoryEntry>) -> Option<Member> {
        match entry {
            Some(_) => None,
            None => directory::provision(&self.caller(None), None),
        }
    }

    /// Whether provisioning can apply to this caller at all.
    pub fn may_need_provisioning(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Admin | Role::Owner)
    }
}

/// A decided and committed command.
pub(crate) struct Committed {
    /// The decision (its conversation is what to answer with).
    pub outcome: Outcome,
    /// The caller as decided with (directory name applied).
    pub caller: Caller,
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

impl<S: Store> App<S> {
    /// Runs a command on conversation `conv_id`: one read of the conversation,
    /// settings, the named lookups and the caller's own directory entry;
    /// `If-Match` checked; the latest messages loaded when the command needs
    /// them; decided; committed with any just-in-time provisioning. A lost race
    /// is re-read and re-decided (a changed version then fails `If-Match`).
    pub(crate) async fn run_command<F>(
        &self,
        who: &Who,
        conv_id: &str,
        if_match: &IfMatch,
        lookups: &[LookupKey],
        mut build: F,
    ) -> Result<Committed, ApiError>
    where
        F: FnMut(&CommandContext) -> Result<Command, ApiError> + Send,
    {
        let mut keys = lookups.to_vec();
        keys.push(LookupKey::Person(who.sub().to_string()));
        for _ in 0..MAX_ATTEMPTS {
            let cx = self
                .store
                .load_context(who.ws(), Some(conv_id), &keys)
                .await?;
            let conv = cx
                .conversation
                .as_ref()
                .ok_or_else(|| ApiError::not_found("conversation"))?;
            if !if_match.matches(conv.version) {
                return Err(ApiError::PreconditionFailed);
            }
            let entry = cx.people.get(who.sub());
            let caller = who.caller(entry);
            let provision = who.provision(entry);
            let mut cmd = build(&cx)?;
            if cmd.wants_recent_messages(&cx.settings) {
                let recent = self
                    .store
                    .latest_messages(who.ws(), conv_id, RECENT_MESSAGES)
                    .await?;
                if let Command::SetStatus {
                    recent_messages, ..
                }
                | Command::FireAutoClose {
                    recent_messages, ..
                } = &mut cmd
                {
                    *recent_messages = recent;
                }
            }
            let outcome = self.decide_now(conv, cmd, &caller, &cx)?;
            if outcome.writes.is_empty() && provision.is_none() {
                return Ok(Committed { outcome, caller });
            }
            let commit = Commit {
                writes: outcome.writes.clone(),
                dedupe: None,
                provision,
            };
            match self.commit_in(who.ws(), commit).await {
                Ok(()) => return Ok(Committed { outcome, caller }),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Contended)
    }

    /// Commits `commit` in workspace `ws`. A commit that only provisions a
    /// member carries no conversation to name the workspace, so it goes to
    /// `provision_member`; the id being taken meanwhile is then no conflict.
    pub(crate) async fn commit_in(&self, ws: &str, commit: Commit) -> Result<(), StoreError> {
        if commit.writes.is_empty() && commit.dedupe.is_none() {
            return match commit.provision {
                Some(member) => match self.store.provision_member(ws, &member).await {
                    Ok(()) | Err(StoreError::Conflict) => Ok(()),
                    Err(e) => Err(e),
                },
                None => Ok(()),
            };
        }
        self.store.commit(commit).await
    }

    /// Decides `cmd` on `conv` now, as `caller`.
    pub(crate) fn decide_now(
        &self,
        conv: &inbox_domain::Conversation,
        cmd: Command,
        caller: &Caller,
        cx: &CommandContext,
    ) -> Result<Outcome, ApiError> {
        let actor = Actor::Caller(caller.clone());
        let mut ids = self.new_ids();
        let mut ctx = Ctx {
            now: self.clock.now(),
            actor: &actor,
            settings: &cx.settings,
            ids: ids.as_mut(),
            notes: self.notes.as_ref(),
        };
        Ok(decide(conv, cmd, &mut ctx)?)
    }

    /// Adds the caller to the directory if this is a member-role token's first
    /// write; a concurrent provisioning of the same id is fine.
    pub(crate) async fn ensure_provisioned(&self, who: &Who) -> Result<(), ApiError> {
        if !who.may_need_provisioning() {
            return Ok(());
        }
        let entry = self.store.get_person(who.ws(), who.sub()).await?;
        let Some(member) = who.provision(entry.as_ref()) else {
            return Ok(());
        };
        let commit = Commit {
            provision: Some(member),
            ..Commit::default()
        };
        Ok(self.commit_in(who.ws(), commit).await?)
    }

    /// The caller with the directory's name applied (one directory read).
    pub(crate) async fn caller_of(&self, who: &Who) -> Result<Caller, ApiError> {
        let entry = self.store.get_person(who.ws(), who.sub()).await?;
        Ok(who.caller(entry.as_ref()))
    }
}
