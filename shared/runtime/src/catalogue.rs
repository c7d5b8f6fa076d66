//! The catalogue: every Lambda function of the product by name, and what it
//! runs. The template is generated from it (`tests/src/infra`), and the
//! binary dispatches through it, so functions, routes and template stay in step.

use inbox_http::Action;

/// The environment variable that names the function an instance runs.
pub const FUNCTION_ENV: &str = "INBOX_FUNCTION";

/// One Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// Serves the routes of the table whose function name is this one.
    Http(&'static str),
    /// Every minute: queues the due auto-close timers.
    AutocloseSweep,
    /// Closes the conversations whose timers are still due (SQS).
    AutocloseWorker,
    /// Publishes outbox items from the table's stream to the event bus.
    EventPublisher,
    /// Invoked by hand: re-publishes what the events dead-letter queue holds.
    EventReplay,
    /// Runs job steps from the jobs queue (SQS).
    JobWorker,
    /// Sends replies to contacts through their channel's provider (SQS).
    Sender,
    /// Answers AI reply requests: calls LLM agents' models and webhook agents (SQS).
    AiAgent,
    /// The HTTP API's Lambda authorizer: verifies JWTs and API keys.
    Authorizer,
    /// Queues outgoing webhook tasks from the table's stream (the change feed).
    WebhookDispatch,
    /// Posts outgoing webhooks, lane by lane, from the webhook FIFO queue.
    WebhookSender,
    /// The WebSocket API's routes: `$connect`, `$disconnect`, `$default` (typing).
    Live,
    /// The WebSocket API's `$connect` authorizer: the HTTP authorizer's checks on `?token=`.
    LiveAuthorizer,
}

impl Function {
    /// Every function: the HTTP ones in route-table order, then the background ones.
    pub fn all() -> Vec<Function> {
        let mut all: Vec<Function> = Action::function_names()
            .into_iter()
            .map(Function::Http)
            .collect();
        all.extend([
            Function::AutocloseSweep,
            Function::AutocloseWorker,
            Function::EventPublisher,
            Function::EventReplay,
            Function::JobWorker,
            Function::Sender,
            Function::AiAgent,
            Function::Authorizer,
            Function::WebhookDispatch,
            Function::WebhookSender,
            Function::Live,
            Function::LiveAuthorizer,
        ]);
        all
    }

    /// Its name: the value of `INBOX_FUNCTION` and the stem of its template resources.
    pub const fn name(self) -> &'static str {
        match self {
            Function::Http(name) => name,
            Function::AutocloseSweep => "autoclose-sweep",
            Function::AutocloseWorker => "autoclose-worker",
            Function::EventPublisher => "event-publisher",
            Function::EventReplay => "event-replay",
            Function::JobWorker => "job-worker",
            Function::Sender => "sender",
            Function::AiAgent => "ai-agent",
            Function::Authorizer => "authorizer",
            Function::WebhookDispatch => "webhook-dispatch",
            Function::WebhookSender => "webhook-sender",
            Function::Live => "live",
            Function::LiveAuthorizer => "live-authorizer",
        }
    }

    /// The function called `name`, if the catalogue has it.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::all().into_iter().find(|f| f.name() == name)
    }

    /// The routes it serves (none for the background functions).
    pub fn routes(self) -> Vec<Action> {
        match self {
            Function::Http(name) => Action::served_by(name),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_route_has_one_function_and_every_name_is_unique() {
        let all = Function::all();
        let names: HashSet<_> = all.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), all.len());
        for &a in Action::ALL {
            let serving: Vec<_> = all.iter().filter(|f| f.routes().contains(&a)).collect();
            assert_eq!(serving.len(), 1, "{a:?}");
        }
        for f in all {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        assert_eq!(Function::from_name("nope"), None);
    }
}
