//! API keys: found by id from any workspace, listed and revoked only in their own.

use super::SuiteConfig;
use super::fixtures::run_tag;
use crate::port::{Store, StoreError};
use inbox_domain::{ApiKey, Role, Timestamp};

fn api_key(id: &str, ws: &str, subject: &str, at: Timestamp) -> ApiKey {
    ApiKey {
        id: id.into(),
        workspace_id: ws.into(),
        name: format!("key {subject}"),
        role: Role::Integration,
        subject: subject.into(),
        created_at: at,
        last_used_at: None,
        secret_hash: format!("hash-of-{id}"),
    }
}

/// Create, look up by id, list per workspace (not another's), record use
/// forward only, and revoke (only in the key's own workspace).
pub async fn check_api_keys<S: Store + ?Sized>(store: &S, _cfg: &SuiteConfig) {
    let tag = run_tag();
    let (w1, w2) = (format!("ws-keys-a-{tag}"), format!("ws-keys-b-{tag}"));
    let t0 = Timestamp::from_unix_seconds(1_800_000_000);
    let (k1, k2, k3) = (
        format!("key_{tag}_1"),
        format!("key_{tag}_2"),
        format!("key_{tag}_3"),
    );
    let a = api_key(&k1, &w1, "crm", t0);
    let b = api_key(&k2, &w1, "billing", t0);
    let c = api_key(&k3, &w2, "crm", t0);
    for k in [&a, &b, &c] {
        store.create_api_key(k).await.expect("create key");
    }
    assert!(
        matches!(store.create_api_key(&a).await, Err(StoreError::Conflict)),
        "a second key with an existing id is a conflict"
    );
    assert_eq!(store.get_api_key(&k1).await.expect("get"), Some(a.clone()));
    assert_eq!(store.get_api_key("key_absent").await.expect("get"), None);
    let listed = store.list_api_keys(&w1).await.expect("list");
    assert_eq!(
        listed,
        vec![a.clone(), b.clone()],
        "a workspace lists its own keys, by id"
    );
    assert_eq!(
        store.list_api_keys(&w2).await.expect("list"),
        vec![c.clone()]
    );

    let t1 = t0.plus_seconds(120);
    store.record_api_key_use(&k1, t1).await.expect("use");
    store
        .record_api_key_use(&k1, t0.plus_seconds(60))
        .await
        .expect("an earlier use is not an error");
    let used = store.get_api_key(&k1).await.expect("get").expect("key");
    assert_eq!(used.last_used_at, Some(t1), "use is recorded forward only");
    store
        .record_api_key_use("key_absent", t1)
        .await
        .expect("use of a missing key writes nothing");
    assert_eq!(store.get_api_key("key_absent").await.expect("get"), None);

    assert!(
        !store.delete_api_key(&w2, &k1).await.expect("delete"),
        "another workspace cannot revoke a key"
    );
    assert!(store.get_api_key(&k1).await.expect("get").is_some());
    assert!(store.delete_api_key(&w1, &k1).await.expect("delete"));
    assert!(!store.delete_api_key(&w1, &k1).await.expect("delete again"));
    assert_eq!(store.get_api_key(&k1).await.expect("get"), None);
    store
        .record_api_key_use(&k1, t1.plus_seconds(60))
        .await
        .expect("use");
    assert_eq!(
        store.get_api_key(&k1).await.expect("get"),
        None,
        "recording use does not bring a revoked key back"
    );
    assert_eq!(store.list_api_keys(&w1).await.expect("list"), vec![b]);
}
