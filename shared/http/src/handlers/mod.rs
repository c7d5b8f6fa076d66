//! The handler of every action, generic over the store port.

mod api_keys;
mod channels;
mod commands;
mod contacts;
mod conversations;
mod directory;
mod outgoing_webhooks;
mod reports;
pub(crate) mod webhooks;

use crate::app::{App, Request};
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::routes::Action;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use inbox_domain::{Caller, Conversation, Job, render};
use inbox_store::{PageRequest, Store};

/// `response` with `Location: /jobs/{id}` when work continues as a job.
pub(crate) fn with_job(response: ApiResponse, job: Option<&Job>) -> ApiResponse {
    match job {
        Some(job) => response.with_location(&format!("/jobs/{}", job.id)),
        None => response,
    }
}

/// `GET /jobs/{id}`: a job's progress.
async fn job_get<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let job = app.job(cx.who.ws(), cx.id()).await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &crate::wire::JobOut::from(&job),
    ))
}

/// Runs the handler of `cx.action`.
pub(crate) async fn dispatch<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    use Action::*;
    match cx.action {
        MemberInvite => directory::member_invite(app, cx).await,
        MemberPut => directory::member_put(app, cx).await,
        MembersList => directory::members_list(app, cx).await,
        MemberDelete => directory::member_delete(app, cx).await,
        TeamPut => directory::team_put(app, cx).await,
        TeamsList => directory::teams_list(app, cx).await,
        TeamDelete => directory::team_delete(app, cx).await,
        AgentPut => directory::agent_put(app, cx).await,
        AgentsList => directory::agents_list(app, cx).await,
        AgentRotateSecret => directory::agent_rotate_secret(app, cx).await,
        AgentDelete => directory::agent_delete(app, cx).await,
        SettingsGet => directory::settings_get(app, cx).await,
        ApiKeyCreate => api_keys::create(app, cx).await,
        ApiKeysList => api_keys::list(app, cx).await,
        ApiKeyRevoke => api_keys::revoke(app, cx).await,
        OutgoingWebhookPut => outgoing_webhooks::put(app, cx).await,
        OutgoingWebhooksList => outgoing_webhooks::list(app, cx).await,
        OutgoingWebhookDelete => outgoing_webhooks::delete(app, cx).await,
        OutgoingWebhookRotateSecret => outgoing_webhooks::rotate_secret(app, cx).await,
        OutgoingWebhookDeliveries => outgoing_webhooks::deliveries(app, cx).await,
        JobGet => job_get(app, cx).await,
        SettingsPut => directory::settings_put(app, cx).await,
        ContactCreate => contacts::create(app, cx).await,
        ContactGet => contacts::get(app, cx).await,
        ContactPatch => contacts::patch(app, cx).await,
        ContactBlock => contacts::set_blocked(app, cx, true).await,
        ContactUnblock => contacts::set_blocked(app, cx, false).await,
        ContactNoteCreate => contacts::note_create(app, cx).await,
        ContactNotesList => contacts::notes_list(app, cx).await,
        ConversationCreate => conversations::create(app, cx).await,
        ConversationsList => conversations::list(app, cx).await,
        ConversationsExport => conversations::export_csv(app, cx).await,
        ConversationExportStart => conversations::export_start(app, cx).await,
        ConversationExportGet => conversations::export_get(app, cx).await,
        ConversationGet => conversations::get(app, cx).await,
        ConversationTranscript => conversations::transcript(app, cx).await,
        ConversationMessagesList => conversations::messages(app, cx).await,
        ConversationTimeline => conversations::timeline(app, cx).await,
        ConversationMessageRetry => commands::retry_delivery(app, cx).await,
        ConversationClosingNoteDraft => conversations::closing_note_draft(app, cx).await,
        ConversationSummary => conversations::summary(app, cx).await,
        ConversationRead | ConversationUnread | ConversationFavorite | ConversationUnfavorite => {
            conversations::flags(app, cx).await
        }
        ChannelPut => channels::put(app, cx).await,
        ChannelsList => channels::list(app, cx).await,
        ReportConversations => reports::conversations(app, cx).await,
        ReportConversationsCsv => reports::conversations_csv(app, cx).await,
        // Served before identity is looked at (see `handle_action`).
        WebhookTwilio
        | WebhookWhatsappHandshake
        | WebhookWhatsapp
        | WebhookTelegram
        | WebhookGeneric => Err(ApiError::NotFound(format!(
            "{} is a webhook",
            cx.action.function_name()
        ))),
        ConversationAssign
        | ConversationTakeover
        | ConversationUnassign
        | ConversationTeam
        | ConversationAgentAssign
        | ConversationAgentUnassign
        | ConversationAgentSessionEnd
        | ConversationStatus
        | ConversationSnooze
        | ConversationUnsnooze
        | ConversationMessagePost
        | ConversationHandoff
        | ConversationNoteCreate
        | ConversationLabels
        | ConversationChannel => commands::run(app, cx).await,
    }
}

/// A conversation rendered for `caller` at `now`, with its `ETag`.
pub(crate) fn conversation_response(
    status: StatusCode,
    conv: &Conversation,
    caller: &Caller,
    now: inbox_domain::Timestamp,
) -> ApiResponse {
    ApiResponse::json(status, &render(conv, caller, now)).with_etag(conv.version)
}

/// An opaque cursor for lists paged in memory by id.
fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::BadRequest("the cursor is not valid for this list".into()))
}

/// One page of `items` sorted by id (small directory lists, paged in memory).
pub(crate) fn page_by_id<T>(
    mut items: Vec<T>,
    id: impl Fn(&T) -> &str,
    page: &PageRequest,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    items.sort_by(|a, b| id(a).cmp(id(b)));
    if let Some(c) = &page.cursor {
        let after = decode_cursor(c)?;
        items.retain(|t| id(t) > after.as_str());
    }
    let next = if items.len() > page.limit {
        items.truncate(page.limit);
        items.last().map(|t| encode_cursor(id(t)))
    } else {
        None
    };
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_paging_by_id() {
        let ids: Vec<String> = ["c", "a", "e", "b", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (p1, next) = page_by_id(ids.clone(), |s| s, &PageRequest::first(2)).unwrap();
        assert_eq!(p1, vec!["a", "b"]);
        let req = PageRequest {
            limit: 2,
            cursor: next,
        };
        let (p2, next) = page_by_id(ids.clone(), |s| s, &req).unwrap();
        assert_eq!(p2, vec!["c", "d"]);
        let req = PageRequest {
            limit: 2,
            cursor: next,
        };
        let (p3, next) = page_by_id(ids.clone(), |s| s, &req).unwrap();
        assert_eq!((p3, next), (vec!["e".to_string()], None));
        let bad = PageRequest {
            limit: 2,
            cursor: Some("***".into()),
        };
        assert!(page_by_id(ids, |s| s, &bad).is_err());
    }
}
