//! AI agents that answer: a WhatsApp channel whose default agent is Max,
//! an LLM agent on the fake OpenAI-compatible model (or a webhook agent on
//! the Standard Webhooks receiver), contacts writing through signed Cloud
//! API webhooks, and the answers reaching the fake WhatsApp API.

use super::delivery::{
    Fakes, WA_PHONE_ID, WA_SECRET, sending_channels, until_status, whatsapp_writes,
};
use super::*;
use crate::e2e::receiver::Receiver;

const MODEL_KEY: &str = "sk-e2e-model-key";
const INSTRUCTIONS: &str = "You are Max, the assistant of Acme.";

/// Max as an LLM agent on the fakes' model; what `PUT` answered.
async fn max_on_the_fake_model(ws: &Ws, fakes: &Fakes) -> Value {
    let agent = ws
        .put(
            ADA,
            "/agents/max",
            json!({"name": "Max", "kind": "llm", "llm": {
                "base_url": format!("{}/v1", fakes.base), "model": "fake-gpt",
                "api_key": MODEL_KEY, "instructions": INSTRUCTIONS, "timeout_seconds": 5}}),
        )
        .await
        .expect(200);
    assert!(!agent.to_string().contains(MODEL_KEY), "{agent}");
    agent
}

/// The WhatsApp channel, sending through the fakes, with Max answering first.
async fn whatsapp_with_max(ws: &Ws, fakes: &Fakes) {
    sending_channels(ws, fakes).await;
    let view = ws
        .put(
            ADA,
            "/channels/wa",
            json!({"kind": "whatsapp", "name": "WhatsApp", "secret": WA_SECRET,
                   "phone_number_id": WA_PHONE_ID, "access_token": "EAAG-e2e",
                   "api_base_url": fakes.base, "default_agent_id": "max"}),
        )
        .await
        .expect(200);
    assert_eq!(view["default_agent_id"], "max");
}

/// A flow's workspace whose WhatsApp channel Max (on the fake model) answers first.
async fn max_answers_on_whatsapp(base: &str, flow: &str) -> (Ws, Fakes) {
    let ws = ready(base, flow).await;
    let fakes = Fakes::start().await;
    max_on_the_fake_model(&ws, &fakes).await;
    whatsapp_with_max(&ws, &fakes).await;
    (ws, fakes)
}

/// Ann writes `text` on WhatsApp (message `n` of the flow); her conversation.
async fn ann_writes(ws: &Ws, n: u32, text: &str) -> String {
    whatsapp_writes(ws, &format!("wamid.ai-{}-{n}", ws.id), text).await
}

async fn messages(ws: &Ws, conv: &str) -> Vec<Value> {
    ws.all_pages(&format!("/conversations/{conv}/messages"))
        .await
}

/// Waits until a message matches `what`; that message.
async fn until_message(ws: &Ws, conv: &str, what: impl Fn(&Value) -> bool, why: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(m) = messages(ws, conv).await.into_iter().find(|m| what(m)) {
            return m;
        }
        assert!(Instant::now() < deadline, "never: {why}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the conversation matches `what`; it then.
async fn until_conv(ws: &Ws, conv: &str, what: impl Fn(&Value) -> bool, why: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let c = ws.conv(BOB, conv).await;
        if what(&c) {
            return c;
        }
        assert!(Instant::now() < deadline, "never: {why}: {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn from_ai(m: &Value) -> bool {
    m["sender"]["kind"] == "ai_agent"
}

/// The AI answers first: Ann's first WhatsApp message starts a session of
/// the channel's default agent, the fake model is called with Max's
/// instructions and her message, and its reply is stored and delivered.
/// She asks for a person: the model calls `handoff`, the conversation waits
/// in `pending_human`; Bob replies and has it; her next message calls no model.
pub async fn the_ai_answers_first_then_hands_over(base: &str) {
    let ws = ready(base, "ai_answers_first").await;
    let fakes = Fakes::start().await;
    let agent = max_on_the_fake_model(&ws, &fakes).await;
    assert_eq!(agent["kind"], "llm");
    assert_eq!(agent["llm"]["has_api_key"], true);
    assert_eq!(agent["llm"]["history_messages"], 20);
    let listed = ws.get(VIC, "/agents").await.expect(200);
    assert!(!listed.to_string().contains(MODEL_KEY));
    whatsapp_with_max(&ws, &fakes).await;

    let conv = ann_writes(&ws, 1, "Where is my order?").await;
    let answer = until_message(&ws, &conv, from_ai, "Max answers").await;
    assert_eq!(answer["body"], "Max here. You said: Where is my order?");
    assert_eq!(answer["sender"]["id"], "max");
    let asked = fakes.requests("model").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(
        asked[0]["headers"]["authorization"],
        format!("Bearer {MODEL_KEY}")
    );
    let request: Value =
        serde_json::from_str(asked[0]["body"].as_str().expect("a body")).expect("JSON");
    assert_eq!(request["model"], "fake-gpt");
    assert_eq!(
        request["messages"],
        json!([{"role": "system", "content": INSTRUCTIONS},
               {"role": "user", "content": "Where is my order?"}])
    );
    assert_eq!(request["tools"][0]["function"]["name"], "handoff");
    let id = answer["id"].as_str().expect("an id");
    until_status(&ws, &conv, id, "sent").await;
    let sent = fakes.requests("whatsapp").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let sent: Value =
        serde_json::from_str(sent[0]["body"].as_str().expect("a body")).expect("JSON");
    assert_eq!(sent["to"], "447700900123");
    assert_eq!(
        sent["text"]["body"],
        "Max here. You said: Where is my order?"
    );
    let c = ws.conv(BOB, &conv).await;
    assert_eq!(c["last_responder"], json!({"kind": "ai", "id": "max"}));
    assert_eq!(c["agent"]["session"]["active"], true);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(last(&timeline, "agent_assigned")["data"]["to"], "max");

    // She asks for a person: the model hands over.
    ann_writes(&ws, 2, "Can I talk to a human please?").await;
    let c = until_conv(&ws, &conv, |c| c["human_handoff"] == true, "the hand-off").await;
    assert_eq!(c["agent"]["session"]["active"], false);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "handoff_requested")["data"]["reason"],
        "The contact asked for a human."
    );
    assert_eq!(
        last(&timeline, "agent_session_ended")["data"]["reason"],
        "handoff"
    );
    assert!(ws.view_ids(BOB, "view=pending_human").await.contains(&conv));
    assert_eq!(fakes.requests("model").await.len(), 2);

    // Bob replies: the conversation is his; the AI is done.
    ws.post(
        BOB,
        &format!("/conversations/{conv}/messages"),
        json!({"body": "Hi Ann, Bob here."}),
    )
    .await
    .expect(201);
    let c = ws.conv(BOB, &conv).await;
    assert_eq!(c["assignee"]["id"], "bob");
    assert_eq!(c["agent"]["session"]["active"], false);
    ann_writes(&ws, 3, "Thanks Bob").await;
    until_message(&ws, &conv, |m| m["body"] == "Thanks Bob", "her message").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        fakes.requests("model").await.len(),
        2,
        "no model is called once a person has it"
    );
    let ai_replies = messages(&ws, &conv)
        .await
        .into_iter()
        .filter(from_ai)
        .count();
    assert_eq!(ai_replies, 1);
}

/// The model answers 2 s after Bob took the conversation: the answer is
/// discarded, nothing stored, nothing sent.
pub async fn an_answer_after_a_person_stepped_in_is_discarded(base: &str) {
    let (ws, fakes) = max_answers_on_whatsapp(base, "ai_race").await;
    fakes
        .control
        .delay(&json!({"provider": "model", "ms": 2000, "times": 1}))
        .await
        .expect("the fakes take a delay");
    let conv = ann_writes(&ws, 1, "Is anyone there?").await;
    // The model is thinking (its answer held back) when Bob steps in.
    let deadline = Instant::now() + Duration::from_secs(20);
    while fakes.control.held("model").await.expect("the fakes answer") == 0 {
        assert!(Instant::now() < deadline, "the model was never asked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ws.act(BOB, &conv, "assign", json!({"member_id": "bob"}))
        .await
        .expect(200);
    // It answers; the answer arrives late.
    let deadline = Instant::now() + Duration::from_secs(20);
    while fakes.requests("model").await.is_empty() {
        assert!(Instant::now() < deadline, "the model never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fakes.requests("model").await.len(), 1);
    assert_eq!(
        messages(&ws, &conv)
            .await
            .into_iter()
            .filter(from_ai)
            .count(),
        0,
        "the late answer is not stored"
    );
    assert!(fakes.requests("whatsapp").await.is_empty(), "nor sent");
    let c = ws.conv(BOB, &conv).await;
    assert_eq!(c["assignee"]["id"], "bob");
    assert_eq!(c["human_handoff"], false, "nobody was asked for either");
}

/// The model fails every try: after 3 tries the conversation goes to
/// people (`ai_unavailable`) and waits in `pending_human`.
pub async fn a_dead_model_hands_the_conversation_to_people(base: &str) {
    let (ws, fakes) = max_answers_on_whatsapp(base, "ai_dead").await;
    fakes
        .fail(json!({"provider": "model", "status": 503}))
        .await;
    let started = Instant::now();
    let conv = ann_writes(&ws, 1, "Hello?").await;
    let c = until_conv(&ws, &conv, |c| c["human_handoff"] == true, "the hand-off").await;
    let took = started.elapsed();
    println!(
        "a_dead_model_hands_the_conversation_to_people: handed over {took:?} after the contact wrote"
    );
    assert!(took < Duration::from_secs(75), "handed over after {took:?}");
    assert_eq!(c["agent"]["session"]["active"], false);
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "agent_session_ended")["data"]["reason"],
        "ai_unavailable"
    );
    assert_eq!(
        last(&timeline, "handoff_requested")["data"]["reason"],
        "ai_unavailable"
    );
    assert!(ws.view_ids(BOB, "view=pending_human").await.contains(&conv));
    assert_eq!(fakes.requests("model").await.len(), 3, "three tries");
    assert_eq!(
        messages(&ws, &conv)
            .await
            .into_iter()
            .filter(from_ai)
            .count(),
        0
    );
}

/// A webhook agent answers in its response body: the request is signed
/// (verified by the Standard Webhooks library), retried after a 500 under
/// the same `webhook-id`, and the reply appears once.
pub async fn a_webhook_agent_answers_in_its_response(base: &str) {
    let ws = ready(base, "ai_webhook").await;
    let fakes = Fakes::start().await;
    let receiver = Receiver::start();
    let made = ws
        .put(
            ADA,
            "/agents/max",
            json!({"name": "Max", "kind": "webhook", "webhook": {"url": receiver.url("max")}}),
        )
        .await
        .expect(200);
    let secret = made["webhook"]["secret"]
        .as_str()
        .expect("the secret, once");
    assert!(secret.starts_with("whsec_"));
    let listed = ws.get(ADA, "/agents").await.expect(200);
    assert!(!listed.to_string().contains(secret));
    let rotated = ws
        .post(ADA, "/agents/max/rotate-secret", json!({}))
        .await
        .expect(200);
    let secret = rotated["webhook"]["secret"]
        .as_str()
        .expect("a new secret")
        .to_string();
    assert_ne!(made["webhook"]["secret"], rotated["webhook"]["secret"]);
    receiver.trust(&secret).await;
    receiver
        .control(json!({"fail": 1, "fail_status": 500, "answer": {"reply": {"body": "Hi"}}}))
        .await;
    whatsapp_with_max(&ws, &fakes).await;

    let conv = ann_writes(&ws, 1, "Hello there").await;
    let answer = until_message(&ws, &conv, from_ai, "the agent's reply").await;
    assert_eq!(answer["body"], "Hi");
    let attempts = receiver.attempts().await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["webhook_id"], attempts[1]["webhook_id"]);
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["status"].clone())
            .collect::<Vec<_>>(),
        [json!(500), json!(200)]
    );
    assert!(attempts.iter().all(|a| a["verified"] == true));
    let events = receiver.events().await;
    assert_eq!(events[0]["type"], "ai.reply_requested");
    let data = &events[0]["data"];
    assert_eq!(data["conversation_id"], conv);
    assert_eq!(data["agent_id"], "max");
    assert_eq!(data["trigger"], "contact_message");
    assert_eq!(data["conversation"]["id"], conv);
    assert_eq!(data["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["messages"][0]["body"], "Hello there");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        messages(&ws, &conv)
            .await
            .into_iter()
            .filter(from_ai)
            .count(),
        1,
        "the reply appears once"
    );
    until_status(&ws, &conv, answer["id"].as_str().expect("an id"), "sent").await;
    // Only webhook agents have a secret to rotate.
    ws.put(ADA, "/agents/eve", json!({"name": "Eve"}))
        .await
        .expect(200);
    ws.post(ADA, "/agents/eve/rotate-secret", json!({}))
        .await
        .problem(422, "validation_failed");
}

/// With `ai.summarizer` naming Max (an LLM agent), summaries and generated
/// closing notes are the model's text (`generator: "llm"`); with the model
/// down, the built-in summarizer's, marked `generator: "builtin"`.
pub async fn the_summarizer_agent_writes_closing_notes(base: &str) {
    let ws = ready(base, "ai_summarizer").await;
    let fakes = Fakes::start().await;
    let settings = |summarizer: Value| {
        json!({
            "auto_close": {"enabled": false, "after_seconds": 86400},
            "closing_notes": {"mode": "optional", "categories": ["billing"], "auto_generate": true},
            "ai": {"end_session_on_human_assignment": true, "stop_on_human_reply": true,
                   "summarizer": summarizer},
            "reopen_on_contact_message": true
        })
    };
    // Only an LLM agent may summarize.
    ws.put(
        ADA,
        "/settings",
        settings(json!({"kind": "llm", "agent_id": "max"})),
    )
    .await
    .problem(422, "validation_failed");
    max_on_the_fake_model(&ws, &fakes).await;
    let saved = ws
        .put(
            ADA,
            "/settings",
            settings(json!({"kind": "llm", "agent_id": "max"})),
        )
        .await
        .expect(200);
    assert_eq!(
        saved["ai"]["summarizer"],
        json!({"kind": "llm", "agent_id": "max"})
    );
    sending_channels(&ws, &fakes).await;
    let conv = ann_writes(&ws, 1, "My invoice is wrong").await;
    ws.post(
        BOB,
        &format!("/conversations/{conv}/messages"),
        json!({"body": "Sorry Ann, I have fixed the billing."}),
    )
    .await
    .expect(201);
    let fake_text = "Max here. You said: My invoice is wrong";

    let summary = ws
        .post(BOB, &format!("/conversations/{conv}/summary"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        (summary["summary"].as_str(), summary["generator"].as_str()),
        (Some(fake_text), Some("llm"))
    );
    let asked = fakes.requests("model").await;
    let request: Value =
        serde_json::from_str(asked[0]["body"].as_str().expect("a body")).expect("JSON");
    assert!(
        request["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.starts_with("Summarize")),
        "{request}"
    );
    let closed = ws
        .act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    let note = &closed["closing"]["note"];
    assert_eq!(note["summary"], fake_text);
    assert_eq!(
        (note["generated"].as_bool(), note["generator"].as_str()),
        (Some(true), Some("llm"))
    );
    assert_eq!(
        note["category"], "billing",
        "categories stay the built-in rule's"
    );
    let timeline = ws.timeline(&conv).await;
    assert_eq!(
        last(&timeline, "closing_note_added")["data"]["generator"],
        "llm"
    );

    // The model is down: the built-in summarizer stands in, and says so.
    fakes
        .fail(json!({"provider": "model", "status": 500}))
        .await;
    let summary = ws
        .post(BOB, &format!("/conversations/{conv}/summary"), json!({}))
        .await
        .expect(200);
    assert_eq!(summary["generator"], "builtin");
    assert!(summary["summary"].is_string() && summary["summary"] != fake_text);
    let draft = ws
        .post(
            BOB,
            &format!("/conversations/{conv}/closing-note/draft"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(draft["generator"], "builtin");
    ws.act(BOB, &conv, "status", json!({"status": "open"}))
        .await
        .expect(200);
    let closed = ws
        .act(BOB, &conv, "status", json!({"status": "closed"}))
        .await
        .expect(200);
    let note = &closed["closing"]["note"];
    assert_eq!(
        (note["generated"].as_bool(), note["generator"].as_str()),
        (Some(true), Some("builtin"))
    );
    assert!(note["summary"].is_string() && note["summary"] != fake_text);
}
