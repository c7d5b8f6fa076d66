//! Ordering: timeline events and messages in commit order, through pages of every size.

use super::SuiteConfig;
use super::commands::{Expected, apply, messages_of, secs, timeline_of};
use super::fixtures::{T0, Ws, agent_actor, member};
use crate::port::Store;
use inbox_domain::model::Lookup;
use inbox_domain::{Actor, Command};

/// Timeline events and messages list in commit order (version of the write,
/// then position in it) through pages of every size, per conversation;
/// `latest_messages` returns the latest n oldest first.
pub async fn check_timeline_and_messages<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "order").await;
    let w = ws.id.as_str();
    let bob = agent_actor("bob");
    let mut exp_a = Expected::default();
    let mut exp_b = Expected::default();
    let a = ws.create(Some("sms-main"), T0);
    let b = ws.create(Some("sms-main"), T0);
    let mut conv_a = apply(store, &ws, &a, &mut exp_a, "create a").await;
    let mut conv_b = apply(store, &ws, &b, &mut exp_b, "create b").await;
    let contact = Actor::Contact {
        id: ws.contact.id.clone(),
    };
    // Interleaved writes; some with several events and a message each.
    for i in 0..12_i64 {
        let at = secs(i);
        let cmd = |n: i64| match n % 3 {
            0 => (
                Command::ContactMessage {
                    body: format!("contact message {n}"),
                    channel_message_id: None,
                    first_agent: None,
                },
                &contact,
            ),
            1 => (
                Command::PostMessage {
                    body: format!("reply {n}"),
                    on_closed: None,
                    sender: None,
                },
                &bob,
            ),
            _ => (
                Command::AddNote {
                    body: format!("note {n}"),
                },
                &bob,
            ),
        };
        let (c, actor) = cmd(i);
        let out = ws.decide(&conv_a, c, actor, at);
        conv_a = apply(store, &ws, &out, &mut exp_a, "a").await;
        let (c, actor) = cmd(i + 1);
        let out = ws.decide(&conv_b, c, actor, at);
        conv_b = apply(store, &ws, &out, &mut exp_b, "b").await;
        if i == 5 {
            // Several events in one write: the session ends, the assignee is cleared, the agent starts.
            let assign = ws.decide(
                &conv_a,
                Command::Assign {
                    target: Lookup::Found(member("bob", "Bob Ray")),
                },
                &bob,
                at,
            );
            conv_a = apply(store, &ws, &assign, &mut exp_a, "assign").await;
            let hand = ws.decide(
                &conv_a,
                Command::HandToAgent {
                    agent: Lookup::Found(inbox_domain::AiAgent::external("max", "Max")),
                    send_initial_message: false,
                },
                &bob,
                at,
            );
            assert!(hand.writes[0].timeline.len() >= 2);
            conv_a = apply(store, &ws, &hand, &mut exp_a, "hand").await;
            let replace = ws.decide(
                &conv_a,
                Command::HandToAgent {
                    agent: Lookup::Found(inbox_domain::AiAgent::external("max", "Max")),
                    send_initial_message: true,
                },
                &bob,
                at,
            );
            conv_a = apply(store, &ws, &replace, &mut exp_a, "replace session").await;
        }
    }
    for limit in [1, 2, 3, 5, 200] {
        assert_eq!(
            timeline_of(store, w, &conv_a.id, limit).await,
            exp_a.timeline,
            "timeline a, limit {limit}"
        );
        assert_eq!(
            timeline_of(store, w, &conv_b.id, limit).await,
            exp_b.timeline,
            "timeline b, limit {limit}"
        );
        assert_eq!(
            messages_of(store, w, &conv_a.id, limit).await,
            exp_a.messages,
            "messages a, limit {limit}"
        );
        assert_eq!(
            messages_of(store, w, &conv_b.id, limit).await,
            exp_b.messages,
            "messages b, limit {limit}"
        );
    }
    for n in [0, 1, 5, 100] {
        let latest = store
            .latest_messages(w, &conv_a.id, n)
            .await
            .expect("latest_messages");
        let from = exp_a.messages.len().saturating_sub(n);
        assert_eq!(
            latest,
            exp_a.messages[from..].to_vec(),
            "latest_messages({n})"
        );
    }
    let none = store
        .list_timeline(w, "conv_missing", &crate::port::PageRequest::first(10))
        .await
        .expect("timeline of a missing conversation");
    assert!(none.items.is_empty() && none.next_cursor.is_none());
}
