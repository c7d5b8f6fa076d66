//! Live connections: recorded per workspace, listed, forgotten.

use super::SuiteConfig;
use super::fixtures::{T0, run_tag};
use crate::port::LiveConnectionStore;
use inbox_domain::live::{LiveConnection, Typist};

fn connection(ws: &str, id: &str, who: &str) -> LiveConnection {
    LiveConnection::opened(
        ws,
        id,
        Typist {
            id: who.into(),
            name: format!("{who} (name)"),
        },
        T0,
        Some(T0.plus_seconds(3600)),
    )
}

/// A workspace lists exactly its own connections, each as recorded; a
/// connection recorded again is replaced; a forgotten one is gone, and
/// forgetting one that is not there does nothing.
pub async fn check_live_connections<S: LiveConnectionStore + ?Sized>(
    store: &S,
    _cfg: &SuiteConfig,
) {
    let tag = run_tag();
    let (a, b) = (format!("live-a-{tag}"), format!("live-b-{tag}"));
    let bob = connection(&a, "conn-1", "bob");
    let carol = connection(&a, "conn-2", "carol");
    let other = connection(&b, "conn-3", "bob");
    for c in [&bob, &carol, &other] {
        store.put_live_connection(c).await.expect("put");
    }
    let mut listed = store.live_connections(&a).await.expect("list");
    listed.sort_by(|x, y| x.connection_id.cmp(&y.connection_id));
    assert_eq!(listed, vec![bob.clone(), carol.clone()]);
    assert_eq!(store.live_connections(&b).await.expect("list"), vec![other]);

    let mut renamed = bob.clone();
    renamed.typist.name = "Bob, renamed".into();
    store
        .put_live_connection(&renamed)
        .await
        .expect("put again");
    store
        .forget_live_connection(&a, "conn-2")
        .await
        .expect("forget");
    store
        .forget_live_connection(&a, "never-was")
        .await
        .expect("forget nothing");
    assert_eq!(
        store.live_connections(&a).await.expect("list"),
        vec![renamed]
    );
    assert!(
        store
            .live_connections(&format!("live-none-{tag}"))
            .await
            .expect("list")
            .is_empty()
    );
}
