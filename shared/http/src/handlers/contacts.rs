//! Contacts and their notes.

use super::directory::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, clean_text};
use crate::app::{App, MAX_ATTEMPTS, Request};
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::wire::{BodyIn, ContactIn, ContactOut, ContactPatchIn, ListPage};
use http::StatusCode;
use inbox_domain::commands::{actor_ref, validate_body};
use inbox_domain::ids::IdKind;
use inbox_domain::model::{Contact, ContactNote};
use inbox_domain::{Actor, Command};
use inbox_store::{CommandContext, Commit, Store, StoreError};

/// The longest phone number we keep.
pub const MAX_PHONE_CHARS: usize = 64;
/// How many of a contact's conversations a contact change refreshes (newest first).
pub const CONTACT_CONVERSATIONS: usize = 100;

fn contact_response(status: StatusCode, c: &Contact) -> ApiResponse {
    ApiResponse::json(status, &ContactOut::from(c))
}

async fn load<S: Store>(app: &App<S>, cx: &Request) -> Result<Contact, ApiError> {
    app.store()
        .get_contact(cx.who.ws(), cx.id())
        .await?
        .ok_or_else(|| ApiError::not_found("contact"))
}

/// `POST /contacts`: a new contact (201).
pub(crate) async fn create<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let body: ContactIn = cx.json()?;
    let mut ids = app.new_ids();
    let contact = Contact {
        id: ids.new_id(IdKind::Contact),
        name: clean_text("name", body.name, MAX_NAME_CHARS)?,
        email: clean_text("email", body.email, MAX_EMAIL_CHARS)?,
        phone: clean_text("phone", body.phone, MAX_PHONE_CHARS)?,
        blocked: false,
        created_at: app.clock().now(),
    };
    app.ensure_provisioned(&cx.who).await?;
    app.store().create_contact(cx.who.ws(), &contact).await?;
    Ok(contact_response(StatusCode::CREATED, &contact)
        .with_location(&format!("/contacts/{}", contact.id)))
}

/// `GET /contacts/{id}`.
pub(crate) async fn get<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let contact = load(app, &cx).await?;
    Ok(contact_response(StatusCode::OK, &contact))
}

/// `PATCH /contacts/{id}`: absent keeps, null clears.
pub(crate) async fn patch<S: Store>(app: &App<S>, cx: Request) -> Result<ApiResponse, ApiError> {
    let body: ContactPatchIn = cx.json()?;
    let name = body
        .name
        .map(|v| clean_text("name", v, MAX_NAME_CHARS))
        .transpose()?;
    let email = body
        .email
        .map(|v| clean_text("email", v, MAX_EMAIL_CHARS))
        .transpose()?;
    let phone = body
        .phone
        .map(|v| clean_text("phone", v, MAX_PHONE_CHARS))
        .transpose()?;
    change(app, &cx, |c| {
        if let Some(v) = &name {
            c.name = v.clone();
        }
        if let Some(v) = &email {
            c.email = v.clone();
        }
        if let Some(v) = &phone {
            c.phone = v.clone();
        }
    })
    .await
}

/// `POST /contacts/{id}/block` and `/unblock`.
pub(crate) async fn set_blocked<S: Store>(
    app: &App<S>,
    cx: Request,
    blocked: bool,
) -> Result<ApiResponse, ApiError> {
    cx.no_body()?;
    change(app, &cx, |c| c.blocked = blocked).await
}

/// Changes a contact and refreshes the snapshot on its conversations in one
/// atomic write; a lost race on any conversation re-reads and re-decides.
async fn change<S: Store>(
    app: &App<S>,
    cx: &Request,
    edit: impl Fn(&mut Contact),
) -> Result<ApiResponse, ApiError> {
    let ws = cx.who.ws();
    for _ in 0..MAX_ATTEMPTS {
        let before = load(app, cx).await?;
        let mut after = before.clone();
        edit(&mut after);
        if after == before {
            // Nothing changes (e.g. blocking a blocked contact): 200, no event.
            return Ok(contact_response(StatusCode::OK, &after));
        }
        let entry = app.store().get_person(ws, cx.who.sub()).await?;
        let caller = cx.who.caller(entry.as_ref());
        let provision = cx.who.provision(entry.as_ref());
        let convs = app
            .store()
            .conversations_of_contact(ws, &after.id, CONTACT_CONVERSATIONS)
            .await?;
        let settings = CommandContext {
            settings: app.store().get_settings(ws).await?,
            ..CommandContext::default()
        };
        let mut writes = Vec::new();
        for conv in &convs {
            let cmd = Command::ContactChanged {
                contact: after.clone(),
            };
            writes.extend(app.decide_now(conv, cmd, &caller, &settings)?.writes);
        }
        // With no conversation to refresh, the member is provisioned on its own.
        let provision = if writes.is_empty() {
            let only = Commit {
                provision,
                ..Commit::default()
            };
            app.commit_in(ws, only).await?;
            None
        } else {
            provision
        };
        let commit = Commit {
            writes,
            dedupe: None,
            provision,
        };
        match app.store().update_contact(ws, &after, commit).await {
            Ok(()) => return Ok(contact_response(StatusCode::OK, &after)),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Contended)
}

/// `POST /contacts/{id}/notes` (201).
pub(crate) async fn note_create<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let body: BodyIn = cx.json()?;
    let text = validate_body(&body.body)?.to_string();
    let contact = load(app, &cx).await?;
    let caller = app.caller_of(&cx.who).await?;
    let mut ids = app.new_ids();
    let note = ContactNote {
        id: ids.new_id(IdKind::Note),
        contact_id: contact.id,
        body: text,
        author: actor_ref(&Actor::Caller(caller)),
        created_at: app.clock().now(),
    };
    app.ensure_provisioned(&cx.who).await?;
    app.store().add_contact_note(cx.who.ws(), &note).await?;
    Ok(ApiResponse::json(StatusCode::CREATED, &note))
}

/// `GET /contacts/{id}/notes`, oldest first.
pub(crate) async fn notes_list<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    cx.query.only(&["limit", "cursor"])?;
    let page = cx.query.page()?;
    let contact = load(app, &cx).await?;
    let notes = app
        .store()
        .list_contact_notes(cx.who.ws(), &contact.id, &page)
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        &ListPage {
            items: notes.items,
            next_cursor: notes.next_cursor,
        },
    ))
}
