//! Contacts and their notes.

use crate::app::{App, Request};
use crate::handlers::with_job;
use crate::problem::ApiError;
use crate::response::ApiResponse;
use crate::wire::{BodyIn, ContactIn, ContactOut, ContactPatchIn, ListPage};
use http::StatusCode;
use inbox_domain::commands::{actor_ref, validate_body};
use inbox_domain::ids::IdKind;
use inbox_domain::model::{Contact, ContactNote};
use inbox_domain::{Actor, DisplayName, Email, Phone};
use inbox_store::Store;

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
        name: DisplayName::parse_opt(body.name.as_deref())?.map(String::from),
        email: Email::parse_opt(body.email.as_deref())?.map(String::from),
        phone: Phone::parse_opt(body.phone.as_deref())?.map(String::from),
        blocked: false,
        created_at: app.clock().now(),
    };
    app.provision(cx.who.ws(), &cx.who.token).await?;
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
    // Absent keeps a field; null or blank clears it.
    let name = body
        .name
        .map(|v| DisplayName::parse_opt(v.as_deref()))
        .transpose()?
        .map(|v| v.map(String::from));
    let email = body
        .email
        .map(|v| Email::parse_opt(v.as_deref()))
        .transpose()?
        .map(|v| v.map(String::from));
    let phone = body
        .phone
        .map(|v| Phone::parse_opt(v.as_deref()))
        .transpose()?
        .map(|v| v.map(String::from));
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

/// Changes a contact, then refreshes the snapshot on its conversations (the
/// first part in the request, the rest as a job named by `Location`).
async fn change<S: Store>(
    app: &App<S>,
    cx: &Request,
    edit: impl Fn(&mut Contact) + Send + Sync,
) -> Result<ApiResponse, ApiError> {
    let done = app
        .change_contact(cx.who.ws(), &cx.who.token, cx.id(), edit)
        .await?;
    Ok(with_job(
        contact_response(StatusCode::OK, &done.contact),
        done.job.as_ref(),
    ))
}

/// `POST /contacts/{id}/notes` (201).
pub(crate) async fn note_create<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
    let body: BodyIn = cx.json()?;
    let text = validate_body(&body.body)?.to_string();
    let contact = load(app, &cx).await?;
    let caller = app.provisioned_caller(cx.who.ws(), &cx.who.token).await?;
    let mut ids = app.new_ids();
    let note = ContactNote {
        id: ids.new_id(IdKind::Note),
        contact_id: contact.id,
        body: text,
        author: actor_ref(&Actor::Caller(caller)),
        created_at: app.clock().now(),
    };
    app.store().add_contact_note(cx.who.ws(), &note).await?;
    Ok(ApiResponse::json(StatusCode::CREATED, &note))
}

/// `GET /contacts/{id}/notes`, oldest first.
pub(crate) async fn notes_list<S: Store>(
    app: &App<S>,
    cx: Request,
) -> Result<ApiResponse, ApiError> {
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
