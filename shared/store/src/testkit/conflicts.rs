//! Conflicts, duplicates and races: a losing commit writes nothing; concurrent commits land once each.

use super::SuiteConfig;
use super::commands::{Expected, apply, messages_of, secs, timeline_of};
use super::fixtures::{T0, Ws, agent_actor, commit_of, load, member};
use crate::port::{DedupeKey, DirectoryEntry, Store, StoreError};
use futures::future::join_all;
use inbox_domain::model::{Conversation, EventKind};
use inbox_domain::{Actor, Command, Outcome, receive_contact_message};

/// A stale `expected_version`, or a create of an existing conversation, is
/// `Conflict` and writes nothing of the commit: no state, timeline, message,
/// dedupe key or provisioned member, in any of its writes.
pub async fn check_conflicts<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "conflict").await;
    let w = ws.id.as_str();
    let bob = agent_actor("bob");
    let mut exp = Expected::default();
    let created = ws.create(Some("sms-main"), T0);
    let v1 = apply(store, &ws, &created, &mut exp, "create").await;

    // Creating it again conflicts.
    assert!(
        matches!(
            store.commit(commit_of(&created)).await,
            Err(StoreError::Conflict)
        ),
        "creating an existing conversation is a conflict"
    );

    let first = ws.decide(
        &v1,
        Command::PostMessage {
            body: "first".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(1),
    );
    let v2 = apply(store, &ws, &first, &mut exp, "first").await;
    let stale = ws.decide(
        &v1,
        Command::PostMessage {
            body: "stale".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(2),
    );
    let mut commit = commit_of(&stale);
    commit.dedupe = Some(DedupeKey {
        workspace_id: w.into(),
        channel_id: "sms-main".into(),
        message_id: "conflict-1".into(),
        expires_at: secs(86_400),
    });
    commit.provision = Some(member("newbie", "New Bie"));
    assert!(
        matches!(store.commit(commit).await, Err(StoreError::Conflict)),
        "a stale version is a conflict"
    );
    assert_eq!(
        load(store, w, &v1.id).await,
        v2,
        "nothing of the stale commit is written"
    );
    assert_eq!(timeline_of(store, w, &v1.id, 50).await, exp.timeline);
    assert_eq!(messages_of(store, w, &v1.id, 50).await, exp.messages);
    assert_eq!(
        store.get_person(w, "newbie").await.expect("get_person"),
        None,
        "the member of a failed commit is not provisioned"
    );

    // A commit of two writes where the second is stale writes neither.
    let other = ws.create(None, secs(3));
    let mut exp_other = Expected::default();
    let o1 = apply(store, &ws, &other, &mut exp_other, "create other").await;
    let good = ws.decide(
        &v2,
        Command::AddNote {
            body: "good".into(),
        },
        &bob,
        secs(4),
    );
    let bad = ws.decide(
        &o1,
        Command::AddNote {
            body: "will be stale".into(),
        },
        &bob,
        secs(4),
    );
    let moved = ws.decide(
        &o1,
        Command::AddNote {
            body: "moves other".into(),
        },
        &bob,
        secs(4),
    );
    let o2 = apply(store, &ws, &moved, &mut exp_other, "move other").await;
    let mut both = commit_of(&good);
    both.writes.extend(bad.writes.clone());
    assert!(matches!(
        store.commit(both).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        load(store, w, &v1.id).await,
        v2,
        "the first write of a failed commit is not written"
    );
    assert_eq!(load(store, w, &o1.id).await, o2);
    assert_eq!(timeline_of(store, w, &v1.id, 50).await, exp.timeline);
    assert_eq!(timeline_of(store, w, &o1.id, 50).await, exp_other.timeline);

    // The dedupe key of the failed commit was not kept: the same key now succeeds.
    let retry = ws.decide(
        &v2,
        Command::PostMessage {
            body: "retried".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        secs(5),
    );
    let mut commit = commit_of(&retry);
    commit.dedupe = Some(DedupeKey {
        workspace_id: w.into(),
        channel_id: "sms-main".into(),
        message_id: "conflict-1".into(),
        expires_at: secs(86_400),
    });
    commit.provision = Some(member("newbie", "New Bie"));
    store
        .commit(commit)
        .await
        .expect("retry with the same dedupe key");
    exp.record(&retry, &v1.id);
    let v3 = load(store, w, &v1.id).await;
    assert_eq!(v3, retry.conversation);
    assert_eq!(
        store.get_person(w, "newbie").await.expect("get_person"),
        Some(DirectoryEntry::Member(member("newbie", "New Bie"))),
        "a provisioned member is created with the commit"
    );

    // Provisioning an id that exists conflicts, and writes nothing.
    let again = ws.decide(
        &v3,
        Command::AddNote {
            body: "provision again".into(),
        },
        &bob,
        secs(6),
    );
    let mut commit = commit_of(&again);
    commit.provision = Some(member("newbie", "Someone Else"));
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(load(store, w, &v1.id).await, v3);
    let mut commit = commit_of(&again);
    commit.provision = Some(member("max", "Not An Agent"));
    assert!(
        matches!(store.commit(commit).await, Err(StoreError::Conflict)),
        "provisioning an AI agent's id conflicts"
    );
    assert_eq!(timeline_of(store, w, &v1.id, 50).await, exp.timeline);
    assert_eq!(messages_of(store, w, &v1.id, 50).await, exp.messages);
}

/// A reused dedupe key is `Duplicate` and writes nothing; the key is scoped
/// by workspace and channel.
pub async fn check_duplicates<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "dedupe").await;
    let other = Ws::new(store, "dedupe").await;
    let w = ws.id.as_str();
    let key = |ws: &str, channel: &str, id: &str| DedupeKey {
        workspace_id: ws.into(),
        channel_id: channel.into(),
        message_id: id.into(),
        expires_at: secs(86_400),
    };
    let deliver = |latest: Option<&Conversation>, ws: &Ws, channel: &str, body: &str, at| {
        let mut ids = ws.ids.clone();
        let actor = Actor::Contact {
            id: ws.contact.id.clone(),
        };
        let mut ctx = inbox_domain::Ctx {
            now: at,
            actor: &actor,
            settings: &ws.settings,
            ids: &mut ids,
            notes: &inbox_domain::ExtractiveNotes,
        };
        receive_contact_message(
            latest,
            &ws.id,
            &ws.contact,
            Some(inbox_domain::ChannelRef::new(
                channel,
                inbox_domain::ChannelKind::Generic,
            )),
            None,
            body,
            None,
            &mut ctx,
        )
        .expect("receive_contact_message")
    };

    // The first delivery creates the conversation.
    let first = deliver(None, &ws, "sms-main", "hello", secs(0));
    let mut commit = commit_of(&first);
    commit.dedupe = Some(key(w, "sms-main", "m-1"));
    store.commit(commit).await.expect("first delivery");
    let conv = load(store, w, &first.conversation.id).await;

    // The same delivery again, decided as a new conversation: duplicate, nothing created.
    let again_new = deliver(None, &ws, "sms-main", "hello", secs(1));
    let mut commit = commit_of(&again_new);
    commit.dedupe = Some(key(w, "sms-main", "m-1"));
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Duplicate)
    ));
    assert!(
        store
            .load_context(w, Some(&again_new.conversation.id), &[])
            .await
            .expect("load_context")
            .conversation
            .is_none(),
        "a duplicate creates nothing"
    );
    // …and decided on the current state: duplicate, nothing written.
    let again = deliver(Some(&conv), &ws, "sms-main", "hello", secs(1));
    let mut commit = commit_of(&again);
    commit.dedupe = Some(key(w, "sms-main", "m-1"));
    assert!(matches!(
        store.commit(commit).await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(load(store, w, &conv.id).await, conv);
    assert_eq!(messages_of(store, w, &conv.id, 10).await.len(), 1);
    let of_contact = store
        .conversations_of_contact(w, &ws.contact.id, &crate::PageRequest::first(10))
        .await
        .expect("conversations_of_contact")
        .items;
    assert_eq!(of_contact.len(), 1);

    // The same provider id on another channel, or in another workspace, is a new delivery.
    let other_channel = deliver(Some(&conv), &ws, "wa-main", "hello again", secs(2));
    let mut commit = commit_of(&other_channel);
    commit.dedupe = Some(key(w, "wa-main", "m-1"));
    store.commit(commit).await.expect("same id, other channel");
    let elsewhere = deliver(None, &other, "sms-main", "hello", secs(2));
    let mut commit = commit_of(&elsewhere);
    commit.dedupe = Some(key(&other.id, "sms-main", "m-1"));
    store
        .commit(commit)
        .await
        .expect("same key, other workspace");
    assert_eq!(messages_of(store, w, &conv.id, 10).await.len(), 2);
}

/// `concurrency` tasks commit notes decided on the same version: exactly one
/// wins. Then each retries (re-read, re-decide) until it lands: every note
/// lands once, and the version grows by exactly one per note.
pub async fn check_concurrent_commits<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let ws = Ws::new(store, "race").await;
    let w = ws.id.as_str();
    let n = cfg.concurrency.max(2);
    let created = ws.create(Some("sms-main"), T0);
    store.commit(commit_of(&created)).await.expect("create");
    let id = created.conversation.id.clone();
    let bob = agent_actor("bob");

    // All read the same version, then all commit: exactly one wins.
    let reads = join_all((0..n).map(|_| load(store, w, &id))).await;
    let decisions: Vec<Outcome> = reads
        .iter()
        .enumerate()
        .map(|(i, conv)| {
            ws.decide(
                conv,
                Command::AddNote {
                    body: format!("racer {i}"),
                },
                &bob,
                secs(1),
            )
        })
        .collect();
    let results = join_all(decisions.iter().map(|d| store.commit(commit_of(d)))).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict)))
        .count();
    assert_eq!(
        wins, 1,
        "exactly one of the commits on one version wins: {results:?}"
    );
    assert_eq!(conflicts, n - 1, "the others conflict: {results:?}");
    let after_race = load(store, w, &id).await;
    assert_eq!(after_race.version, created.conversation.version + 1);
    let notes_after_race = timeline_of(store, w, &id, 200)
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::NoteAdded { .. }))
        .count();
    assert_eq!(
        notes_after_race, wins,
        "exactly the winners' notes are stored"
    );

    // Re-decide on conflict until every note lands.
    let workers = (0..n).map(|i| {
        let (ws, bob, id) = (&ws, &bob, &id);
        async move {
            for attempt in 0..(n * 10) {
                let conv = load(store, &ws.id, id).await;
                let out = ws.decide(
                    &conv,
                    Command::AddNote {
                        body: format!("worker {i}"),
                    },
                    bob,
                    secs(2),
                );
                match store.commit(commit_of(&out)).await {
                    Ok(()) => return attempt,
                    Err(StoreError::Conflict) => tokio::task::yield_now().await,
                    Err(e) => panic!("worker {i}: {e}"),
                }
            }
            panic!("worker {i} never landed its note");
        }
    });
    join_all(workers).await;
    let last = load(store, w, &id).await;
    assert_eq!(
        last.version,
        after_race.version + u64::try_from(n).unwrap_or(0),
        "the version grows by one per landed note"
    );
    let timeline = timeline_of(store, w, &id, 200).await;
    let mut bodies: Vec<String> = timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NoteAdded { body, .. } if body.starts_with("worker ") => Some(body.clone()),
            _ => None,
        })
        .collect();
    bodies.sort();
    let mut wanted: Vec<String> = (0..n).map(|i| format!("worker {i}")).collect();
    wanted.sort();
    assert_eq!(bodies, wanted, "every worker's note is stored exactly once");
    let mut ids: Vec<&str> = timeline.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        timeline.len(),
        "no timeline event is stored twice"
    );
}

/// A commit names its workspace, and every adapter treats it alike: one that
/// only provisions a member adds them to that workspace's directory (and is
/// `Conflict` when the id is taken); one whose conversation, dedupe key or
/// member belongs elsewhere is `InvalidCommit` and writes nothing.
pub async fn check_commit_workspace<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "commit-ws").await;
    let other = Ws::new(store, "commit-ws-other").await;
    let w = ws.id.as_str();

    let mut only = crate::port::Commit::new(w);
    only.provision = Some(member("fresh", "Fresh Face"));
    store
        .commit(only.clone())
        .await
        .expect("a provision-only commit");
    assert!(
        matches!(
            store.get_person(w, "fresh").await.expect("get_person"),
            Some(DirectoryEntry::Member(m)) if m.name == "Fresh Face"
        ),
        "the member is in the commit's workspace"
    );
    assert_eq!(
        store
            .get_person(&other.id, "fresh")
            .await
            .expect("get_person"),
        None,
        "and only there"
    );
    assert!(
        matches!(store.commit(only).await, Err(StoreError::Conflict)),
        "provisioning a listed id again is a conflict"
    );

    // A conversation of another workspace in this workspace's commit.
    let theirs = other.create(None, T0);
    let mut strayed = crate::port::Commit::new(w).with_writes(theirs.writes.clone());
    strayed.provision = Some(member("stray", "Stray"));
    assert!(
        matches!(
            store.commit(strayed).await,
            Err(StoreError::InvalidCommit(_))
        ),
        "a commit into another workspace is refused"
    );
    assert_eq!(
        store
            .load_context(&other.id, Some(&theirs.conversation.id), &[])
            .await
            .expect("load_context")
            .conversation,
        None,
        "nothing of a refused commit is written"
    );
    assert_eq!(
        store.get_person(w, "stray").await.expect("get_person"),
        None
    );

    let mut foreign_key = crate::port::Commit::new(w).with_writes(ws.create(None, T0).writes);
    foreign_key.dedupe = Some(DedupeKey {
        workspace_id: other.id.clone(),
        channel_id: "sms-main".into(),
        message_id: "stray-1".into(),
        expires_at: secs(86_400),
    });
    assert!(matches!(
        store.commit(foreign_key).await,
        Err(StoreError::InvalidCommit(_))
    ));
}
