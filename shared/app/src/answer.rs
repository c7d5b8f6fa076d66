//! AI agents that answer: one `ai.reply_requested` taken from the queue,
//! its agent asked (an LLM agent's model, a webhook agent's URL), and the
//! answer applied through [`App::execute`] as the agent, under the
//! domain's race rule: an answer for a session that ended meanwhile is
//! `ai_paused`, discarded, never stored or sent. An agent that gives no
//! usable answer after its tries hands the conversation to people.

use crate::app::App;
use crate::error::AppError;
use crate::execute::{Decision, Plan, Principal, Target, Token};
use crate::webhooks::{CallAnswer, WebhookPost};
use inbox_domain::agents::{
    AgentAnswer, AgentKind, AnswerRequest, read_webhook_answer, reply_request_event,
    wait_before_try, webhook_status_failure,
};
use inbox_domain::llm::{ModelFailure, prompt};
use inbox_domain::model::{AiAgent, Conversation, DirectoryEntry, Message};
use inbox_domain::webhooks::RESPONSE_TIMEOUT_SECONDS;
use inbox_domain::{Command, DomainError, Role};
use inbox_store::{DedupeKey, LookupKey, Store};
use std::time::{Duration, Instant};

/// How long an answer's dedupe key is kept: longer than any queue keeps a message.
const ANSWER_DEDUPE_SECONDS: i64 = 7 * 24 * 60 * 60;

/// What became of a reply request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// Nothing to call: the agent is `external` (it answers through the
    /// API), or it or the conversation is gone.
    NotCalled,
    /// The session had ended before the agent was asked.
    SessionOver,
    /// The agent's answer was applied: its reply posted, or a human asked for.
    Applied(AgentAnswer),
    /// A webhook agent took the request and will answer through the API.
    Acknowledged,
    /// The session ended while the agent was thinking: the answer was
    /// discarded (`ai_paused`), nothing stored or sent.
    Discarded,
    /// This request was answered already (a duplicate queue delivery).
    Duplicate,
    /// No usable answer after the tries: the conversation went to people
    /// (`ai_unavailable`), if the session was still active.
    HandedToPeople(ModelFailure),
}

impl<S: Store> App<S> {
    /// Answers one reply request (see the module docs). An error is a
    /// store failure: the request is to be delivered again.
    pub async fn answer(&self, req: &AnswerRequest) -> Result<Answered, AppError> {
        let store = self.store();
        // The agent and the conversation in one read.
        let mut context = store
            .load_context(
                &req.workspace_id,
                Some(&req.conversation_id),
                &[LookupKey::Person(req.agent_id.clone())],
            )
            .await?;
        let Some(DirectoryEntry::Agent(agent)) = context.people.remove(&req.agent_id) else {
            return Ok(Answered::NotCalled);
        };
        let history = match &agent.answers {
            AgentKind::External => return Ok(Answered::NotCalled),
            AgentKind::Webhook(w) => w.history_messages,
            AgentKind::Llm(l) => l.history_messages,
        };
        let Some(conv) = context.conversation else {
            return Ok(Answered::NotCalled);
        };
        if !req.is_current(&conv) {
            return Ok(Answered::SessionOver);
        }
        let messages = store
            .latest_messages(&req.workspace_id, &req.conversation_id, history)
            .await?;
        match self.ask(&agent, req, &conv, &messages).await {
            Ok(Some(answer)) => self.apply_answer(req, answer).await,
            Ok(None) => Ok(Answered::Acknowledged),
            Err(failure) => self.hand_to_people(req, failure).await,
        }
    }

    /// Asks the agent, up to the domain's tries within its deadline;
    /// `None` is a webhook agent's acknowledgement.
    async fn ask(
        &self,
        agent: &AiAgent,
        req: &AnswerRequest,
        conv: &Conversation,
        messages: &[Message],
    ) -> Result<Option<AgentAnswer>, ModelFailure> {
        // What every try sends, made once: the same prompt, the same bytes.
        let turns = match &agent.answers {
            AgentKind::Llm(llm) => {
                prompt(&llm.instructions, &agent.id, messages, llm.history_messages)
            }
            _ => Vec::new(),
        };
        let event = reply_request_event(req, conv, messages, self.clock().now());
        let body = event.body();
        let started = Instant::now();
        let mut tries = 1;
        loop {
            let (result, try_millis) = match &agent.answers {
                AgentKind::Llm(llm) => {
                    let model = self
                        .chat_model()
                        .ok_or_else(|| ModelFailure::Unreachable("no model client here".into()))?;
                    let got = model.complete(&llm.endpoint(), &turns).await;
                    (got.map(|a| Some(a.into())), llm.timeout_seconds * 1_000)
                }
                AgentKind::Webhook(hook) => (
                    self.call_webhook_agent(&hook.url, &hook.secret, &event.id, &body)
                        .await,
                    RESPONSE_TIMEOUT_SECONDS * 1_000,
                ),
                AgentKind::External => return Ok(None),
            };
            let failure = match result {
                Ok(answer) => return Ok(answer),
                Err(f) => f,
            };
            tries += 1;
            let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match wait_before_try(tries, &failure, elapsed, try_millis) {
                Some(wait) => {
                    tracing::info!(
                        agent = %agent.id, conversation = %req.conversation_id,
                        error = %failure, next_try = tries, "the AI agent did not answer; trying again"
                    );
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                None => return Err(failure),
            }
        }
    }

    /// One signed POST of the request's event to a webhook agent, its answer read.
    async fn call_webhook_agent(
        &self,
        url: &str,
        secret: &str,
        event_id: &str,
        body: &str,
    ) -> Result<Option<AgentAnswer>, ModelFailure> {
        let (transport, _) = self
            .webhooks()
            .ok_or_else(|| ModelFailure::Unreachable("no webhook transport here".into()))?;
        let post = WebhookPost {
            url,
            secret,
            event_id,
            body,
            unix_now: self.clock().now().unix_seconds(),
        };
        match transport.call(&post).await {
            CallAnswer::Answered { status, body } if (200..300).contains(&status) => {
                read_webhook_answer(&body)
            }
            CallAnswer::Answered { status, .. } => Err(webhook_status_failure(status)),
            CallAnswer::NoAnswer => Err(ModelFailure::Unreachable(
                "the agent's webhook gave no answer in time".into(),
            )),
        }
    }

    /// Applies an answer as the agent, once per request.
    async fn apply_answer(
        &self,
        req: &AnswerRequest,
        answer: AgentAnswer,
    ) -> Result<Answered, AppError> {
        let plan = Plan::new(
            req.workspace_id.clone(),
            Principal::Token(Token {
                sub: req.agent_id.clone(),
                role: Role::AiAgent,
                name: None,
            }),
            Target::Conversation(req.conversation_id.clone()),
        )
        .with_dedupe(self.answer_key(req));
        let cmd = Command::AgentAnswer {
            session_id: req.session_id.clone(),
            answer: answer.clone(),
        };
        match self
            .execute(plan, move |_, _| Ok(Decision::Command(cmd.clone())))
            .await
        {
            Ok(_) => Ok(Answered::Applied(answer)),
            Err(AppError::Domain(DomainError::AiPaused)) => Ok(Answered::Discarded),
            Err(AppError::Duplicate) => Ok(Answered::Duplicate),
            Err(AppError::NotFound(_)) => Ok(Answered::NotCalled),
            // An answer the rules refuse (too long, a closed reply window):
            // the contact must not wait on it.
            Err(AppError::Domain(refused)) => {
                let failure = ModelFailure::Malformed(format!("the answer was refused: {refused}"));
                self.hand_to_people(req, failure).await
            }
            Err(e) => Err(e),
        }
    }

    /// The agent could not answer: people take over, once per request.
    async fn hand_to_people(
        &self,
        req: &AnswerRequest,
        failure: ModelFailure,
    ) -> Result<Answered, AppError> {
        tracing::warn!(
            agent = %req.agent_id, conversation = %req.conversation_id, error = %failure,
            "the AI agent could not answer; the conversation goes to people"
        );
        let plan = Plan::new(
            req.workspace_id.clone(),
            Principal::System,
            Target::Conversation(req.conversation_id.clone()),
        )
        .with_dedupe(self.answer_key(req));
        let cmd = Command::AiUnavailable {
            session_id: req.session_id.clone(),
        };
        match self
            .execute(plan, move |_, _| Ok(Decision::Command(cmd.clone())))
            .await
        {
            Ok(_) | Err(AppError::NotFound(_)) => Ok(Answered::HandedToPeople(failure)),
            Err(AppError::Duplicate) => Ok(Answered::Duplicate),
            Err(e) => Err(e),
        }
    }

    /// One answer per request, whichever worker gets there first.
    fn answer_key(&self, req: &AnswerRequest) -> DedupeKey {
        DedupeKey {
            workspace_id: req.workspace_id.clone(),
            channel_id: format!("agent:{}", req.agent_id),
            message_id: req.key(),
            expires_at: self.clock().now().plus_seconds(ANSWER_DEDUPE_SECONDS),
        }
    }
}
