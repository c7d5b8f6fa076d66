//! `App::answer` on the embedded store with a scripted model: one answer
//! per request however often it is delivered, nothing called for a session
//! that is over, and a refusal that will not pass handed to people at once.

use async_trait::async_trait;
use inbox_app::{Answered, App, ChatModel, Decision, Plan, Principal, Target, Token};
use inbox_domain::agents::{AgentAnswer, AgentKind, AnswerRequest, LlmAgent};
use inbox_domain::llm::{ModelAnswer, ModelEndpoint, ModelFailure, Turn};
use inbox_domain::model::{AiAgent, Contact, DomainEvent, Lookup};
use inbox_domain::{Command, Role, Timestamp, create_conversation};
use inbox_store::sqlite::SqliteStore;
use inbox_store::{ConversationStore, DirectoryStore, LookupKey, PageRequest};
use std::sync::{Arc, Mutex};

/// Answers from `script` (then a reply), counting calls.
#[derive(Default)]
struct Scripted {
    script: Mutex<Vec<Result<ModelAnswer, ModelFailure>>>,
    calls: Mutex<Vec<Vec<Turn>>>,
}

#[async_trait]
impl ChatModel for Scripted {
    async fn complete(
        &self,
        _endpoint: &ModelEndpoint,
        turns: &[Turn],
    ) -> Result<ModelAnswer, ModelFailure> {
        self.calls.lock().unwrap().push(turns.to_vec());
        let mut s = self.script.lock().unwrap();
        if s.is_empty() {
            Ok(ModelAnswer::Reply("Happy to help.".into()))
        } else {
            s.remove(0)
        }
    }
}

fn token(sub: &str, role: Role) -> Principal {
    Principal::Token(Token {
        sub: sub.into(),
        role,
        name: Some("Bob Ray".into()),
    })
}

fn llm(kind_of: &str) -> AiAgent {
    let mut max = AiAgent::external("max", "Max");
    if kind_of == "llm" {
        max.answers = AgentKind::Llm(LlmAgent {
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "m".into(),
            api_key: "sk-1".into(),
            instructions: "You are Max.".into(),
            history_messages: 20,
            timeout_seconds: 1,
        });
    }
    max
}

/// A conversation handed to Max with an initial message; the request it made.
async fn asked(
    kind_of: &str,
    script: Vec<Result<ModelAnswer, ModelFailure>>,
) -> (App<SqliteStore>, Arc<Scripted>, AnswerRequest) {
    let model = Arc::new(Scripted {
        script: Mutex::new(script),
        ..Scripted::default()
    });
    let app = App::new(SqliteStore::in_memory().unwrap()).with_chat_model(model.clone());
    app.store().put_agent("acme", &llm(kind_of)).await.unwrap();
    let contact = Contact {
        id: "ct_1".into(),
        name: Some("Ann".into()),
        email: None,
        phone: None,
        blocked: false,
        created_at: Timestamp::from_unix_seconds(1_800_000_000),
    };
    let made = app
        .execute(
            Plan::new("acme", token("bob", Role::Agent), Target::New),
            |_, ctx| {
                Ok(Decision::Decided(create_conversation(
                    "acme", &contact, None, ctx,
                )?))
            },
        )
        .await
        .unwrap();
    let conv = made.outcome.conversation.id.clone();
    let handed = app
        .execute(
            Plan::new(
                "acme",
                token("bob", Role::Agent),
                Target::Conversation(conv),
            )
            .with_lookups([LookupKey::Person("max".into())]),
            |loaded, _| {
                let Some(inbox_domain::model::DirectoryEntry::Agent(a)) =
                    loaded.context.people.get("max").cloned()
                else {
                    panic!("max is in the directory");
                };
                Ok(Decision::Command(Command::HandToAgent {
                    agent: Lookup::Found(a),
                    send_initial_message: true,
                }))
            },
        )
        .await
        .unwrap();
    let events: Vec<DomainEvent> = handed
        .outcome
        .writes
        .iter()
        .flat_map(|w| w.events.clone())
        .collect();
    let req = events
        .iter()
        .find_map(AnswerRequest::of)
        .expect("a reply request");
    (app, model, req)
}

async fn ai_messages(app: &App<SqliteStore>, conv: &str) -> Vec<String> {
    app.store()
        .list_messages("acme", conv, &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|m| m.sender.id.as_deref() == Some("max"))
        .map(|m| m.body)
        .collect()
}

#[tokio::test]
async fn a_request_delivered_twice_is_answered_once() {
    let (app, model, req) = asked("llm", vec![]).await;
    assert_eq!(
        app.answer(&req).await.unwrap(),
        Answered::Applied(AgentAnswer::Reply("Happy to help.".into()))
    );
    assert_eq!(app.answer(&req).await.unwrap(), Answered::Duplicate);
    assert_eq!(
        ai_messages(&app, &req.conversation_id).await,
        ["Happy to help."]
    );
    let calls = model.calls.lock().unwrap().clone();
    assert_eq!(calls[0][0].content, "You are Max.", "the instructions lead");
}

#[tokio::test]
async fn an_external_agent_is_not_called_and_a_session_over_calls_nothing() {
    let (app, model, req) = asked("external", vec![]).await;
    assert_eq!(app.answer(&req).await.unwrap(), Answered::NotCalled);
    assert!(model.calls.lock().unwrap().is_empty());

    let (app, model, req) = asked("llm", vec![]).await;
    app.execute(
        Plan::new(
            "acme",
            token("bob", Role::Agent),
            Target::Conversation(req.conversation_id.clone()),
        ),
        |_, _| Ok(Decision::Command(Command::EndAgentSession)),
    )
    .await
    .unwrap();
    assert_eq!(app.answer(&req).await.unwrap(), Answered::SessionOver);
    assert!(model.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refusal_that_will_not_pass_goes_to_people_at_once() {
    let refused = ModelFailure::Status {
        status: 401,
        message: "bad key".into(),
        retry_after: None,
    };
    let (app, model, req) = asked("llm", vec![Err(refused.clone())]).await;
    assert_eq!(
        app.answer(&req).await.unwrap(),
        Answered::HandedToPeople(refused)
    );
    assert_eq!(model.calls.lock().unwrap().len(), 1, "one try only");
    let conv = app
        .store()
        .load_context("acme", Some(&req.conversation_id), &[])
        .await
        .unwrap()
        .conversation
        .unwrap();
    assert!(conv.human_handoff && !conv.has_active_session());
    // Delivered again, it changes nothing more.
    assert_eq!(app.answer(&req).await.unwrap(), Answered::SessionOver);
}

#[tokio::test]
async fn a_model_that_fails_then_answers_is_tried_again() {
    let (app, model, req) = asked("llm", vec![Err(ModelFailure::Timeout)]).await;
    assert_eq!(
        app.answer(&req).await.unwrap(),
        Answered::Applied(AgentAnswer::Reply("Happy to help.".into()))
    );
    assert_eq!(model.calls.lock().unwrap().len(), 2);
}
