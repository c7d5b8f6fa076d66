//! Assignment: members, takeover, unassign, teams, and what a removed member or team leaves behind.

use super::*;

pub(super) fn assign(
    conv: &Conversation,
    target: Lookup<Member>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let member = match target {
        Lookup::Found(m) => m,
        Lookup::AiAgent(_) => return Err(DomainError::CannotAssignAiAgent),
        Lookup::Unknown(id) => return Err(DomainError::UnknownMember(id)),
        Lookup::Member(m) => m,
    };
    if conv.assignee_id() == Some(member.id.as_str()) {
        return Ok(Outcome::unchanged(conv));
    }
    single(conv, ctx, |ch| {
        ch.assign(
            NamedRef {
                id: member.id.clone(),
                name: member.name.clone(),
            },
            None,
        );
        ch.after.human_handoff = false;
        if ch.settings().ai.end_session_on_human_assignment {
            ch.end_session(SessionEndReason::HumanAssigned);
        }
        Ok(())
    })
}

pub(super) fn takeover(conv: &Conversation, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    let c = caller(ctx)?;
    if let Some(refused) = takeover_refusal(conv, c) {
        return Err(refused);
    }
    let me = member_ref(c);
    let from = conv.assignee_id().unwrap_or_default().to_string();
    single(conv, ctx, |ch| {
        let to = me.id.clone();
        ch.after.assignee = Some(me);
        ch.event(EventKind::TakenOver { from, to });
        ch.after.human_handoff = false;
        if ch.settings().ai.end_session_on_human_assignment {
            ch.end_session(SessionEndReason::HumanAssigned);
        }
        Ok(())
    })
}

pub(super) fn set_team(
    conv: &Conversation,
    team: Option<Lookup<Team>>,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    let team = match team {
        None => None,
        Some(Lookup::Found(t)) => Some(t),
        Some(Lookup::Unknown(id)) => return Err(DomainError::UnknownTeam(id)),
        Some(Lookup::AiAgent(a)) => return Err(DomainError::UnknownTeam(a.id)),
        Some(Lookup::Member(m)) => return Err(DomainError::UnknownTeam(m.id)),
    };
    single(conv, ctx, |ch| {
        let from = ch.after.team.as_ref().map(|t| t.id.clone());
        match team {
            Some(t) if from.as_deref() != Some(t.id.as_str()) => {
                ch.after.team = Some(NamedRef {
                    id: t.id.clone(),
                    name: t.name,
                });
                ch.event(EventKind::TeamAssigned { from, to: t.id });
            }
            None => {
                if let Some(from) = from {
                    ch.after.team = None;
                    ch.event(EventKind::TeamUnassigned { from, reason: None });
                }
            }
            Some(_) => {}
        }
        Ok(())
    })
}

/// `unassign`: clear the assignee.
pub(super) fn unassign(conv: &Conversation, ctx: &mut Ctx<'_>) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ChatEdit)?;
    single(conv, ctx, |ch| {
        ch.unassign(None);
        Ok(())
    })
}

/// A member left the workspace: unassign them here.
pub(super) fn member_removed(
    conv: &Conversation,
    member_id: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ManageWorkspace)?;
    single(conv, ctx, |ch| {
        if ch.after.assignee_id() == Some(member_id) {
            ch.unassign(Some(UnassignReason::MemberRemoved));
        }
        Ok(())
    })
}

/// A team was deleted: clear it here.
pub(super) fn team_removed(
    conv: &Conversation,
    team_id: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, DomainError> {
    require(ctx, Capability::ManageWorkspace)?;
    single(conv, ctx, |ch| {
        if ch.after.team.as_ref().is_some_and(|t| t.id == team_id)
            && let Some(prev) = ch.after.team.take()
        {
            ch.event(EventKind::TeamUnassigned {
                from: prev.id,
                reason: Some(TeamUnassignReason::TeamRemoved),
            });
        }
        Ok(())
    })
}
