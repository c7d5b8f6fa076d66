use super::*;

fn llm_input() -> LlmInput {
    LlmInput {
        base_url: Some("https://api.openai.com/v1/".into()),
        model: Some("gpt-4o-mini".into()),
        api_key: Some("sk-1".into()),
        instructions: Some("You are Max.".into()),
        history_messages: None,
        timeout_seconds: None,
    }
}

fn parse(input: &AgentInput, existing: Option<&AgentKind>) -> Result<AgentKind, DomainError> {
    AgentKind::parse(input, existing, UrlPolicy::PublicOnly, || {
        "whsec_new".into()
    })
}

fn invalid_field(r: Result<AgentKind, DomainError>) -> String {
    match r {
        Err(DomainError::Validation { errors, .. }) => errors[0].field.clone(),
        Err(DomainError::InvalidUrl(_)) => "invalid_url".into(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn an_agent_is_external_unless_told() {
    assert_eq!(parse(&AgentInput::default(), None), Ok(AgentKind::External));
    let wrong = AgentInput {
        kind: Some("robot".into()),
        ..Default::default()
    };
    assert_eq!(invalid_field(parse(&wrong, None)), "kind");
    let stray = AgentInput {
        llm: Some(llm_input()),
        ..Default::default()
    };
    assert_eq!(invalid_field(parse(&stray, None)), "llm");
}

#[test]
fn an_llm_agent_gets_defaults_and_keeps_its_key_when_none_is_sent() {
    let input = AgentInput {
        kind: Some("llm".into()),
        llm: Some(llm_input()),
        ..Default::default()
    };
    let AgentKind::Llm(made) = parse(&input, None).unwrap() else {
        panic!("not an llm agent");
    };
    assert_eq!(made.base_url, "https://api.openai.com/v1");
    assert_eq!((made.history_messages, made.timeout_seconds), (20, 20));
    assert_eq!(made.endpoint().api_key, "sk-1");

    let mut keyless = input.clone();
    keyless.llm.as_mut().unwrap().api_key = None;
    assert_eq!(invalid_field(parse(&keyless, None)), "llm.api_key");
    let kept = parse(&keyless, Some(&AgentKind::Llm(made.clone()))).unwrap();
    assert_eq!(kept, AgentKind::Llm(made));

    for (f, v) in [
        ("history", 0),
        ("history", 101),
        ("timeout", 61),
        ("timeout", -1),
    ] {
        let mut bad = input.clone();
        let llm = bad.llm.as_mut().unwrap();
        if f == "history" {
            llm.history_messages = Some(v);
        } else {
            llm.timeout_seconds = Some(v);
        }
        assert!(
            invalid_field(parse(&bad, None)).starts_with("llm."),
            "{f} {v}"
        );
    }
    let mut no_model = input.clone();
    no_model.llm.as_mut().unwrap().model = Some("  ".into());
    assert_eq!(invalid_field(parse(&no_model, None)), "llm.model");
}

#[test]
fn model_and_webhook_urls_obey_the_request_forgery_guard() {
    let mut input = AgentInput {
        kind: Some("llm".into()),
        llm: Some(llm_input()),
        ..Default::default()
    };
    input.llm.as_mut().unwrap().base_url = Some("http://169.254.169.254/v1".into());
    assert_eq!(invalid_field(parse(&input, None)), "invalid_url");
    input.llm.as_mut().unwrap().base_url = Some("http://127.0.0.1:11434/v1".into());
    assert_eq!(invalid_field(parse(&input, None)), "invalid_url");
    let local = AgentKind::parse(&input, None, UrlPolicy::AllowLoopback, || "x".into());
    assert!(local.is_ok(), "a local model on the dev server");

    let hook = AgentInput {
        kind: Some("webhook".into()),
        webhook_url: Some(Some("https://10.0.0.1/agent".into())),
        ..Default::default()
    };
    assert_eq!(invalid_field(parse(&hook, None)), "invalid_url");
    let missing = AgentInput {
        kind: Some("webhook".into()),
        webhook_url: Some(None),
        ..Default::default()
    };
    assert_eq!(invalid_field(parse(&missing, None)), "webhook.url");
}

#[test]
fn a_webhook_agent_gets_a_secret_once_and_keeps_it() {
    let input = AgentInput {
        kind: Some("webhook".into()),
        webhook_url: Some(Some("https://agent.example/inbox".into())),
        ..Default::default()
    };
    let made = parse(&input, None).unwrap();
    let AgentKind::Webhook(w) = &made else {
        panic!("not a webhook agent");
    };
    assert_eq!(w.secret, "whsec_new");
    let again = AgentKind::parse(&input, Some(&made), UrlPolicy::PublicOnly, || {
        panic!("a PUT keeps the secret")
    })
    .unwrap();
    assert_eq!(again, made);
    assert!(!format!("{made:?}").contains("whsec_new"));
}

#[test]
fn a_webhook_body_is_a_reply_a_handoff_or_an_acknowledgement() {
    assert_eq!(
        read_webhook_answer(r#"{"reply": {"body": " Hi "}}"#),
        Ok(Some(AgentAnswer::Reply("Hi".into())))
    );
    assert_eq!(
        read_webhook_answer(r#"{"handoff": {"reason": "asks for a person"}}"#),
        Ok(Some(AgentAnswer::Handoff(Some("asks for a person".into()))))
    );
    assert_eq!(
        read_webhook_answer(r#"{"handoff": {}}"#),
        Ok(Some(AgentAnswer::Handoff(None)))
    );
    for ack in [
        "",
        "OK",
        "{}",
        r#"{"received": true}"#,
        r#"{"reply": null}"#,
    ] {
        assert_eq!(read_webhook_answer(ack), Ok(None), "{ack}");
    }
    for bad in [
        r#"{"reply": {"body": ""}}"#,
        r#"{"reply": {}}"#,
        r#"{"reply": "Hi"}"#,
    ] {
        assert!(read_webhook_answer(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_dead_agent_is_tried_three_times_within_the_deadline() {
    let timeout = ModelFailure::Timeout;
    assert_eq!(wait_before_try(2, &timeout, 20_000, 20_000), Some(2_000));
    assert_eq!(wait_before_try(3, &timeout, 42_000, 20_000), Some(5_000));
    assert_eq!(wait_before_try(4, &timeout, 50, 20_000), None);
    // A slow model gets fewer tries rather than a longer wait for the contact.
    assert_eq!(wait_before_try(3, &timeout, 2 * 31_000, 30_000), None);
    let refused = ModelFailure::Status {
        status: 401,
        message: String::new(),
        retry_after: None,
    };
    assert_eq!(wait_before_try(2, &refused, 10, 20_000), None);
    let slow_down = ModelFailure::Status {
        status: 429,
        message: String::new(),
        retry_after: Some(9),
    };
    assert_eq!(wait_before_try(2, &slow_down, 10, 20_000), Some(9_000));
}

#[test]
fn a_request_is_the_same_however_often_it_comes() {
    let event = DomainEvent::AiReplyRequested {
        workspace_id: "acme".into(),
        conversation_id: "c1".into(),
        agent_id: "max".into(),
        session_id: "ses_1".into(),
        trigger: ReplyTrigger::ContactMessage,
        message_id: Some("msg_1".into()),
    };
    let req = AnswerRequest::of(&event).unwrap();
    assert_eq!(req.key(), "aireq_ses_1_msg_1");
    let back: AnswerRequest = serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
    assert_eq!(back, req);
}
