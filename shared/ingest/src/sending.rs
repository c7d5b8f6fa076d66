//! Sending credentials in `PUT /channels/{id}`: the fields of the channel's
//! kind, all or none, each checked against the provider's own format.

use inbox_channels::ChannelKind;
use inbox_domain::FieldError;
use inbox_domain::model::{Sending, TwilioSender};

/// The longest access or bot token accepted, in bytes (Meta's long-lived tokens are about 250).
const MAX_TOKEN_BYTES: usize = 4096;
/// The longest URL accepted, in bytes.
const MAX_URL_BYTES: usize = 2048;

/// The sending fields a request gave, by name, in a fixed order.
pub(crate) struct Fields<'a>(pub(crate) Vec<(&'static str, &'a str)>);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// The fields each kind takes: (required, one of which is required).
fn fields_of(kind: ChannelKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ChannelKind::Twilio => (&["account_sid"], &["from", "messaging_service_sid"]),
        ChannelKind::Whatsapp => (&["phone_number_id", "access_token"], &[]),
        ChannelKind::Telegram => (&["bot_token"], &[]),
        ChannelKind::Generic => (&["outbound_url"], &[]),
    }
}

/// The channel's sending credentials, or `None` when none were given; every
/// problem is pushed to `errors` by field (a field of another kind, a missing
/// one once any is given, a value the provider would refuse).
pub(crate) fn parse(
    kind: ChannelKind,
    given: &Fields<'_>,
    errors: &mut Vec<FieldError>,
) -> Option<Sending> {
    if given.0.is_empty() {
        return None;
    }
    let (required, one_of) = fields_of(kind);
    let before = errors.len();
    for (name, _) in &given.0 {
        if !required.contains(name) && !one_of.contains(name) {
            errors.push(FieldError::new(
                *name,
                format!(
                    "is not a field of a {} channel",
                    inbox_channels::kind_name(kind)
                ),
            ));
        }
    }
    for name in required {
        if given.get(name).is_none() {
            errors.push(FieldError::new(
                *name,
                "is required to send on this channel",
            ));
        }
    }
    if !one_of.is_empty() {
        let present = one_of.iter().filter(|n| given.get(n).is_some()).count();
        if present != 1 {
            errors.push(FieldError::new(
                one_of[0],
                format!("give exactly one of {}", one_of.join(" and ")),
            ));
        }
    }
    // Formats are checked on what is present, so one answer names every problem.
    let value = |name: &str| given.get(name).unwrap_or_default().to_string();
    let mut check = |name: &'static str, rule: fn(&str) -> Result<(), String>| {
        if let Some(Err(why)) = given.get(name).map(rule) {
            errors.push(FieldError::new(name, why));
        }
    };
    let sending = match kind {
        ChannelKind::Twilio => {
            check("account_sid", |v| twilio_sid(v, "AC"));
            check("from", twilio_from);
            check("messaging_service_sid", |v| twilio_sid(v, "MG"));
            let sender = match given.get("from") {
                Some(from) => TwilioSender::From(from.to_string()),
                None => TwilioSender::MessagingService(value("messaging_service_sid")),
            };
            Sending::Twilio {
                account_sid: value("account_sid"),
                sender,
            }
        }
        ChannelKind::Whatsapp => {
            check("phone_number_id", |v| {
                if !v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(())
                } else {
                    Err("a WhatsApp phone number id is 1 to 32 digits".into())
                }
            });
            check("access_token", token);
            Sending::Whatsapp {
                phone_number_id: value("phone_number_id"),
                access_token: value("access_token"),
            }
        }
        ChannelKind::Telegram => {
            check("bot_token", telegram_bot_token);
            Sending::Telegram {
                bot_token: value("bot_token"),
            }
        }
        ChannelKind::Generic => {
            check("outbound_url", check_url);
            Sending::Generic {
                outbound_url: value("outbound_url"),
            }
        }
    };
    (errors.len() == before).then_some(sending)
}

/// An absolute `https` URL, or `http` to this machine (a local receiver or
/// fake): credentials and replies never cross the network in clear text.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    const RULE: &str = "must be an https URL (http only to localhost or 127.0.0.1)";
    if url.len() > MAX_URL_BYTES {
        return Err(format!("must be at most {MAX_URL_BYTES} bytes"));
    }
    let parsed = url::Url::parse(url).map_err(|_| RULE.to_string())?;
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    let ok = match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => loopback,
        _ => false,
    };
    if !ok || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(RULE.into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(())
}

/// `AC…` / `MG…` followed by 32 hexadecimal digits.
fn twilio_sid(v: &str, prefix: &str) -> Result<(), String> {
    let ok =
        v.len() == 34 && v.starts_with(prefix) && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a Twilio {prefix} id is {prefix} and 32 hexadecimal digits"
        ))
    }
}

/// A phone number (`+` and 8 to 15 digits), the same on WhatsApp
/// (`whatsapp:+…`), a short code (5 or 6 digits), or an alphanumeric sender
/// id (1 to 11 letters, digits and spaces, with a letter).
fn twilio_from(v: &str) -> Result<(), String> {
    let number = v.strip_prefix("whatsapp:").unwrap_or(v);
    let phone = number
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
    let short_code = (5..=6).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
    let alphanumeric = !v.starts_with("whatsapp:")
        && (1..=11).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && v.bytes().any(|b| b.is_ascii_alphabetic());
    if phone || short_code || alphanumeric {
        Ok(())
    } else {
        Err("must be +E.164, whatsapp:+E.164, a short code or an alphanumeric sender id".into())
    }
}

/// A bearer token: printable ASCII without spaces (it goes into a header).
fn token(v: &str) -> Result<(), String> {
    if !v.is_empty() && v.len() <= MAX_TOKEN_BYTES && v.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(format!(
            "must be 1 to {MAX_TOKEN_BYTES} printable characters without spaces"
        ))
    }
}

/// `<bot id>:<secret>` as BotFather gives it.
fn telegram_bot_token(v: &str) -> Result<(), String> {
    let ok = v.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && secret.len() <= 256
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if ok {
        Ok(())
    } else {
        Err("a Telegram bot token is <digits>:<letters, digits, _ and ->".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: ChannelKind, given: &[(&'static str, &str)]) -> (Option<Sending>, Vec<String>) {
        let mut errors = Vec::new();
        let s = parse(kind, &Fields(given.to_vec()), &mut errors);
        (s, errors.into_iter().map(|e| e.field).collect())
    }

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn none_given_is_a_receive_only_channel() {
        assert_eq!(run(ChannelKind::Twilio, &[]), (None, vec![]));
    }

    #[test]
    fn twilio_takes_exactly_one_sender() {
        let (s, e) = run(
            ChannelKind::Twilio,
            &[("account_sid", SID), ("from", "+15550001111")],
        );
        assert!(e.is_empty(), "{e:?}");
        assert!(matches!(
            s,
            Some(Sending::Twilio {
                sender: TwilioSender::From(_),
                ..
            })
        ));
        let (_, e) = run(
            ChannelKind::Twilio,
            &[
                ("account_sid", SID),
                ("from", "+15550001111"),
                (
                    "messaging_service_sid",
                    "MG0123456789abcdef0123456789abcdef",
                ),
            ],
        );
        assert_eq!(e, ["from"]);
        let (_, e) = run(ChannelKind::Twilio, &[("account_sid", SID)]);
        assert_eq!(e, ["from"]);
        let (_, e) = run(
            ChannelKind::Twilio,
            &[("account_sid", "AC12"), ("from", "5550001111")],
        );
        assert_eq!(e, ["account_sid", "from"]);
        let (_, e) = run(ChannelKind::Twilio, &[("account_sid", "AC12")]);
        assert_eq!(e, ["from", "account_sid"]);
        assert!(twilio_from("whatsapp:+15550001111").is_ok());
        assert!(twilio_from("Acme Shop").is_ok());
        assert!(twilio_from("12345").is_ok(), "a short code");
        assert!(twilio_from("1234").is_err());
        assert!(twilio_from("whatsapp:12345").is_err());
    }

    #[test]
    fn fields_of_another_kind_are_named() {
        let (s, e) = run(
            ChannelKind::Telegram,
            &[("bot_token", "1:abc"), ("access_token", "x")],
        );
        assert_eq!((s, e), (None, vec!["access_token".to_string()]));
        let (_, e) = run(ChannelKind::Whatsapp, &[("access_token", "t")]);
        assert_eq!(e, ["phone_number_id"]);
    }

    #[test]
    fn formats_follow_the_providers() {
        assert!(telegram_bot_token("123456:AAH-x_y").is_ok());
        assert!(telegram_bot_token("abc:def").is_err());
        assert!(telegram_bot_token("123:").is_err());
        assert!(token("EAAG abc").is_err());
        let (_, e) = run(
            ChannelKind::Whatsapp,
            &[("phone_number_id", "12a"), ("access_token", "EAAG")],
        );
        assert_eq!(e, ["phone_number_id"]);
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(check_url("https://hooks.example.com/inbox").is_ok());
        assert!(check_url("http://127.0.0.1:9000/x").is_ok());
        assert!(check_url("http://localhost:9000").is_ok());
        assert!(check_url("http://[::1]:9000").is_ok());
        assert!(check_url("http://hooks.example.com/x").is_err());
        assert!(check_url("ftp://example.com").is_err());
        assert!(check_url("https://user:pw@example.com").is_err());
        assert!(check_url("https://example.com/?a=1").is_err());
        assert!(check_url("not a url").is_err());
    }
}
