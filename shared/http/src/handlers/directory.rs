//! Members, teams, AI agents and settings.

use super::{page_by_id, with_job};
use crate::app::{App, Request};
use crate::conventions::require_fields;
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::wire::{
    AgentIn, AgentOut, InviteIn, InvitedOut, ListPage, MemberIn, MemberOut, MemberSearchOut,
    SearchAgentOut, TeamIn,
};
use http::StatusCode;
use inbox_app::Invitation;
use inbox_domain::agents::AgentKind;
use inbox_domain::directory::{check_external_id, search_agents, search_members};
use inbox_domain::model::{Member, Team};
use inbox_domain::settings::Summarizer;
use inbox_domain::{DisplayName, DomainError, Email, FieldError, JobKind, Role, Settings};
use inbox_store::{DirectoryEntry, Store};

/// The most members a team may list.
pub const MAX_TEAM_MEMBERS: usize = 1000;

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

/// `DELETE /members/{id}`: remove the member, then unassign their conversations.
pub(crate) async fn member_delete<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let id = cx.id().to_string();
    // Removed first, so nobody can be assigned to them while their
    // conversations are unassigned; a retried DELETE changes what is left.
    let actor = cx.who.token_caller();
    app.change_member(cx.who.ws(), &actor, &id, None).await?;
    if id != cx.who.sub() {
        app.provision(cx.who.ws(), &cx.who.token).await?;
    }
    let fan = app
        .fan_out(cx.who.ws(), &cx.who.token, JobKind::MemberRemoval, &id)
        .await?;
    Ok(with_job(ApiResponse::no_content(), fan.job.as_ref()))
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
    let fan = app
        .fan_out(cx.who.ws(), &cx.who.token, JobKind::TeamRemoval, &id)
        .await?;
    Ok(with_job(ApiResponse::no_content(), fan.job.as_ref()))
}

/// `PUT /agents/{id}`: create or replace an AI agent and how it answers
/// (a webhook agent's new secret is in this answer, and never again).
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
    let put = app
        .put_agent(cx.who.ws(), &cx.who.token, &id, name, &body.input())
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &AgentOut::of(&put.agent, put.new_secret),
    ))
}

/// `POST /agents/{id}/rotate-secret`: 200 with the webhook agent and its new secret.
pub(crate) async fn agent_rotate_secret<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let agent = app
        .rotate_agent_secret(cx.who.ws(), &cx.who.token, cx.id())
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &AgentOut::of(&agent, true),
    ))
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
    let fan = app
        .fan_out(cx.who.ws(), &cx.who.token, JobKind::AgentRemoval, &id)
        .await?;
    Ok(with_job(ApiResponse::no_content(), fan.job.as_ref()))
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
    if let Summarizer::Llm { agent_id } = &settings.ai.summarizer {
        // It must be an LLM agent now; one deleted or changed later gives
        // way to the built-in summarizer.
        let is_llm = matches!(
            app.store().get_person(cx.who.ws(), agent_id).await?,
            Some(DirectoryEntry::Agent(a)) if matches!(a.answers, AgentKind::Llm(_))
        );
        if !is_llm {
            return Err(invalid(
                "ai.summarizer.agent_id",
                "must be an AI agent of kind llm",
            ));
        }
    }
    app.provision(cx.who.ws(), &cx.who.token).await?;
    app.store().put_settings(cx.who.ws(), &settings).await?;
    Ok(ApiResponse::json(StatusCode::OK, &settings))
}
