//! The WhatsApp subscription handshake.

use inbox_channels::{HandshakeError, whatsapp_handshake, whatsapp_handshake_query};

const TOKEN: Option<&str> = Some("meatyhamhock");

#[test]
fn echoes_the_challenge_when_the_token_matches() {
    assert_eq!(
        whatsapp_handshake_query(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
            TOKEN
        ),
        Ok("1158201444".to_owned())
    );
    assert_eq!(
        whatsapp_handshake(Some("subscribe"), Some("meatyhamhock"), Some("abc"), TOKEN),
        Ok("abc".to_owned())
    );
    // Escaped values are decoded before comparison.
    assert_eq!(
        whatsapp_handshake_query(
            "hub.mode=subscribe&hub.verify_token=a%20b%2Bc&hub.challenge=42",
            Some("a b+c")
        ),
        Ok("42".to_owned())
    );
}

#[test]
fn refuses_every_other_request() {
    let cases = [
        (
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
            HandshakeError::TokenMismatch,
        ),
        (
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhoc",
            HandshakeError::TokenMismatch,
        ),
        (
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=",
            HandshakeError::TokenMismatch,
        ),
        (
            "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
            HandshakeError::WrongMode,
        ),
        (
            "hub.challenge=1&hub.verify_token=meatyhamhock",
            HandshakeError::MissingParameter("hub.mode"),
        ),
        (
            "hub.mode=subscribe&hub.challenge=1",
            HandshakeError::MissingParameter("hub.verify_token"),
        ),
        (
            "hub.mode=subscribe&hub.verify_token=meatyhamhock",
            HandshakeError::MissingParameter("hub.challenge"),
        ),
        (
            "hub.mode=subscribe&hub.challenge=&hub.verify_token=meatyhamhock",
            HandshakeError::BadChallenge,
        ),
        (
            "hub.mode=subscribe&hub.challenge=a%0Ab&hub.verify_token=meatyhamhock",
            HandshakeError::BadChallenge,
        ),
        (
            "hub.mode=subscribe&hub.verify_token=meatyhamhock&hub.verify_token=other&hub.challenge=1",
            HandshakeError::MissingParameter("hub.verify_token"),
        ),
        ("", HandshakeError::MissingParameter("hub.mode")),
    ];
    for (query, expected) in cases {
        assert_eq!(
            whatsapp_handshake_query(query, TOKEN),
            Err(expected),
            "{query}"
        );
    }
    let long = format!(
        "hub.mode=subscribe&hub.verify_token=meatyhamhock&hub.challenge={}",
        "9".repeat(257)
    );
    assert_eq!(
        whatsapp_handshake_query(&long, TOKEN),
        Err(HandshakeError::BadChallenge)
    );
}

#[test]
fn a_channel_without_a_verify_token_refuses_even_an_empty_one() {
    let query = "hub.mode=subscribe&hub.challenge=1&hub.verify_token=";
    assert_eq!(
        whatsapp_handshake_query(query, None),
        Err(HandshakeError::NoVerifyToken)
    );
    assert_eq!(
        whatsapp_handshake_query(query, Some("")),
        Err(HandshakeError::NoVerifyToken)
    );
}
