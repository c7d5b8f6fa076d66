//! The change feed: what a commit and a sender step stored, in commit order.

use super::SuiteConfig;
use super::delivery::{reply, step, stored_at};
use super::fixtures::{T0, Ws, commit_of, load};
use crate::port::{ChangeFeed, Store};
use inbox_domain::webhooks::{StoredChange, StoredRecord};

/// Every timeline event and message a commit stores, and every rewrite of
/// a message (a sender's claim), is on the feed in commit order, once, with
/// its workspace and conversation, until acknowledged. `feed` is the
/// store's own feed or one that follows it (the DynamoDB table's stream).
pub async fn check_change_feed<S: Store + ?Sized, F: ChangeFeed + ?Sized>(
    store: &S,
    feed: &F,
    _cfg: &SuiteConfig,
) {
    let ws = Ws::new(store, "feed").await;
    let w = ws.id.as_str();
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let conv = load(store, w, &created.conversation.id).await;
    let replied = reply(&ws, &conv, "On its way", T0.plus_seconds(1));
    store.commit(commit_of(&replied)).await.expect("reply");
    let (at, message) = stored_at(&replied);
    let pending = message.delivery.clone().expect("pending");
    let claimed = pending.claim(1, T0.plus_seconds(2)).expect("attempt 1");
    let claim = step(&message, &pending, claimed.clone(), None);
    assert!(
        store
            .put_delivery(w, &conv.id, at, &claim)
            .await
            .expect("claim")
    );

    // Each record with the version of the write that stored it.
    let mut expected: Vec<(u64, StoredRecord)> = Vec::new();
    for outcome in [&created, &replied] {
        for write in &outcome.writes {
            let v = write.conversation.version;
            expected.extend(write.timeline.iter().cloned().map(|mut e| {
                // Stored without it: the feed names the conversation beside it.
                e.conversation_id = String::new();
                (v, StoredRecord::TimelineAdded(e))
            }));
            expected.extend(
                write
                    .messages
                    .iter()
                    .cloned()
                    .map(|m| (v, StoredRecord::MessageAdded(m))),
            );
        }
    }
    let mut rewritten = message.clone();
    rewritten.delivery = Some(claimed);
    expected.push((at.version, StoredRecord::MessageRewritten(rewritten)));

    let mut seen: Vec<(String, StoredChange)> = Vec::new();
    loop {
        let page = feed.pending_changes(100).await.expect("pending_changes");
        if page.is_empty() {
            break;
        }
        let keys: Vec<String> = page.iter().map(|(k, _)| k.clone()).collect();
        seen.extend(page.into_iter().filter(|(_, c)| c.workspace_id == w));
        feed.ack_changes(&keys).await.expect("ack_changes");
    }
    assert!(
        seen.windows(2).all(|p| p[0].0 < p[1].0),
        "keys grow in commit order"
    );
    assert!(seen.iter().all(|(_, c)| c.conversation_id == conv.id));
    let records: Vec<(u64, StoredRecord)> = seen
        .into_iter()
        .map(|(_, c)| (c.version, c.record))
        .collect();
    assert_eq!(records, expected);
    assert!(
        feed.pending_changes(100).await.expect("pending").is_empty(),
        "acknowledged changes are gone"
    );
}

/// A feed opened again (a restart) goes on after what was acknowledged:
/// the rest is pending again, in order, and nothing acknowledged is.
/// `open` makes the feed anew each time it is called.
pub async fn check_change_feed_resumes<S, F, O>(store: &S, open: O, _cfg: &SuiteConfig)
where
    S: Store + ?Sized,
    F: ChangeFeed,
    O: Fn() -> F,
{
    let ws = Ws::new(store, "feed-resumes").await;
    for i in 0..3 {
        let created = ws.create(None, T0.plus_seconds(i));
        store.commit(commit_of(&created)).await.expect("a commit");
    }
    let mine = |page: Vec<(String, StoredChange)>| -> Vec<String> {
        page.into_iter()
            .filter(|(_, c)| c.workspace_id == ws.id)
            .map(|(k, _)| k)
            .collect()
    };
    let first = open();
    let all = mine(first.pending_changes(100).await.expect("pending"));
    assert_eq!(all.len(), 3, "one creation event per commit: {all:?}");
    first.ack_changes(&all[..1]).await.expect("ack");
    drop(first);
    let again = open();
    let pending = mine(again.pending_changes(100).await.expect("pending"));
    assert_eq!(pending, all[1..], "after a restart: the rest, in order");
}
