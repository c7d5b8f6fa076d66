//! Settings, directory, contacts and tenant isolation.

use super::SuiteConfig;
use super::fixtures::{
    SharedIds, T0, Ws, agent_actor, channel, collect, commit_of, load, member, run_tag,
};
use crate::port::{DirectoryEntry, PageRequest, Store, StoreError};
use futures::future::join_all;
use inbox_domain::ids::{IdGen, IdKind};
use inbox_domain::model::{
    ActorKind, ActorRef, AiAgent, Contact, ContactNote, Conversation, MemberFlags, Team,
};
use inbox_domain::{Command, Role, Settings, Timestamp};

/// Settings default until set; members, AI agents, teams and channels are
/// created, replaced, listed by id and removed; an id is a member or an AI
/// agent, never both (`Conflict`, and the existing entry stays);
/// `provision_member` creates only a free id.
pub async fn check_directory<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let w = format!("ws-directory-{}", run_tag());
    let w = w.as_str();
    assert_eq!(
        store.get_settings(w).await.expect("get_settings"),
        Settings::default(),
        "settings default until set"
    );
    let mut settings = Settings::default();
    settings.auto_close.enabled = true;
    settings.auto_close.after_seconds = 120;
    settings.closing_notes.categories = vec!["billing".into(), "bug".into()];
    store
        .put_settings(w, &settings)
        .await
        .expect("put_settings");
    assert_eq!(store.get_settings(w).await.expect("get_settings"), settings);

    assert!(
        store
            .list_members(w)
            .await
            .expect("list_members")
            .is_empty()
    );
    for (id, name) in [
        ("zoe", "Zoe Q"),
        ("bob", "Bob Ray"),
        ("carol", "Carol Diaz"),
    ] {
        store
            .put_member(w, &member(id, name))
            .await
            .expect("put_member");
    }
    let ids: Vec<String> = store
        .list_members(w)
        .await
        .expect("list_members")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["bob", "carol", "zoe"], "members list by id");
    let mut renamed = member("bob", "Robert Ray");
    renamed.role = Role::Admin;
    renamed.email = None;
    store.put_member(w, &renamed).await.expect("replace member");
    assert_eq!(
        store.get_person(w, "bob").await.expect("get_person"),
        Some(DirectoryEntry::Member(renamed.clone()))
    );
    store.delete_member(w, "zoe").await.expect("delete_member");
    store
        .delete_member(w, "zoe")
        .await
        .expect("deleting an absent member is a no-op");
    assert_eq!(store.get_person(w, "zoe").await.expect("get_person"), None);
    assert_eq!(store.list_members(w).await.expect("list_members").len(), 2);

    let max = AiAgent::external("max", "Max");
    let ada = AiAgent::external("ada", "Ada");
    store.put_agent(w, &max).await.expect("put_agent");
    store.put_agent(w, &ada).await.expect("put_agent");
    assert_eq!(
        store.list_agents(w).await.expect("list_agents"),
        vec![ada.clone(), max.clone()],
        "agents list by id"
    );
    assert_eq!(
        store.get_person(w, "max").await.expect("get_person"),
        Some(DirectoryEntry::Agent(max.clone()))
    );
    assert!(
        matches!(
            store.put_member(w, &member("max", "Max Member")).await,
            Err(StoreError::Conflict)
        ),
        "a member cannot take an AI agent's id"
    );
    assert!(
        matches!(
            store
                .put_agent(w, &AiAgent::external("bob", "Bob Bot"))
                .await,
            Err(StoreError::Conflict)
        ),
        "an AI agent cannot take a member's id"
    );
    assert_eq!(
        store.get_person(w, "max").await.expect("get_person"),
        Some(DirectoryEntry::Agent(max.clone())),
        "the refused put changed nothing"
    );
    assert_eq!(
        store.get_person(w, "bob").await.expect("get_person"),
        Some(DirectoryEntry::Member(renamed))
    );
    assert_eq!(store.list_members(w).await.expect("list_members").len(), 2);
    store.delete_agent(w, "ada").await.expect("delete_agent");
    assert_eq!(store.list_agents(w).await.expect("list_agents"), vec![max]);
    // Just-in-time provisioning creates only where the id names nobody.
    store
        .provision_member(w, &member("newcomer", "New Comer"))
        .await
        .expect("provision_member");
    assert_eq!(
        store.get_person(w, "newcomer").await.expect("get_person"),
        Some(DirectoryEntry::Member(member("newcomer", "New Comer")))
    );
    for taken in ["newcomer", "max"] {
        assert!(
            matches!(
                store
                    .provision_member(w, &member(taken, "Someone Else"))
                    .await,
                Err(StoreError::Conflict)
            ),
            "provisioning a taken id ({taken}) conflicts"
        );
    }
    assert_eq!(
        store.get_person(w, "newcomer").await.expect("get_person"),
        Some(DirectoryEntry::Member(member("newcomer", "New Comer"))),
        "a refused provisioning changes nothing"
    );
    store
        .delete_member(w, "newcomer")
        .await
        .expect("delete_member");
    // After removal the id is free for the other kind.
    store
        .put_member(w, &member("ada", "Ada Human"))
        .await
        .expect("reuse a removed agent's id");

    let support = Team {
        id: "support".into(),
        name: "Support".into(),
        member_ids: vec!["bob".into(), "carol".into()],
    };
    let sales = Team {
        id: "sales".into(),
        name: "Sales".into(),
        member_ids: vec![],
    };
    store.put_team(w, &support).await.expect("put_team");
    store.put_team(w, &sales).await.expect("put_team");
    assert_eq!(
        store.list_teams(w).await.expect("list_teams"),
        vec![sales.clone(), support.clone()]
    );
    let mut support2 = support.clone();
    support2.member_ids = vec!["carol".into()];
    store.put_team(w, &support2).await.expect("replace team");
    assert_eq!(
        store.get_team(w, "support").await.expect("get_team"),
        Some(support2)
    );
    store.delete_team(w, "sales").await.expect("delete_team");
    assert_eq!(store.get_team(w, "sales").await.expect("get_team"), None);
    assert_eq!(store.list_teams(w).await.expect("list_teams").len(), 1);

    let mut sms = channel("sms-main");
    store.put_channel(w, &sms).await.expect("put_channel");
    store
        .put_channel(w, &channel("a-first"))
        .await
        .expect("put_channel");
    sms.verify_token = Some("verify-me".into());
    sms.secret = "rotated".into();
    store.put_channel(w, &sms).await.expect("replace channel");
    assert_eq!(
        store.get_channel(w, "sms-main").await.expect("get_channel"),
        Some(sms.clone()),
        "a channel is stored with its secret"
    );
    let ids: Vec<String> = store
        .list_channels(w)
        .await
        .expect("list_channels")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["a-first", "sms-main"]);
    assert_eq!(
        store.get_channel(w, "nope").await.expect("get_channel"),
        None
    );
}

/// Contacts: create, read, update atomically with the conversation writes
/// that refresh their snapshots (a conflict updates neither); notes list
/// oldest first, paged; a contact's conversations list newest first.
pub async fn check_contacts<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let ws = Ws::new(store, "contacts").await;
    let w = ws.id.as_str();
    assert_eq!(
        store
            .get_contact(w, &ws.contact.id)
            .await
            .expect("get_contact"),
        Some(ws.contact.clone())
    );
    assert_eq!(
        store
            .get_contact(w, "ct_missing")
            .await
            .expect("get_contact"),
        None
    );

    let mut convs = Vec::new();
    for i in 0..3 {
        let out = ws.create(Some("sms-main"), T0.plus_seconds(i));
        store.commit(commit_of(&out)).await.expect("create");
        convs.push(out.conversation);
    }
    let newest: Vec<String> = convs.iter().rev().map(|c| c.id.clone()).collect();
    let listed: Vec<String> = store
        .conversations_of_contact(w, &ws.contact.id, &PageRequest::first(10))
        .await
        .expect("conversations_of_contact")
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, newest, "newest created first");
    let two = store
        .conversations_of_contact(w, &ws.contact.id, &PageRequest::first(2))
        .await
        .expect("conversations_of_contact");
    assert_eq!(two.items.len(), 2);
    assert_eq!(two.items[0].id, newest[0]);
    // The cursor walks the rest, each conversation once.
    let mut walked: Vec<String> = two.items.iter().map(|c| c.id.clone()).collect();
    let mut next = two.next_cursor.clone();
    while let Some(cursor) = next {
        let page = store
            .conversations_of_contact(
                w,
                &ws.contact.id,
                &PageRequest {
                    limit: 2,
                    cursor: Some(cursor),
                },
            )
            .await
            .expect("conversations_of_contact page");
        walked.extend(page.items.iter().map(|c| c.id.clone()));
        next = page.next_cursor;
    }
    assert_eq!(walked, newest, "the cursor walks every conversation once");

    // Update with the snapshot refresh of every conversation, atomically.
    let mut renamed = ws.contact.clone();
    renamed.name = Some("Ann Lee".into());
    renamed.phone = Some("+15550100".into());
    let bob = agent_actor("bob");
    let refresh = |c: &Conversation, contact: &Contact| {
        ws.decide(
            c,
            Command::ContactChanged {
                contact: contact.clone(),
            },
            &bob,
            T0.plus_seconds(10),
        )
    };
    let mut commit = crate::port::Commit::new(w);
    for c in &convs {
        commit.writes.extend(refresh(c, &renamed).writes);
    }
    store
        .update_contact(w, &renamed, commit)
        .await
        .expect("update_contact");
    assert_eq!(
        store
            .get_contact(w, &renamed.id)
            .await
            .expect("get_contact"),
        Some(renamed.clone())
    );
    let mut refreshed = Vec::new();
    for c in &convs {
        let stored = load(store, w, &c.id).await;
        assert_eq!(
            stored.contact,
            renamed.snapshot(),
            "the snapshot is refreshed"
        );
        assert_eq!(stored.version, c.version + 1);
        refreshed.push(stored);
    }
    // A stale refresh conflicts and leaves the contact as it was.
    let mut blocked = renamed.clone();
    blocked.blocked = true;
    let mut stale = crate::port::Commit::new(w);
    stale.writes.extend(refresh(&refreshed[0], &blocked).writes);
    stale.writes.extend(refresh(&convs[1], &blocked).writes);
    assert!(matches!(
        store.update_contact(w, &blocked, stale).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .get_contact(w, &renamed.id)
            .await
            .expect("get_contact"),
        Some(renamed.clone()),
        "a failed update changes nothing"
    );
    assert_eq!(load(store, w, &convs[0].id).await, refreshed[0]);

    // Notes, oldest first, per contact.
    let mut ids = ws.ids.clone();
    let other = Contact {
        id: ids.new_id(IdKind::Contact),
        name: None,
        email: None,
        phone: None,
        blocked: false,
        created_at: T0,
    };
    store
        .create_contact(w, &other)
        .await
        .expect("create_contact");
    let mut notes = Vec::new();
    for i in 0..(cfg.page_limit + 3) {
        let at = T0.plus_seconds(i64::try_from(i).unwrap_or(0));
        for (contact, list) in [(&renamed, Some(&mut notes)), (&other, None)] {
            let note = ContactNote {
                id: ids.new_id(IdKind::Note),
                contact_id: contact.id.clone(),
                body: format!("note {i}"),
                author: ActorRef {
                    kind: ActorKind::Member,
                    id: Some("bob".into()),
                },
                created_at: at,
            };
            store
                .add_contact_note(w, &note)
                .await
                .expect("add_contact_note");
            if let Some(list) = list {
                list.push(note);
            }
        }
    }
    for limit in [1, 2, cfg.page_limit, 200] {
        let listed = collect("contact notes", limit, |p| {
            let id = renamed.id.as_str();
            async move { store.list_contact_notes(w, id, &p).await }
        })
        .await;
        assert_eq!(listed, notes, "contact notes (limit {limit})");
    }
    let page = store
        .list_contact_notes(w, &other.id, &PageRequest::first(200))
        .await
        .expect("list_contact_notes");
    assert_eq!(page.items.len(), notes.len());
    assert!(page.items.iter().all(|n| n.contact_id == other.id));
}

/// `concurrency` simultaneous first messages from one sender get one contact;
/// later calls find it; another channel's sender is another contact.
pub async fn check_contact_for_sender_race<S: Store + ?Sized>(store: &S, cfg: &SuiteConfig) {
    let ws = Ws::new(store, "sender").await;
    let w = ws.id.as_str();
    let n = cfg.concurrency.max(2);
    let candidate = |ids: &mut SharedIds, i: usize| Contact {
        id: ids.new_id(IdKind::Contact),
        name: Some(format!("Sender {i}")),
        email: None,
        phone: Some("+15550199".into()),
        blocked: false,
        created_at: T0,
    };
    let mut ids = ws.ids.clone();
    let candidates: Vec<Contact> = (0..n).map(|i| candidate(&mut ids, i)).collect();
    let results = join_all(
        candidates
            .iter()
            .map(|c| store.contact_for_sender(w, "sms-main", "+15550199", c)),
    )
    .await;
    let contacts: Vec<Contact> = results
        .into_iter()
        .map(|r| r.expect("contact_for_sender"))
        .collect();
    let winner = contacts[0].clone();
    assert!(
        contacts.iter().all(|c| *c == winner),
        "every concurrent first message gets the same contact"
    );
    assert!(
        candidates.contains(&winner),
        "the contact is one of the candidates"
    );
    for c in &candidates {
        let stored = store.get_contact(w, &c.id).await.expect("get_contact");
        if c.id == winner.id {
            assert_eq!(stored, Some(winner.clone()));
        } else {
            assert_eq!(stored, None, "a losing candidate is not stored");
        }
    }
    let later = store
        .contact_for_sender(w, "sms-main", "+15550199", &candidate(&mut ids, n))
        .await
        .expect("contact_for_sender");
    assert_eq!(later, winner);
    let elsewhere_candidate = candidate(&mut ids, n + 1);
    let elsewhere = store
        .contact_for_sender(w, "wa-main", "+15550199", &elsewhere_candidate)
        .await
        .expect("contact_for_sender");
    assert_eq!(
        elsewhere, elsewhere_candidate,
        "another channel's sender is another contact"
    );
    let other_ws = Ws::new(store, "sender").await;
    let theirs = candidate(&mut ids, n + 2);
    assert_eq!(
        store
            .contact_for_sender(&other_ws.id, "sms-main", "+15550199", &theirs)
            .await
            .expect("contact_for_sender"),
        theirs,
        "another workspace's sender is another contact"
    );
}

/// Nothing of one workspace is visible from another, even under the same ids.
pub async fn check_tenant_isolation<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let a = Ws::new(store, "tenant").await;
    let b = Ws::new(store, "tenant").await;
    let (wa, wb) = (a.id.as_str(), b.id.as_str());
    let bob = agent_actor("bob");

    // The same conversation id in both workspaces, with different content.
    let shared_id = format!("conv_{}", run_tag());
    let mut in_a = a.create(Some("sms-main"), T0);
    let mut in_b = b.create(None, T0.plus_seconds(1));
    for out in [&mut in_a, &mut in_b] {
        out.conversation.id = shared_id.clone();
        for w in &mut out.writes {
            w.conversation.id = shared_id.clone();
            for e in &mut w.timeline {
                e.conversation_id = shared_id.clone();
            }
        }
    }
    store.commit(commit_of(&in_a)).await.expect("create in a");
    store
        .commit(commit_of(&in_b))
        .await
        .expect("create the same id in b");
    let conv_a = load(store, wa, &shared_id).await;
    let conv_b = load(store, wb, &shared_id).await;
    assert_eq!(conv_a, in_a.writes[0].conversation);
    assert_eq!(conv_b, in_b.writes[0].conversation);
    let note = a.decide(
        &conv_a,
        Command::PostMessage {
            body: "only in a".into(),
            on_closed: None,
            sender: None,
        },
        &bob,
        T0.plus_seconds(2),
    );
    store.commit(commit_of(&note)).await.expect("reply in a");
    assert_eq!(
        load(store, wb, &shared_id).await,
        conv_b,
        "b's conversation is untouched"
    );
    let msgs_b = store
        .list_messages(wb, &shared_id, &PageRequest::first(50))
        .await
        .expect("list_messages");
    assert!(msgs_b.items.is_empty(), "a's messages are not b's");
    let tl_b = store
        .list_timeline(wb, &shared_id, &PageRequest::first(50))
        .await
        .expect("list_timeline");
    assert_eq!(tl_b.items, in_b.writes[0].timeline);
    assert!(
        store
            .latest_messages(wb, &shared_id, 10)
            .await
            .expect("latest_messages")
            .is_empty()
    );

    // A conversation only in a is absent from b.
    let only_a = a.create(Some("sms-main"), T0.plus_seconds(3));
    store.commit(commit_of(&only_a)).await.expect("create");
    let ctx = store
        .load_context(wb, Some(&only_a.conversation.id), &[])
        .await
        .expect("load_context");
    assert_eq!(ctx.conversation, None);
    let listed = store
        .list_conversations(
            wb,
            &inbox_domain::ListQuery {
                view: inbox_domain::View::All,
                filters: Default::default(),
            },
            "bob",
            &PageRequest::first(200),
        )
        .await
        .expect("list_conversations");
    let ids: Vec<&str> = listed.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![shared_id.as_str()],
        "b lists only its own conversation"
    );
    assert!(
        store
            .conversations_of_contact(wb, &a.contact.id, &PageRequest::first(10))
            .await
            .expect("conversations_of_contact")
            .items
            .is_empty()
    );

    // Flags set through b never reach a's conversation.
    let flags = MemberFlags {
        read_at: Some(Timestamp::from_millis(5)),
        marked_unread: false,
        favorite: true,
    };
    let _ = store
        .set_member_flags(wb, &only_a.conversation.id, "bob", &flags)
        .await;
    assert!(
        load(store, wa, &only_a.conversation.id)
            .await
            .member_flags
            .is_empty()
    );

    // Directory, settings and contacts.
    store
        .put_member(wa, &member("solo", "Solo A"))
        .await
        .expect("put_member");
    assert_eq!(
        store.get_person(wb, "solo").await.expect("get_person"),
        None
    );
    assert!(
        store
            .list_members(wb)
            .await
            .expect("list_members")
            .iter()
            .all(|m| m.id != "solo")
    );
    // An id that is an agent in a may be a member in b.
    store
        .put_agent(wa, &AiAgent::external("twin", "Twin Bot"))
        .await
        .expect("put_agent");
    store
        .put_member(wb, &member("twin", "Twin Human"))
        .await
        .expect("ids are per workspace");
    assert!(matches!(
        store.get_person(wa, "twin").await.expect("get_person"),
        Some(DirectoryEntry::Agent(_))
    ));
    let mut settings = a.settings.clone();
    settings.reopen_on_contact_message = false;
    store
        .put_settings(wa, &settings)
        .await
        .expect("put_settings");
    assert_eq!(
        store.get_settings(wb).await.expect("get_settings"),
        b.settings
    );
    store
        .put_team(
            wa,
            &Team {
                id: "only-a".into(),
                name: "Only A".into(),
                member_ids: vec![],
            },
        )
        .await
        .expect("put_team");
    assert_eq!(store.get_team(wb, "only-a").await.expect("get_team"), None);
    store
        .put_channel(wa, &channel("only-a"))
        .await
        .expect("put_channel");
    assert_eq!(
        store.get_channel(wb, "only-a").await.expect("get_channel"),
        None
    );
    assert_eq!(
        store
            .get_contact(wb, &a.contact.id)
            .await
            .expect("get_contact"),
        None
    );
    let note = ContactNote {
        id: a.new_id(IdKind::Note),
        contact_id: a.contact.id.clone(),
        body: "private".into(),
        author: ActorRef::system(),
        created_at: T0,
    };
    store
        .add_contact_note(wa, &note)
        .await
        .expect("add_contact_note");
    assert!(
        store
            .list_contact_notes(wb, &a.contact.id, &PageRequest::first(10))
            .await
            .expect("list_contact_notes")
            .items
            .is_empty()
    );
}

/// `change_member_while_owner` writes only while the named member is still
/// an owner, and is atomic: of two owners demoting (or removing) each other
/// at once, at most one succeeds, so the workspace never loses its last
/// owner; a failed change writes nothing; an AI agent's id is a `Conflict`.
pub async fn check_owner_guard<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let w = format!("ws-owners-{}", run_tag());
    let w = w.as_str();
    let owner = |id: &str| inbox_domain::model::Member {
        role: Role::Owner,
        ..member(id, id)
    };
    let demoted = |id: &str| inbox_domain::model::Member {
        role: Role::Admin,
        ..member(id, id)
    };
    let role_of = |m: Option<DirectoryEntry>| match m {
        Some(DirectoryEntry::Member(m)) => Some(m.role),
        _ => None,
    };
    for round in 0..5 {
        let (a, b) = (format!("ann{round}"), format!("ben{round}"));
        store.put_member(w, &owner(&a)).await.expect("put owner");
        store.put_member(w, &owner(&b)).await.expect("put owner");
        // Each demotes the other, guarded by themselves, at once.
        let (da, db) = (demoted(&b), demoted(&a));
        let (ra, rb) = futures::join!(
            store.change_member_while_owner(w, &b, Some(&da), &a),
            store.change_member_while_owner(w, &a, Some(&db), &b),
        );
        let roles = (
            role_of(store.get_person(w, &a).await.expect("get")),
            role_of(store.get_person(w, &b).await.expect("get")),
        );
        assert!(
            roles.0 == Some(Role::Owner) || roles.1 == Some(Role::Owner),
            "both owners were demoted at once: {ra:?} {rb:?}"
        );
        assert!(ra.is_ok() || rb.is_ok() || roles == (Some(Role::Owner), Some(Role::Owner)));
        for r in [ra, rb] {
            assert!(matches!(r, Ok(()) | Err(StoreError::Conflict)), "{r:?}");
        }
    }
    // A guard that does not hold writes nothing, for a removal too.
    store
        .put_member(w, &owner("olga"))
        .await
        .expect("put owner");
    store.put_member(w, &demoted("nobody")).await.expect("put");
    assert!(matches!(
        store
            .change_member_while_owner(w, "olga", None, "nobody")
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .change_member_while_owner(w, "olga", Some(&demoted("olga")), "absent")
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        role_of(store.get_person(w, "olga").await.expect("get")),
        Some(Role::Owner)
    );
    store
        .put_member(w, &owner("oleg"))
        .await
        .expect("put owner");
    store
        .change_member_while_owner(w, "olga", None, "oleg")
        .await
        .expect("removed while another owner stays");
    assert_eq!(store.get_person(w, "olga").await.expect("get"), None);
    // An AI agent's id is never written as a member.
    store
        .put_agent(w, &AiAgent::external("max", "Max"))
        .await
        .expect("put_agent");
    assert!(matches!(
        store
            .change_member_while_owner(w, "max", Some(&owner("max")), "oleg")
            .await,
        Err(StoreError::Conflict)
    ));
}

/// `get_contacts` returns exactly the contacts of the ids that exist (more
/// than one DynamoDB batch of 100, duplicates and unknown ids included), and
/// none of another workspace.
pub async fn check_contact_batches<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let ws = Ws::new(store, "contact-batches").await;
    let w = ws.id.as_str();
    let mut ids = ws.ids.clone();
    let mut made = Vec::new();
    for i in 0..130 {
        let c = Contact {
            id: ids.new_id(IdKind::Contact),
            name: Some(format!("Batch {i}")),
            email: None,
            phone: None,
            blocked: i % 7 == 0,
            created_at: T0,
        };
        store.create_contact(w, &c).await.expect("create_contact");
        made.push(c);
    }
    let mut wanted: Vec<String> = made.iter().map(|c| c.id.clone()).collect();
    wanted.push(made[0].id.clone());
    wanted.push("ct_00000000000000000000000000".into());
    let mut found = store.get_contacts(w, &wanted).await.expect("get_contacts");
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = made.clone();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        found, expected,
        "every existing contact once, unknown ids left out"
    );
    assert!(store.get_contacts(w, &[]).await.expect("empty").is_empty());
    let other = Ws::new(store, "contact-batches-other").await;
    assert!(
        store
            .get_contacts(&other.id, &wanted)
            .await
            .expect("other workspace")
            .is_empty()
    );
}
