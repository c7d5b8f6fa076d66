//! AI agents: handing a conversation to an agent, its sessions, handoff to a human, and removing an agent.

use super::*;

pub(super) fn hand_to_agent(
    conv: &Conversation,
    agent: Lookup<AiAgent>,
    send_initial_message: bool,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let agent = match agent {
        Lookup::Found(a) | Lookup::AiAgent(a) => a,
        Lookup::Member(m) => return Err(DomainError::UnknownAgent(m.id)),
        Lookup::Unknown(id) => return Err(DomainError::UnknownAgent(id)),
    };
    single(conv, ctx, |ch| {
        let session = start_session(ch, &agent, send_initial_message);
        if send_initial_message {
            ch.events.push(DomainEvent::AiReplyRequested {
                workspace_id: ch.after.workspace_id.clone(),
                conversation_id: ch.after.id.clone(),
                agent_id: agent.id,
                session_id: session.id,
                trigger: ReplyTrigger::InitialMessage,
                message_id: None,
            });
        }
        Ok(())
    })
}

/// Gives the conversation to `agent` with a new active session: the
/// previous session ends, the human hand-off flag and the timer clear, and
/// the assignee goes when the settings say so. The timeline is the same
/// whether a member hands over or a channel's default agent answers first.
pub(super) fn start_session(
    ch: &mut Change<'_, '_, '_>,
    agent: &AiAgent,
    send_initial_message: bool,
) -> AgentSession {
    ch.end_session(SessionEndReason::AgentReplaced);
    let from = ch.after.agent.as_ref().map(|a| a.id.clone());
    let session = AgentSession {
        id: ch.ctx.ids.new_id(IdKind::AgentSession),
        active: true,
        started_at: ch.ctx.now,
    };
    ch.after.agent = Some(AgentAssignment {
        id: agent.id.clone(),
        name: agent.name.clone(),
        session: Some(session.clone()),
    });
    ch.after.human_handoff = false;
    ch.cancel_timer();
    if ch.settings().ai.end_session_on_human_assignment {
        ch.unassign(Some(UnassignReason::HandedToAi));
    }
    ch.event(EventKind::AgentAssigned {
        from,
        to: agent.id.clone(),
        session_id: session.id.clone(),
        send_initial_message,
    });
    session
}

/// An agent's answer to a reply request of `session_id`: posted as its
/// reply, or a request for a human, only while that very session is
/// active. Once a person assigned, took over or replied (or the agent was
/// handed the conversation again, in a new session) it is `ai_paused`:
/// discarded, never stored or sent.
pub(super) fn agent_answer(
    conv: &Conversation,
    session_id: &str,
    answer: AgentAnswer,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    let c = caller(ctx)?.clone();
    if c.role != Role::AiAgent {
        return Err(DomainError::Forbidden);
    }
    if !holds_session(conv, &c.id, session_id) {
        return Err(DomainError::AiPaused);
    }
    match answer {
        AgentAnswer::Reply(body) => ai_reply(conv, &body, &c, ctx),
        AgentAnswer::Handoff(reason) => handoff(conv, reason, ctx),
    }
}

/// The agent of `session_id` gave no usable answer after its tries: people
/// take over (`human_handoff`, the session ends `ai_unavailable`, and
/// `handoff_requested` says why). A session that ended meanwhile changes nothing.
pub(super) fn ai_unavailable(
    conv: &Conversation,
    session_id: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    if !matches!(ctx.actor, Actor::System) {
        return Err(DomainError::Forbidden);
    }
    let holder = conv
        .agent
        .as_ref()
        .map(|a| a.id.clone())
        .unwrap_or_default();
    if !holds_session(conv, &holder, session_id) {
        return Ok(Outcome::unchanged(conv));
    }
    single(conv, ctx, |ch| {
        ch.after.human_handoff = true;
        ch.end_session(SessionEndReason::AiUnavailable);
        ch.event(EventKind::HandoffRequested {
            reason: Some(AI_UNAVAILABLE.to_string()),
        });
        Ok(())
    })
}

/// The hand-off reason on the timeline when the AI could not answer.
pub const AI_UNAVAILABLE: &str = "ai_unavailable";

pub(super) fn handoff(
    conv: &Conversation,
    reason: Option<String>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::RequestHandoff)?;
    let c = caller(ctx)?;
    if c.role == Role::AiAgent && !holds_active_session(conv, &c.id) {
        return Err(DomainError::AiPaused);
    }
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_BODY_CHARS)
    {
        return Err(DomainError::BadRequest("reason is too long".into()));
    }
    if conv.human_handoff && !conv.has_active_session() {
        // Already waiting for a person: asking again changes nothing.
        return Ok(Outcome::unchanged(conv));
    }
    single(conv, ctx, |ch| {
        ch.after.human_handoff = true;
        ch.end_session(SessionEndReason::Handoff);
        ch.event(EventKind::HandoffRequested { reason });
        Ok(())
    })
}

/// Remove the AI agent (its session ends).
pub(super) fn unassign_agent(
    conv: &Conversation,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    single(conv, ctx, |ch| {
        if let Some(agent) = ch.after.agent.clone() {
            ch.event(EventKind::AgentUnassigned { from: agent.id });
            ch.end_session(SessionEndReason::AgentUnassigned);
            ch.after.agent = None;
        }
        Ok(())
    })
}

/// A member ends the active AI session (the agent stays on the conversation).
pub(super) fn end_agent_session(
    conv: &Conversation,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    if !conv.has_active_session() {
        return Err(DomainError::NoActiveSession);
    }
    single(conv, ctx, |ch| {
        ch.end_session(SessionEndReason::EndedByMember);
        Ok(())
    })
}

/// An AI agent was deleted: remove it here and end its session.
pub(super) fn agent_removed(
    conv: &Conversation,
    agent_id: String,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ManageWorkspace)?;
    single(conv, ctx, |ch| {
        if ch.after.agent.as_ref().is_some_and(|a| a.id == agent_id) {
            ch.event(EventKind::AgentUnassigned { from: agent_id });
            ch.end_session(SessionEndReason::AgentRemoved);
            ch.after.agent = None;
        }
        Ok(())
    })
}
