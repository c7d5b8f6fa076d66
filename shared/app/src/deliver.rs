//! The sender: one queue message is one attempt at one stored reply. It
//! claims the attempt with a conditional write, calls the provider once,
//! and records the answer; a transient failure queues the next attempt
//! with a delay, a permanent one (or the last attempt) commits `failed` with
//! its timeline event. The rules of each step are the domain's
//! (`inbox_domain::delivery`); this moves data between the store, the queue
//! and the provider.

use crate::app::App;
use crate::error::AppError;
use crate::execute::{Decision, Executed, Plan, Principal, Target};
use crate::sending::{ChannelSender, Outgoing};
use async_trait::async_trait;
use inbox_domain::delivery::{
    CHANNEL_NOT_CONFIGURED, DeliveryChange, NO_CONTACT_ADDRESS, NextStep, SendOutcome,
    reaches_by_phone, reply_address,
};
use inbox_domain::model::{DomainEvent, Message, MessageAt};
use inbox_domain::{Command, Delivery, DeliveryError, webhook_path};
use inbox_store::{DeliveryWrite, LookupKey, PageRequest, SentAs, Store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A queue message: make attempt `attempt` at the message stored at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendTask {
    /// Workspace.
    pub workspace_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
    /// Where it is stored.
    pub at: MessageAt,
    /// The channel to send on.
    pub channel_id: String,
    /// The contact.
    pub contact_id: String,
    /// The contact's address on the channel, where the conversation knows it.
    pub to: Option<String>,
    /// Which attempt this is (from 1).
    pub attempt: u32,
}

impl SendTask {
    /// The first attempt at the message of a `message.outbound` event, if
    /// it is one that goes out (it has a channel and a stored place).
    pub fn first(event: &DomainEvent) -> Option<SendTask> {
        let DomainEvent::OutboundMessage {
            workspace_id,
            conversation_id,
            channel_id: Some(channel_id),
            contact_id,
            to,
            message,
            at: Some(at),
        } = event
        else {
            return None;
        };
        message.delivery.as_ref()?;
        Some(SendTask {
            workspace_id: workspace_id.clone(),
            conversation_id: conversation_id.clone(),
            message_id: message.id.clone(),
            at: *at,
            channel_id: channel_id.clone(),
            contact_id: contact_id.clone(),
            to: to.clone(),
            attempt: 1,
        })
    }

    fn next_attempt(&self) -> SendTask {
        SendTask {
            attempt: self.attempt + 1,
            ..self.clone()
        }
    }
}

/// Where attempts wait for their turn (SQS with a message delay in AWS, a
/// task in the dev server).
#[async_trait]
pub trait SendQueue: Send + Sync {
    /// Queues `task` to arrive after `delay_millis` (at most 15 minutes);
    /// an error means it was not queued.
    async fn enqueue(&self, task: &SendTask, delay_millis: i64) -> Result<(), AppError>;
}

/// What one queue message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    /// The provider accepted it.
    Sent,
    /// It met a transient failure; the next attempt is queued.
    Retrying {
        /// After this long.
        in_millis: i64,
    },
    /// It failed for good (on the timeline).
    Failed {
        /// The provider's code, or ours.
        code: String,
    },
    /// Nothing to do: the attempt is not this message's next one (a
    /// duplicate delivery, another worker, a message already sent or failed).
    Skipped,
    /// Another sender claimed this attempt moments ago and may still be
    /// calling the provider: come back later (the queue redelivers).
    Busy,
}

impl<S> App<S> {
    /// Sends replies through `sender`, queueing retries on `queue`.
    pub fn with_sender(
        mut self,
        sender: Arc<dyn ChannelSender>,
        queue: Arc<dyn SendQueue>,
    ) -> Self {
        self.set_sender(sender, queue);
        self
    }
}

impl<S: Store> App<S> {
    /// Makes the attempt `task` names, at most once however often it is delivered.
    pub async fn deliver(&self, task: &SendTask) -> Result<Attempted, AppError> {
        let (sender, queue) = self
            .sender()
            .ok_or(AppError::Unsupported("sending replies"))?;
        let store = self.store();
        let (ws, conv) = (task.workspace_id.as_str(), task.conversation_id.as_str());
        let Some(message) = store
            .get_message(ws, conv, task.at)
            .await?
            .filter(|m| m.id == task.message_id)
        else {
            return Ok(Attempted::Skipped);
        };
        let Some(read) = message.delivery.clone() else {
            return Ok(Attempted::Skipped);
        };
        let now = self.clock().now();
        if let Some(lost) = read.interrupted(task.attempt, now) {
            // The sender that claimed it stopped before recording the answer.
            return self.give_up(task, read, lost).await;
        }
        if read.answered_transiently(task.attempt) {
            // The attempt was answered but its successor never queued (the
            // queue failed after the write): queue it now.
            let wait = inbox_domain::delivery::retry_delay_millis(task.attempt, jitter());
            queue.enqueue(&task.next_attempt(), wait).await?;
            return Ok(Attempted::Retrying { in_millis: wait });
        }
        if read.claimed_unanswered(task.attempt) {
            return Ok(Attempted::Busy);
        }
        let Some(claimed) = read.claim(task.attempt, now) else {
            return Ok(Attempted::Skipped);
        };
        if !self.put(task, &read, &claimed, None).await? {
            return Ok(Attempted::Skipped);
        }
        let outcome = self.call(sender, task, &message).await?;
        let (next, step) = claimed.answered(&outcome, jitter(), self.clock().now());
        match step {
            NextStep::Done => {
                let sent_as = match &outcome {
                    SendOutcome::Accepted {
                        provider_message_id: Some(id),
                    } => Some(SentAs {
                        channel_id: task.channel_id.clone(),
                        provider_message_id: id.clone(),
                    }),
                    _ => None,
                };
                self.put(task, &claimed, &next, sent_as).await?;
                Ok(Attempted::Sent)
            }
            NextStep::RetryIn(wait) => {
                if self.put(task, &claimed, &next, None).await? {
                    queue.enqueue(&task.next_attempt(), wait).await?;
                }
                Ok(Attempted::Retrying { in_millis: wait })
            }
            NextStep::GiveUp => self.give_up(task, claimed, next).await,
        }
    }

    /// One sender step on the message's delivery, if it is still `expected`.
    async fn put(
        &self,
        task: &SendTask,
        expected: &Delivery,
        next: &Delivery,
        sent_as: Option<SentAs>,
    ) -> Result<bool, AppError> {
        let write = DeliveryWrite {
            message_id: task.message_id.clone(),
            expected: expected.clone(),
            next: next.clone(),
            sent_as,
        };
        Ok(self
            .store()
            .put_delivery(&task.workspace_id, &task.conversation_id, task.at, &write)
            .await?)
    }

    /// Commits the message as `failed`, with its timeline event, on the conversation.
    async fn give_up(
        &self,
        task: &SendTask,
        expected: Delivery,
        failed: Delivery,
    ) -> Result<Attempted, AppError> {
        let code = failed
            .error
            .as_ref()
            .map_or_else(String::new, |e| e.code.clone());
        let change = DeliveryChange {
            message_id: task.message_id.clone(),
            at: task.at,
            expected,
            next: failed,
        };
        let plan = Plan::new(
            &task.workspace_id,
            Principal::System,
            Target::Conversation(task.conversation_id.clone()),
        );
        let done = self
            .execute(plan, |_, _| {
                Ok(Decision::Command(Command::DeliveryFailed {
                    change: change.clone(),
                }))
            })
            .await;
        match done {
            Ok(_) => Ok(Attempted::Failed { code }),
            Err(AppError::DeliveryMoved) => Ok(Attempted::Skipped),
            Err(e) => Err(e),
        }
    }

    /// The provider's answer to one call, or the refusal that stands for it
    /// when there is nothing to call (no channel, no address).
    async fn call(
        &self,
        sender: &dyn ChannelSender,
        task: &SendTask,
        message: &Message,
    ) -> Result<SendOutcome, AppError> {
        let ws = task.workspace_id.as_str();
        let context = self
            .store()
            .load_context(ws, None, &[LookupKey::Channel(task.channel_id.clone())])
            .await?;
        let Some(channel) = context.channels.get(&task.channel_id) else {
            return Ok(refused(
                CHANNEL_NOT_CONFIGURED,
                "the conversation's channel no longer exists",
            ));
        };
        // The contact is read only when their phone is the way to reach them.
        let phone = match (&task.to, reaches_by_phone(channel.kind)) {
            (None, true) => self
                .store()
                .get_contact(ws, &task.contact_id)
                .await?
                .and_then(|c| c.phone),
            _ => None,
        };
        let Some(to) = reply_address(channel.kind, task.to.as_deref(), phone.as_deref()) else {
            return Ok(refused(
                NO_CONTACT_ADDRESS,
                "the contact has not written on this channel and has no phone number it can use",
            ));
        };
        let event = DomainEvent::OutboundMessage {
            workspace_id: task.workspace_id.clone(),
            conversation_id: task.conversation_id.clone(),
            channel_id: Some(task.channel_id.clone()),
            contact_id: task.contact_id.clone(),
            to: task.to.clone(),
            message: message.clone(),
            at: Some(task.at),
        };
        let event = serde_json::to_vec(&event).map_err(|e| {
            AppError::Store(inbox_store::StoreError::Corrupt(format!(
                "serializing message.outbound: {e}"
            )))
        })?;
        let callback = self
            .public_base_url()
            .map(|base| format!("{base}{}", webhook_path(channel.kind, ws, &channel.id)));
        let outgoing = Outgoing {
            channel,
            to: &to,
            body: &message.body,
            status_callback: callback.as_deref(),
            event: &event,
            unix_now: self.clock().now().as_millis().div_euclid(1000),
        };
        Ok(sender.send(&outgoing).await)
    }
}

/// A permanent refusal of ours, for a message with nowhere to go.
fn refused(code: &str, message: &str) -> SendOutcome {
    SendOutcome::Permanent {
        error: DeliveryError {
            code: code.into(),
            message: message.into(),
        },
    }
}

/// Spreads the retries of messages that failed together.
fn jitter() -> f64 {
    rand::random::<f64>()
}

impl<S: Store> App<S> {
    /// Queues a failed message again, as `plan` says (its target is the
    /// message's conversation): it is `pending` from its first attempt and
    /// goes out as `message.outbound` once more. A message that is not
    /// `failed` (or that another retry queued meanwhile) is `not_retryable`.
    /// Returns the command carried out and the message as it is now.
    pub async fn retry_delivery(
        &self,
        plan: Plan,
        message_id: &str,
    ) -> Result<(Executed, Message), AppError> {
        let Target::Conversation(conv_id) = &plan.target else {
            return Err(AppError::NotFound("conversation"));
        };
        let ws = plan.workspace_id.as_str();
        let store = self.store();
        let conv = store
            .load_context(ws, Some(conv_id), &[])
            .await?
            .conversation
            .ok_or(AppError::NotFound("conversation"))?;
        let listed = conv
            .failed_deliveries
            .iter()
            .find(|f| f.message_id == message_id);
        let found = match listed {
            Some(f) => store
                .get_message(ws, conv_id, f.at)
                .await?
                .filter(|m| m.id == message_id)
                .map(|m| (m, f.at)),
            None => None,
        };
        let Some((message, at)) = found else {
            return Err(if self.has_message(ws, conv_id, message_id).await? {
                AppError::Domain(inbox_domain::DomainError::NotRetryable)
            } else {
                AppError::NotFound("message")
            });
        };
        let retried = message
            .delivery
            .as_ref()
            .and_then(|d| d.retried(self.clock().now()));
        let done = self
            .execute(plan, |_, _| {
                Ok(Decision::Command(Command::RetryDelivery {
                    message: message.clone(),
                    at,
                }))
            })
            .await;
        let done = match done {
            Err(AppError::DeliveryMoved) => {
                return Err(AppError::Domain(inbox_domain::DomainError::NotRetryable));
            }
            other => other?,
        };
        let queued = done
            .outcome
            .writes
            .iter()
            .find_map(|w| w.delivery.as_ref())
            .map(|d| d.next.clone())
            .or(retried);
        Ok((
            done,
            Message {
                delivery: queued,
                ..message
            },
        ))
    }

    /// Whether the conversation has a message with this id (read page by
    /// page: only a refused retry asks).
    async fn has_message(
        &self,
        ws: &str,
        conv_id: &str,
        message_id: &str,
    ) -> Result<bool, AppError> {
        let mut page = PageRequest::first(200);
        loop {
            let got = self.store().list_messages(ws, conv_id, &page).await?;
            if got.items.iter().any(|m| m.id == message_id) {
                return Ok(true);
            }
            match got.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return Ok(false),
            }
        }
    }
}
