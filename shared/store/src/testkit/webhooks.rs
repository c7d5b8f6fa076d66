//! Outgoing webhooks: endpoints per workspace (replaced by a PUT, their
//! health recorded only while unchanged), deliveries made once per event,
//! saved only by the worker that read their current attempt count, and
//! listed newest first.

use super::SuiteConfig;
use super::fixtures::run_tag;
use crate::port::{DeliveryRef, Store};
use inbox_domain::Timestamp;
use inbox_domain::webhooks::{
    AttemptOutcome, DeliveryState, DisabledReason, EventFilter, WebhookDelivery, WebhookEndpoint,
};

fn endpoint(ws: &str, id: &str, at: Timestamp) -> WebhookEndpoint {
    WebhookEndpoint {
        id: id.into(),
        workspace_id: ws.into(),
        url: format!("https://{id}.example/hook"),
        events: vec![EventFilter::parse("conversation.*").expect("a filter")],
        enabled: true,
        disabled_reason: None,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        failing_since: None,
        created_at: at,
        updated_at: at,
    }
}

/// The endpoint and delivery rules every adapter keeps.
pub async fn check_webhooks<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let tag = run_tag();
    let (w1, w2) = (format!("ws-hooks-a-{tag}"), format!("ws-hooks-b-{tag}"));
    let t0 = Timestamp::from_unix_seconds(1_800_000_000);

    // Endpoints: put, replace, list by id, per workspace.
    let crm = endpoint(&w1, "crm", t0);
    let billing = endpoint(&w1, "billing", t0);
    let other = endpoint(&w2, "crm", t0);
    for e in [&crm, &billing, &other] {
        store.put_webhook_endpoint(e).await.expect("put endpoint");
    }
    let mut crm2 = crm.clone();
    crm2.url = "https://crm.example/v2".into();
    crm2.updated_at = t0.plus_seconds(10);
    store.put_webhook_endpoint(&crm2).await.expect("replace");
    assert_eq!(
        store.list_webhook_endpoints(&w1).await.expect("list"),
        vec![billing.clone(), crm2.clone()],
        "a workspace lists its own endpoints, by id"
    );
    assert_eq!(
        store.get_webhook_endpoint(&w2, "crm").await.expect("get"),
        Some(other.clone())
    );
    assert_eq!(
        store.get_webhook_endpoint(&w1, "none").await.expect("get"),
        None
    );

    // Health: recorded against the endpoint as read; a stale read changes nothing.
    let since = t0.plus_seconds(20);
    store
        .record_webhook_health(&crm, Some(since), true)
        .await
        .expect("stale health");
    assert_eq!(
        store.get_webhook_endpoint(&w1, "crm").await.expect("get"),
        Some(crm2.clone()),
        "an admin's change since the read wins"
    );
    store
        .record_webhook_health(&crm2, Some(since), false)
        .await
        .expect("health");
    let failing = store
        .get_webhook_endpoint(&w1, "crm")
        .await
        .expect("get")
        .expect("crm");
    assert_eq!(
        (failing.failing_since, failing.enabled),
        (Some(since), true)
    );
    store
        .record_webhook_health(&crm2, Some(since), true)
        .await
        .expect("disable");
    let off = store
        .get_webhook_endpoint(&w1, "crm")
        .await
        .expect("get")
        .expect("crm");
    assert_eq!(
        (off.enabled, off.disabled_reason),
        (false, Some(DisabledReason::Failing))
    );
    store
        .record_webhook_health(&off, None, false)
        .await
        .expect("answered");
    let healthy = store
        .get_webhook_endpoint(&w1, "crm")
        .await
        .expect("get")
        .expect("crm");
    assert_eq!(healthy.failing_since, None);

    // Deliveries: once per event; saved only from the attempt count read.
    let d1 = WebhookDelivery::new("crm", "evt_1", "conversation.assigned", "cnv_1", t0);
    assert!(
        store
            .create_webhook_delivery(&w1, &d1)
            .await
            .expect("create")
    );
    assert!(
        !store
            .create_webhook_delivery(&w1, &d1)
            .await
            .expect("create again"),
        "a republished event makes no second delivery"
    );
    let at = DeliveryRef::of(&d1);
    assert_eq!(
        store.get_webhook_delivery(&w1, &at).await.expect("get"),
        Some(d1.clone())
    );
    assert_eq!(
        store.get_webhook_delivery(&w2, &at).await.expect("get"),
        None,
        "another workspace's deliveries are not found"
    );
    let claimed = d1.claim(t0.plus_seconds(1));
    assert!(
        store
            .save_webhook_delivery(&w1, &claimed, 0)
            .await
            .expect("claim")
    );
    assert!(
        !store
            .save_webhook_delivery(&w1, &claimed, 0)
            .await
            .expect("claim twice"),
        "a second worker with the same read does nothing"
    );
    let tried = claimed
        .after_attempt(
            inbox_domain::webhooks::RetrySchedule::CONTRACT,
            AttemptOutcome::Refused(500),
            None,
            t0.plus_seconds(1),
        )
        .delivery;
    assert!(
        store
            .save_webhook_delivery(&w1, &tried, 1)
            .await
            .expect("save")
    );
    let claimed = tried.claim(t0.plus_seconds(6));
    assert!(
        store
            .save_webhook_delivery(&w1, &claimed, 1)
            .await
            .expect("claim")
    );
    let done = claimed
        .after_attempt(
            inbox_domain::webhooks::RetrySchedule::CONTRACT,
            AttemptOutcome::Accepted(204),
            Some(t0),
            t0.plus_seconds(6),
        )
        .delivery;
    assert!(
        store
            .save_webhook_delivery(&w1, &done, 2)
            .await
            .expect("save")
    );
    let stored = store
        .get_webhook_delivery(&w1, &at)
        .await
        .expect("get")
        .expect("d1");
    assert_eq!(stored.status, DeliveryState::Succeeded);
    assert_eq!(
        (stored.attempts, stored.last_response_status),
        (2, Some(204))
    );
    assert!(
        !store
            .save_webhook_delivery(&w1, &done, 2)
            .await
            .expect("save"),
        "a finished delivery is never saved again"
    );

    // The latest first, per endpoint.
    for i in 2..=5 {
        let d = WebhookDelivery::new(
            "crm",
            &format!("evt_{i}"),
            "conversation.assigned",
            "cnv_1",
            t0.plus_seconds(i),
        );
        store
            .create_webhook_delivery(&w1, &d)
            .await
            .expect("create");
    }
    let billing_d = WebhookDelivery::new(
        "billing",
        "evt_9",
        "message.created",
        "cnv_2",
        t0.plus_seconds(9),
    );
    store
        .create_webhook_delivery(&w1, &billing_d)
        .await
        .expect("create");
    let latest: Vec<String> = store
        .list_webhook_deliveries(&w1, "crm", 3)
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.event_id)
        .collect();
    assert_eq!(latest, vec!["evt_5", "evt_4", "evt_3"]);
    assert_eq!(
        store
            .list_webhook_deliveries(&w1, "billing", 10)
            .await
            .expect("list"),
        vec![billing_d]
    );

    // Deleting an endpoint.
    assert!(
        store
            .delete_webhook_endpoint(&w1, "crm")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_webhook_endpoint(&w1, "crm")
            .await
            .expect("delete again")
    );
    assert_eq!(
        store.list_webhook_endpoints(&w1).await.expect("list"),
        vec![billing]
    );
    assert_eq!(
        store.get_webhook_endpoint(&w2, "crm").await.expect("get"),
        Some(other),
        "another workspace's endpoint of the same id stays"
    );
}
