//! Conversations: create, read, list, export, transcript, messages, timeline,
//! summaries and the caller's own flags.

use super::conversation_response;
use crate::app::{App, RECENT_MESSAGES, Request};
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::routes::Action;
use crate::wire::{ConversationIn, ExportOut, ListPage, SummaryOut};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use inbox_app::{Decision, Target};
use inbox_domain::model::Lookup;
use inbox_domain::model::{Message, SenderKind};
use inbox_domain::views::MAX_EXPORT_ROWS;
use inbox_domain::{
    Conversation, DomainError, FieldError, FlagChange, ListQuery, create_conversation_on, render,
};
use inbox_store::{CommandContext, LookupKey, PageRequest, Store};

/// The page size used to read every page (export, transcript).
const FULL_READ_PAGE: usize = 200;

/// Loads the conversation named in the path (404 when not in the caller's workspace).
async fn load<S: Store>(app: &App<S>, cx: &Request) -> Result<CommandContext, ApiError> {
    let ctx = app
        .store()
        .load_context(cx.who.ws(), Some(cx.id()), &[])
        .await?;
    if ctx.conversation.is_none() {
        return Err(ApiError::not_found("conversation"));
    }
    Ok(ctx)
}

fn conversation_of(ctx: &CommandContext) -> Result<&Conversation, ApiError> {
    ctx.conversation
        .as_ref()
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// `POST /conversations`: a new open conversation (201).
pub(crate) async fn create<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let body: ConversationIn = cx.json()?;
    let ws = cx.who.ws();
    let contact = app
        .store()
        .get_contact(ws, &body.contact_id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact"))?;
    let lookups: Vec<LookupKey> = body
        .channel_id
        .iter()
        .map(|ch| LookupKey::Channel(ch.clone()))
        .collect();
    let plan = cx.who.plan(Target::New).with_lookups(lookups);
    let done = app
        .execute(plan, |loaded, ctx| {
            let channel =
                body.channel_id
                    .as_ref()
                    .map(|id| match loaded.context.channels.get(id) {
                        Some(ch) => Lookup::Found(ch.clone()),
                        None => Lookup::Unknown(id.clone()),
                    });
            Ok(Decision::Decided(create_conversation_on(
                ws, &contact, channel, ctx,
            )?))
        })
        .await?;
    let caller = done
        .caller()
        .cloned()
        .unwrap_or_else(|| cx.who.token_caller());
    let conv = done.outcome.conversation;
    Ok(
        conversation_response(StatusCode::CREATED, &conv, &caller, app.clock().now())
            .with_location(&format!("/conversations/{}", conv.id)),
    )
}

/// `GET /conversations/{id}`.
pub(crate) async fn get<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let ctx = load(app, &cx).await?;
    let caller = cx.who.token_caller();
    Ok(conversation_response(
        StatusCode::OK,
        conversation_of(&ctx)?,
        &caller,
        app.clock().now(),
    ))
}

/// `GET /conversations`: a view with filters, one page.
pub(crate) async fn list<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let query = ListQuery::parse(cx.query.pairs())?;
    let page = cx.query.page()?;
    let caller = cx.who.token_caller();
    let now = app.clock().now();
    let found = app
        .store()
        .list_conversations(cx.who.ws(), &query, cx.who.sub(), &page)
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage {
            items: found
                .items
                .iter()
                .map(|c| render(c, &caller, now))
                .collect::<Vec<_>>(),
            next_cursor: found.next_cursor,
        },
    ))
}

/// `GET /conversations/export.csv`: every page of the list as CSV.
pub(crate) async fn export_csv<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    // Same view and filters as the list (the route takes no paging parameters).
    let query = ListQuery::parse(cx.query.pairs())?;
    let (bytes, _) = app
        .write_export(
            cx.who.ws(),
            cx.who.sub(),
            &query,
            Vec::new(),
            MAX_EXPORT_ROWS,
        )
        .await?;
    let mut resp = ApiResponse::text(
        StatusCode::OK,
        "text/csv; charset=utf-8",
        Bytes::from(bytes),
    );
    resp.headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"conversations.csv\""),
    );
    Ok(resp)
}

/// `POST /conversations/exports`: the body names the view and filters (as
/// strings, the list's parameter names); 202 with the export job.
pub(crate) async fn export_start<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let body: serde_json::Map<String, serde_json::Value> = cx.json()?;
    let mut pairs = Vec::new();
    let mut errors = Vec::new();
    for (k, v) in body {
        if !crate::routes::export_fields().contains(&k.as_str()) {
            errors.push(FieldError::new(&k, "is not a view or a filter of the list"));
            continue;
        }
        match v {
            serde_json::Value::String(s) => pairs.push((k, s)),
            _ => errors.push(FieldError::new(&k, "must be a string")),
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation {
            message: "the export's view and filters are strings named as the list's".into(),
            errors,
        }
        .into());
    }
    let job = app.start_export(cx.who.ws(), &cx.who.token, pairs).await?;
    let status = app
        .export_status(cx.who.ws(), &job.id, cx.who.sub())
        .await?;
    Ok(
        ApiResponse::json(StatusCode::ACCEPTED, &ExportOut::from(&status))
            .with_location(&format!("/conversations/exports/{}", job.id)),
    )
}

/// `GET /conversations/exports/{id}`: the caller's own export job.
pub(crate) async fn export_get<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let status = app
        .export_status(cx.who.ws(), cx.id(), cx.who.sub())
        .await?;
    Ok(ApiResponse::json(StatusCode::OK, &ExportOut::from(&status)))
}

/// Who a transcript line names: the sender's name, else its id, else its
/// kind; control characters become spaces, so no name can start a line.
fn sender_label(m: &Message) -> String {
    let kind = match m.sender.kind {
        SenderKind::Contact => "contact",
        SenderKind::Member => "member",
        SenderKind::AiAgent => "ai_agent",
        SenderKind::Broadcast => "broadcast",
        SenderKind::Workflow => "workflow",
    };
    m.sender
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .or(m.sender.id.as_deref())
        .unwrap_or(kind)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// One transcript line: `[time] sender: body`, line breaks in the body folded
/// to spaces so that each message stays one line.
pub(crate) fn transcript_line(m: &Message) -> String {
    let body: String = m
        .body
        .split(['\r', '\n'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!("[{}] {}: {}\n", m.created_at, sender_label(m), body)
}

/// `GET /conversations/{id}/transcript`: every message as a text line.
pub(crate) async fn transcript<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    load(app, &cx).await?;
    let mut text = String::new();
    let mut page = PageRequest::first(FULL_READ_PAGE);
    loop {
        let found = app
            .store()
            .list_messages(cx.who.ws(), cx.id(), &page)
            .await?;
        for m in &found.items {
            text.push_str(&transcript_line(m));
        }
        match found.next_cursor {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    Ok(ApiResponse::text(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        Bytes::from(text),
    ))
}

/// `GET /conversations/{id}/messages`, oldest first.
pub(crate) async fn messages<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let page = cx.query.page()?;
    load(app, &cx).await?;
    let found = app
        .store()
        .list_messages(cx.who.ws(), cx.id(), &page)
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage {
            items: found.items,
            next_cursor: found.next_cursor,
        },
    ))
}

/// `GET /conversations/{id}/timeline`, in commit order.
pub(crate) async fn timeline<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let page = cx.query.page()?;
    load(app, &cx).await?;
    let found = app
        .store()
        .list_timeline(cx.who.ws(), cx.id(), &page)
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage {
            items: found.items,
            next_cursor: found.next_cursor,
        },
    ))
}

/// `POST /conversations/{id}/closing-note/draft`: writes nothing.
pub(crate) async fn closing_note_draft<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    cx.no_body()?;
    let ctx = load(app, &cx).await?;
    let recent = app
        .store()
        .latest_messages(cx.who.ws(), cx.id(), RECENT_MESSAGES)
        .await?;
    let draft = app
        .note_writer(cx.who.ws(), &ctx.settings, &recent)
        .await
        .draft(&recent, &ctx.settings.closing_notes.categories);
    Ok(ApiResponse::json(StatusCode::OK, &draft))
}

/// `POST /conversations/{id}/summary`: writes nothing.
pub(crate) async fn summary<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    cx.no_body()?;
    let ctx = load(app, &cx).await?;
    let recent = app
        .store()
        .latest_messages(cx.who.ws(), cx.id(), RECENT_MESSAGES)
        .await?;
    let recent = inbox_domain::notes::latest_window(&recent);
    let writer = app.note_writer(cx.who.ws(), &ctx.settings, recent).await;
    let summary = writer.summarize(recent);
    Ok(ApiResponse::json(
        StatusCode::OK,
        &SummaryOut {
            generator: summary.is_some().then(|| writer.generator()),
            summary,
            message_count: recent.len(),
        },
    ))
}

/// `read`, `unread`, `favorite`, `DELETE favorite`: the caller's own flags,
/// which never bump the conversation's version.
pub(crate) async fn flags<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    cx.no_body()?;
    let change = match cx.action {
        Action::ConversationRead => FlagChange::Read,
        Action::ConversationUnread => FlagChange::Unread,
        Action::ConversationFavorite => FlagChange::Favorite,
        _ => FlagChange::Unfavorite,
    };
    let if_match = cx.if_match()?;
    let (conv, caller) = app
        .set_flags(cx.who.ws(), &cx.who.token, cx.id(), &if_match, change)
        .await?;
    Ok(conversation_response(
        StatusCode::OK,
        &conv,
        &caller,
        app.clock().now(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use inbox_domain::Timestamp;
    use inbox_domain::model::Sender;

    fn msg(kind: SenderKind, id: Option<&str>, name: Option<&str>, body: &str) -> Message {
        Message {
            id: "msg_1".into(),
            conversation_id: "conv_1".into(),
            sender: Sender {
                kind,
                id: id.map(str::to_string),
                name: name.map(str::to_string),
            },
            body: body.into(),
            created_at: Timestamp::parse("2026-11-21T10:15:30.123Z").unwrap(),
            channel_message_id: None,
            delivery: None,
        }
    }

    #[test]
    fn a_name_cannot_forge_a_transcript_line() {
        let forged = msg(
            SenderKind::Contact,
            Some("ct_1"),
            Some("Ann\n[2026-11-21T10:15:30.123Z] bob"),
            "hi",
        );
        let line = transcript_line(&forged);
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(line.ends_with(": hi\n"));
    }

    #[test]
    fn transcript_lines() {
        assert_eq!(
            transcript_line(&msg(
                SenderKind::Contact,
                Some("ct_1"),
                Some("Ann"),
                "hi\nthere"
            )),
            "[2026-11-21T10:15:30.123Z] Ann: hi there\n"
        );
        assert_eq!(
            transcript_line(&msg(SenderKind::Member, Some("bob"), Some(" "), "ok")),
            "[2026-11-21T10:15:30.123Z] bob: ok\n"
        );
        assert_eq!(
            transcript_line(&msg(SenderKind::Broadcast, None, None, "sale")),
            "[2026-11-21T10:15:30.123Z] broadcast: sale\n"
        );
    }
}
