//! Members, teams, AI agents and settings.

use super::page_by_id;
use crate::app::{App, Request, Who, run_command};
use crate::conventions::{IfMatch, require_fields};
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::wire::{
    AgentIn, AgentOut, InviteIn, InvitedOut, ListPage, MemberIn, MemberOut, MemberSearchOut,
    SearchAgentOut, TeamIn,
};
use http::StatusCode;
use inbox_app::Invitation;
use inbox_domain::directory::{
    check_external_id, check_id_free_for_agent, search_agents, search_members,
};
use inbox_domain::model::{AiAgent, Member, Team};
use inbox_domain::views::{Filters, ListQuery, View};
use inbox_domain::{Command, DisplayName, DomainError, Email, FieldError, Role, Settings};
use inbox_store::{DirectoryEntry, PageRequest, Store, StoreError};
use std::collections::HashSet;

/// The most members a team may list.
pub const MAX_TEAM_MEMBERS: usize = 1000;
/// The page size used when sweeping conversations after a removal.
const SWEEP_PAGE: usize = 200;

fn invalid(field: &str, message: &str) -> ApiError {
    DomainError::Validation {
        message: format!("{field} {message}"),
        errors: vec![FieldError::new(field, message)],
    }
    .into()
}

/// A path id that the caller chooses: 400 unless `[a-z0-9][a-z0-9_-]{0,63}`.
fn chosen_id(cx: &Request) -> Result<String, ApiError> {
    check_external_id(cx.id())?;
    Ok(cx.id().to_string())
}

/// The role of a member body (present: `require_fields` ran first).
fn member_role(role: Option<&str>) -> Result<Role, ApiError> {
    Ok(Role::parse_member(role.unwrap_or_default())?)
}

/// `POST /members/invite`: create the member's sign-in and list them.
pub(crate) async fn member_invite<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let body: InviteIn = cx.json()?;
    require_fields(&[
        ("email", body.email.is_some()),
        ("name", body.name.is_some()),
        ("role", body.role.is_some()),
    ])?;
    let Some(email) = Email::parse_opt(body.email.as_deref())?.map(String::from) else {
        return Err(invalid("email", "is required"));
    };
    let Some(name) =
        DisplayName::parse(body.name.as_deref().unwrap_or_default())?.map(String::from)
    else {
        return Err(invalid("name", "is required"));
    };
    let invitation = Invitation {
        workspace_id: cx.who.ws().to_string(),
        email,
        name,
        role: member_role(body.role.as_deref())?,
    };
    let member = app
        .invite_member(&cx.who.token_caller(), &invitation)
        .await?;
    app.provision(cx.who.ws(), &cx.who.token).await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        &InvitedOut {
            member: MemberOut::from(&member),
            invited: true,
        },
    ))
}

/// `PUT /members/{id}`: create or replace a member, under the owner rules.
pub(crate) async fn member_put<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let id = chosen_id(&cx)?;
    let body: MemberIn = cx.json()?;
    require_fields(&[("name", body.name.is_some()), ("role", body.role.is_some())])?;
    let name = DisplayName::parse(body.name.as_deref().unwrap_or_default())?
        .map(String::from)
        .unwrap_or_default();
    let email = Email::parse_opt(body.email.as_deref())?.map(String::from);
    let role = member_role(body.role.as_deref())?;
    let member = Member {
        id: id.clone(),
        name,
        email,
        role,
    };
    let actor = cx.who.token_caller();
    app.change_member(cx.who.ws(), &actor, &id, Some(&member))
        .await?;
    if id != cx.who.sub() {
        app.provision(cx.who.ws(), &cx.who.token).await?;
    }
    Ok(ApiResponse::json(StatusCode::OK, &MemberOut::from(&member)))
}

/// `GET /members?q=`: matching members (paged) and AI agents.
pub(crate) async fn members_list<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let page = cx.query.page()?;
    let q = cx.query.get("q").unwrap_or_default();
    let members = app.store().list_members(cx.who.ws()).await?;
    let agents = app.store().list_agents(cx.who.ws()).await?;
    let found: Vec<Member> = search_members(&members, q).into_iter().cloned().collect();
    let (items, next_cursor) = page_by_id(found, |m| &m.id, &page)?;
    let mut agents: Vec<SearchAgentOut> = search_agents(&agents, q)
        .into_iter()
        .map(|a| SearchAgentOut {
            id: a.id.clone(),
            name: a.name.clone(),
            kind: "ai",
        })
        .collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(ApiResponse::json(
        StatusCode::OK,
        &MemberSearchOut {
            items: items.iter().map(MemberOut::from).collect(),
            next_cursor,
            agents,
        },
    ))
}

/// Runs `cmd` on every conversation `query` lists for `caller_id`, until none
/// is left: each one leaves the list once changed, so the first page is read
/// again rather than followed by cursor (which the changes would shift).
async fn sweep<S: Store>(
    app: &App<S>,
    who: &Who,
    query: ListQuery,
    caller_id: &str,
    cmd: Command,
) -> Result<(), ApiError> {
    let mut done: HashSet<String> = HashSet::new();
    loop {
        let page = app
            .store()
            .list_conversations(who.ws(), &query, caller_id, &PageRequest::first(SWEEP_PAGE))
            .await?;
        let todo: Vec<String> = page
            .items
            .into_iter()
            .map(|c| c.id)
            .filter(|id| !done.contains(id))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        for id in todo {
            let cmd = cmd.clone();
            match run_command(app, who, &id, IfMatch::Absent, Vec::new(), move |_| {
                cmd.clone()
            })
            .await
            {
                // Deleted meanwhile: nothing to clean.
                Ok(_) | Err(ApiError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
            done.insert(id);
        }
    }
}

/// `DELETE /members/{id}`: remove the member, then unassign their conversations.
pub(crate) async fn member_delete<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let id = cx.id().to_string();
    // Removed first, so nobody can be assigned to them while the sweep runs;
    // a retried DELETE finishes a sweep that failed half-way.
    let actor = cx.who.token_caller();
    app.change_member(cx.who.ws(), &actor, &id, None).await?;
    if id != cx.who.sub() {
        app.provision(cx.who.ws(), &cx.who.token).await?;
    }
    let query = ListQuery {
        view: View::AssignedToMe,
        filters: Filters::default(),
    };
    sweep(
        app,
        &cx.who,
        query,
        &id,
        Command::MemberRemoved {
            member_id: id.clone(),
        },
    )
    .await?;
    Ok(ApiResponse::no_content())
}

/// `PUT /teams/{id}`: create or replace a team.
pub(crate) async fn team_put<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let id = chosen_id(&cx)?;
    let body: TeamIn = cx.json()?;
    require_fields(&[("name", body.name.is_some())])?;
    let Some(name) =
        DisplayName::parse(body.name.as_deref().unwrap_or_default())?.map(String::from)
    else {
        return Err(invalid("name", "is required"));
    };
    if body.member_ids.len() > MAX_TEAM_MEMBERS {
        return Err(invalid(
            "member_ids",
            &format!("must list at most {MAX_TEAM_MEMBERS} members"),
        ));
    }
    let mut member_ids: Vec<String> = Vec::new();
    for m in body.member_ids {
        check_external_id(&m)?;
        if !member_ids.contains(&m) {
            member_ids.push(m);
        }
    }
    app.provision(cx.who.ws(), &cx.who.token).await?;
    let team = Team {
        id,
        name,
        member_ids,
    };
    app.store().put_team(cx.who.ws(), &team).await?;
    Ok(ApiResponse::json(StatusCode::OK, &team))
}

/// `GET /teams`: teams by id, paged.
pub(crate) async fn teams_list<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let page = cx.query.page()?;
    let teams = app.store().list_teams(cx.who.ws()).await?;
    let (items, next_cursor) = page_by_id(teams, |t| &t.id, &page)?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage { items, next_cursor },
    ))
}

/// `DELETE /teams/{id}`: remove the team, then clear it from its conversations.
pub(crate) async fn team_delete<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let id = cx.id().to_string();
    app.provision(cx.who.ws(), &cx.who.token).await?;
    app.store().delete_team(cx.who.ws(), &id).await?;
    let query = ListQuery {
        view: View::All,
        filters: Filters {
            team: Some(id.clone()),
            ..Filters::default()
        },
    };
    let caller = cx.who.sub().to_string();
    sweep(
        app,
        &cx.who,
        query,
        &caller,
        Command::TeamRemoved { team_id: id },
    )
    .await?;
    Ok(ApiResponse::no_content())
}

/// `PUT /agents/{id}`: create or replace an AI agent.
pub(crate) async fn agent_put<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let id = chosen_id(&cx)?;
    let body: AgentIn = cx.json()?;
    require_fields(&[("name", body.name.is_some())])?;
    let Some(name) =
        DisplayName::parse(body.name.as_deref().unwrap_or_default())?.map(String::from)
    else {
        return Err(invalid("name", "is required"));
    };
    let existing = app.store().get_person(cx.who.ws(), &id).await?;
    let member = match &existing {
        Some(DirectoryEntry::Member(m)) => Some(m),
        _ => None,
    };
    check_id_free_for_agent(&id, member)?;
    app.provision(cx.who.ws(), &cx.who.token).await?;
    let agent = AiAgent {
        id: id.clone(),
        name,
    };
    match app.store().put_agent(cx.who.ws(), &agent).await {
        Ok(()) => Ok(ApiResponse::json(StatusCode::OK, &AgentOut::from(&agent))),
        Err(StoreError::Conflict) => Err(DomainError::IdTaken(id).into()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /agents`: AI agents by id, paged.
pub(crate) async fn agents_list<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let page = cx.query.page()?;
    let agents = app.store().list_agents(cx.who.ws()).await?;
    let (items, next_cursor) = page_by_id(agents, |a| &a.id, &page)?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage {
            items: items.iter().map(AgentOut::from).collect::<Vec<_>>(),
            next_cursor,
        },
    ))
}

/// `DELETE /agents/{id}`: remove an AI agent; it leaves its conversations and its sessions end.
pub(crate) async fn agent_delete<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let id = cx.id().to_string();
    if let Some(DirectoryEntry::Member(_)) = app.store().get_person(cx.who.ws(), &id).await? {
        return Err(ApiError::not_found("AI agent"));
    }
    app.provision(cx.who.ws(), &cx.who.token).await?;
    app.store().delete_agent(cx.who.ws(), &id).await?;
    // No view is keyed by agent, so every conversation is paged through (by
    // cursor: conversations stay in `all` once changed); only those the agent
    // is on are decided. Deleting an agent is rare.
    let query = ListQuery {
        view: View::All,
        filters: Filters::default(),
    };
    let caller = cx.who.sub().to_string();
    let mut page = PageRequest::first(SWEEP_PAGE);
    loop {
        let found = app
            .store()
            .list_conversations(cx.who.ws(), &query, &caller, &page)
            .await?;
        for conv in found
            .items
            .iter()
            .filter(|c| c.agent.as_ref().is_some_and(|a| a.id == id))
        {
            let cmd = Command::AgentRemoved {
                agent_id: id.clone(),
            };
            match run_command(
                app,
                &cx.who,
                &conv.id,
                IfMatch::Absent,
                Vec::new(),
                move |_| cmd.clone(),
            )
            .await
            {
                Ok(_) | Err(ApiError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        match found.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(ApiResponse::no_content()),
        }
    }
}

/// `GET /settings`: the settings document (defaults when never set).
pub(crate) async fn settings_get<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let settings = app.store().get_settings(cx.who.ws()).await?;
    Ok(ApiResponse::json(StatusCode::OK, &settings))
}

/// `PUT /settings`: validate and replace the whole document.
pub(crate) async fn settings_put<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    // Any JSON value parses here; the domain reports every invalid field at once (422).
    let doc: serde_json::Value = cx.json()?;
    let settings = Settings::from_document(&doc)?;
    app.provision(cx.who.ws(), &cx.who.token).await?;
    app.store().put_settings(cx.who.ws(), &settings).await?;
    Ok(ApiResponse::json(StatusCode::OK, &settings))
}
