//! Live updates on the AWS path, on moto for the table and against the
//! fakes' stand-in for API Gateway's management API (`@connections`; moto's
//! own accepts a post to any connection id, so it cannot say one is gone):
//! the change feed's consumer sends each committed change to every open
//! connection of its workspace with one `Query` per batch and one
//! `PostToConnection` per connection, forgets the gone and closes the
//! ended; the socket routes record, relay and forget connections.

mod common;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use common::{NothingQueued, ok, stream_of, who};
use http::Method;
use inbox_domain::Timestamp;
use inbox_domain::live::{LiveConnection, Typist};
use inbox_http::App;
use inbox_runtime::live::{ApiGatewayPoster, handle_socket};
use inbox_runtime::webhooks::dispatch_stream_batch;
use inbox_store::LiveConnectionStore;
use inbox_store::dynamo::{DynamoStore, OperationCounter};
use serde_json::{Value, json};

struct Setup {
    app: App<DynamoStore>,
    counter: OperationCounter,
    poster: ApiGatewayPoster,
    control: fake_providers::Control,
    fakes: String,
}

async fn setup(name: &str) -> Setup {
    let (store, counter) = inbox_store::dynamo::testing::fresh_store(name)
        .await
        .expect("a table");
    let app = App::new(store);
    for (id, name) in [("bob", "Bob Ray"), ("carol", "Carol Lee")] {
        ok(
            &app,
            &who("ada", "admin"),
            Method::PUT,
            &format!("/members/{id}"),
            json!({"name": name, "email": format!("{id}@x.io"), "role": "agent"}),
        )
        .await;
    }
    let fakes = fake_providers::start().await.expect("fakes");
    let sdk = inbox_store::dynamo::testing::sdk_config().await;
    Setup {
        app,
        counter,
        // The stage URL, as the template hands it to the functions.
        poster: ApiGatewayPoster::new(&sdk, &format!("{fakes}/live")),
        control: fake_providers::Control::new(&fakes),
        fakes,
    }
}

impl Setup {
    /// A client connected (API Gateway knows it) and recorded, until `ends_at`.
    async fn connected(&self, ws: &str, id: &str, who: &str, ends_at: Timestamp) -> LiveConnection {
        reqwest::Client::new()
            .post(format!("{}/_fake/connections/{id}", self.fakes))
            .send()
            .await
            .expect("the fakes open a connection");
        self.recorded(ws, id, who, ends_at).await
    }

    /// A connection recorded in the table only.
    async fn recorded(&self, ws: &str, id: &str, who: &str, ends_at: Timestamp) -> LiveConnection {
        let c = LiveConnection {
            workspace_id: ws.into(),
            connection_id: id.into(),
            typist: Typist {
                id: who.into(),
                name: who.into(),
            },
            ends_at,
        };
        self.app
            .store()
            .put_live_connection(&c)
            .await
            .expect("recorded");
        c
    }

    /// What the management API got: `(method and path, status, parsed body)`.
    async fn calls(&self) -> Vec<(String, u16, Value)> {
        self.control
            .requests(Some("connections"))
            .await
            .expect("the fakes' requests")
            .into_iter()
            .map(|r| {
                (
                    r["path"].as_str().unwrap_or_default().to_string(),
                    r["status"].as_u64().unwrap_or(0) as u16,
                    serde_json::from_str(r["body"].as_str().unwrap_or_default())
                        .unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    async fn connection_ids(&self, ws: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .app
            .store()
            .live_connections(ws)
            .await
            .expect("listed")
            .into_iter()
            .map(|c| c.connection_id)
            .collect();
        ids.sort();
        ids
    }
}

fn now() -> Timestamp {
    inbox_store::Clock::now(&inbox_store::SystemClock)
}

#[tokio::test]
async fn each_change_reaches_every_open_connection_of_its_workspace_once() {
    let s = setup("live-fan-out").await;
    let later = now().plus_seconds(3600);
    s.connected("acme", "conn-bob", "bob", later).await;
    s.connected("acme", "conn-carol", "carol", later).await;
    // API Gateway no longer has this one; this one's credential expired.
    s.recorded("acme", "conn-gone", "bob", later).await;
    s.connected("acme", "conn-ended", "carol", now().plus_seconds(-5))
        .await;
    s.connected("globex", "conn-elsewhere", "bob", later).await;

    let bob = who("bob", "agent");
    let c = ok(
        &s.app,
        &bob,
        Method::POST,
        "/contacts",
        json!({"name": "Pat"}),
    )
    .await;
    let conv = ok(
        &s.app,
        &bob,
        Method::POST,
        "/conversations",
        json!({"contact_id": c["id"]}),
    )
    .await["id"]
        .as_str()
        .expect("an id")
        .to_string();
    ok(
        &s.app,
        &bob,
        Method::POST,
        &format!("/conversations/{conv}/assign"),
        json!({"member_id": "bob"}),
    )
    .await;
    let stream = stream_of(s.app.store(), "acme", &conv).await;

    // Without a WebSocket API the consumer only dispatches webhooks (and
    // posts nothing): what that costs is the baseline.
    s.counter.reset();
    dispatch_stream_batch(&s.app, &stream, &NothingQueued, None).await;
    let webhooks_only = s.counter.count("Query");
    assert!(s.calls().await.is_empty());
    s.counter.reset();
    let answer = dispatch_stream_batch(&s.app, &stream, &NothingQueued, Some(&s.poster)).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let live_queries = s.counter.count("Query") - webhooks_only;
    let calls = s.calls().await;
    let posts = calls
        .iter()
        .filter(|(p, _, _)| p.starts_with("POST"))
        .count();
    println!(
        "live fan-out of 2 changes to 2 open connections (+1 gone, +1 ended): {} Query, {} PostToConnection, {} DeleteConnection, {} DeleteItem",
        live_queries,
        posts,
        calls
            .iter()
            .filter(|(p, _, _)| p.starts_with("DELETE"))
            .count(),
        s.counter.count("DeleteItem"),
    );
    assert_eq!(
        live_queries, 1,
        "one Query of the workspace's connections per batch"
    );
    assert_eq!(
        s.counter.count("DeleteItem"),
        2,
        "the gone and the ended forgotten"
    );

    // The ended connection is closed first; each change then goes to every
    // open connection; the gone one answers 410 once and is forgotten.
    assert_eq!(calls[0].0, "DELETE /@connections/conn-ended", "{calls:#?}");
    let to = |id: &str| -> Vec<(u16, Value)> {
        calls
            .iter()
            .filter(|(p, _, _)| *p == format!("POST /@connections/{id}"))
            .map(|(_, status, body)| (*status, body.clone()))
            .collect()
    };
    let bobs = to("conn-bob");
    assert_eq!(bobs, to("conn-carol"), "both connections hear the same");
    assert_eq!(bobs.len(), 2, "{calls:#?}");
    assert!(bobs.iter().all(|(status, _)| *status == 200));
    let kinds: Vec<(&str, u64, &str)> = bobs
        .iter()
        .map(|(_, m)| {
            (
                m["type"].as_str().unwrap_or_default(),
                m["version"].as_u64().unwrap_or(0),
                m["events"][0]["type"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("conversation.changed", 1, "conversation_created"),
            ("conversation.changed", 2, "assigned")
        ]
    );
    assert_eq!(bobs[0].1["conversation_id"], conv.as_str());
    assert_eq!(to("conn-gone").len(), 1, "gone once, then forgotten");
    assert_eq!(to("conn-gone")[0].0, 410);
    assert!(
        to("conn-ended").is_empty(),
        "an ended connection is not sent to"
    );
    assert!(to("conn-elsewhere").is_empty(), "never another workspace's");
    assert_eq!(s.connection_ids("acme").await, ["conn-bob", "conn-carol"]);
    assert_eq!(s.connection_ids("globex").await, ["conn-elsewhere"]);
}

/// A WebSocket route's event, from `events/live/`, for connection `id` of workspace `ws`.
fn socket_event(file: &str, ws: &str, id: &str, body: &str) -> ApiGatewayWebsocketProxyRequest {
    let text = std::fs::read_to_string(format!(
        "{}/../../events/live/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the event");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v["requestContext"]["authorizer"]["workspace_id"] = json!(ws);
    v["requestContext"]["connectionId"] = json!(id);
    if v.get("body").is_some() {
        v["body"] = json!(body);
    }
    serde_json::from_value(v).expect("a WebSocket event")
}

#[tokio::test]
async fn the_socket_routes_record_relay_and_forget_connections() {
    let s = setup("live-routes").await;
    // The events' connectedAt; the token expires an hour later.
    let at = Timestamp::from_millis(1_796_277_600_000);
    let connect = socket_event("connect.json", "acme", "conn-bob", "");
    assert_eq!(
        handle_socket(&s.app, &s.poster, &connect, at)
            .await
            .status_code,
        200
    );
    let recorded = s
        .app
        .store()
        .live_connections("acme")
        .await
        .expect("listed");
    assert_eq!(
        recorded,
        [LiveConnection {
            workspace_id: "acme".into(),
            connection_id: "conn-bob".into(),
            // The directory's name, not the token's.
            typist: Typist {
                id: "bob".into(),
                name: "Bob Ray".into()
            },
            ends_at: Timestamp::from_millis(1_796_281_200_000),
        }]
    );
    reqwest::Client::new()
        .post(format!("{}/_fake/connections/conn-bob", s.fakes))
        .send()
        .await
        .expect("open");
    s.connected("acme", "conn-carol", "carol", at.plus_seconds(3600))
        .await;
    s.connected("globex", "conn-elsewhere", "carol", at.plus_seconds(3600))
        .await;

    // Bob types: Carol's connection hears it, Bob's own and other workspaces' do not.
    let typing = json!({"type": "typing", "conversation_id": "conv_1"}).to_string();
    let frame = socket_event("default.json", "acme", "conn-bob", &typing);
    assert_eq!(
        handle_socket(&s.app, &s.poster, &frame, at)
            .await
            .status_code,
        200
    );
    let calls = s.calls().await;
    assert_eq!(
        calls,
        [(
            "POST /@connections/conn-carol".to_string(),
            200,
            json!({"type": "typing", "conversation_id": "conv_1", "member": {"id": "bob", "name": "Bob Ray"}})
        )]
    );

    // A frame that is not a client message: an error on Bob's own connection only.
    let frame = socket_event("default.json", "acme", "conn-bob", "{\"type\": \"shout\"}");
    assert_eq!(
        handle_socket(&s.app, &s.poster, &frame, at)
            .await
            .status_code,
        200
    );
    let calls = s.calls().await;
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[1].0, "POST /@connections/conn-bob");
    assert_eq!(calls[1].2["type"], "error");
    assert_eq!(calls[1].2["code"], "bad_request");

    // A role the contract does not know is refused at connect; no context, 401.
    let mut martian = socket_event("connect.json", "acme", "conn-x", "");
    martian
        .request_context
        .authorizer
        .fields
        .insert("role".into(), json!("martian"));
    assert_eq!(
        handle_socket(&s.app, &s.poster, &martian, at)
            .await
            .status_code,
        403
    );
    let mut anonymous = socket_event("connect.json", "acme", "conn-y", "");
    anonymous.request_context.authorizer.fields.clear();
    assert_eq!(
        handle_socket(&s.app, &s.poster, &anonymous, at)
            .await
            .status_code,
        401
    );
    assert_eq!(s.connection_ids("acme").await, ["conn-bob", "conn-carol"]);

    // A frame from a connection past its end closes it; nothing is relayed.
    let late = at.plus_seconds(2 * 3600);
    let frame = socket_event("default.json", "acme", "conn-bob", &typing);
    assert_eq!(
        handle_socket(&s.app, &s.poster, &frame, late)
            .await
            .status_code,
        200
    );
    let calls = s.calls().await;
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(calls[2].0, "DELETE /@connections/conn-bob");
    assert_eq!(s.connection_ids("acme").await, ["conn-carol"]);

    // Disconnecting forgets the connection.
    let gone = socket_event("disconnect.json", "acme", "conn-bob", "");
    assert_eq!(
        handle_socket(&s.app, &s.poster, &gone, at)
            .await
            .status_code,
        200
    );
    assert_eq!(s.connection_ids("acme").await, ["conn-carol"]);
}
