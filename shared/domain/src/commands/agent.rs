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
