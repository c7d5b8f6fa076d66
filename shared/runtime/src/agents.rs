//! AI agents in AWS: an EventBridge rule puts every `ai.reply_requested`
//! event on the agents' queue; the `ai-agent` function answers the records
//! of a batch at once, each through `App::answer` (an LLM agent's model or
//! a webhook agent's URL, then the answer applied as the agent). A record
//! that failed inside the inbox (a store failure) is reported as a batch
//! item failure and comes back after the visibility timeout; an answer
//! already applied is not applied twice (its dedupe key).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use inbox_app::App;
use inbox_domain::agents::AnswerRequest;
use inbox_store::Store;

/// The request a record carries: the rule's EventBridge envelope of an
/// `ai.reply_requested` event. `None` for anything else.
pub fn request_of(body: &str) -> Option<AnswerRequest> {
    AnswerRequest::of(&crate::sqs::bus_event(body)?)
}

/// Answers every record, at once; names in the response the records to
/// deliver again.
pub async fn agent_worker<S: Store>(app: &App<S>, event: &SqsEvent) -> SqsBatchResponse {
    crate::sqs::each_record(event, |r| answer(app, r)).await
}

/// One record: `Some(its id)` when it must come back.
async fn answer<S: Store>(app: &App<S>, record: &SqsMessage) -> Option<String> {
    let id = record.message_id.clone().unwrap_or_default();
    let Some(req) = record.body.as_deref().and_then(request_of) else {
        tracing::error!(message_id = %id, "an agents' queue record that is no reply request; acknowledged");
        return None;
    };
    match app.answer(&req).await {
        Ok(done) => {
            tracing::info!(conversation = %req.conversation_id, agent = %req.agent_id, outcome = ?done, "reply request answered");
            None
        }
        Err(e) => {
            tracing::warn!(conversation = %req.conversation_id, error = %e, "answering failed; will be retried");
            Some(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_the_rules_envelope_of_a_reply_request() {
        let envelope = serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "ai.reply_requested", "source": "inbox",
            "account": "1", "time": "2026-12-03T08:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"workspace_id": "acme", "conversation_id": "conv_1", "agent_id": "max",
                       "session_id": "ses_1", "trigger": "contact_message", "message_id": "msg_1"}
        });
        let req = request_of(&envelope.to_string()).unwrap();
        assert_eq!(
            (req.agent_id.as_str(), req.key().as_str()),
            ("max", "aireq_ses_1_msg_1")
        );
        let mut other = envelope;
        other["detail-type"] = "message.outbound".into();
        assert_eq!(request_of(&other.to_string()), None);
        assert_eq!(request_of("not json"), None);
    }
}
