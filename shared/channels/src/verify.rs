//! Signature checks, one per provider, over the raw request.
//!
//! Every comparison of secret-derived bytes goes through [`subtle`], so the time
//! taken does not reveal how much of a forged signature was right.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::{VerifyError, form, headers};

/// Twilio's signature header.
pub const TWILIO_SIGNATURE_HEADER: &str = "x-twilio-signature";
/// Meta's signature header for WhatsApp Cloud deliveries.
pub const WHATSAPP_SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// The header Telegram echoes the webhook's `secret_token` in.
pub const TELEGRAM_SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The generic scheme's signature header.
pub const GENERIC_SIGNATURE_HEADER: &str = "x-inbox-signature";
/// The generic scheme's signed timestamp header (Unix seconds).
pub const GENERIC_TIMESTAMP_HEADER: &str = "x-inbox-timestamp";
/// How far the generic timestamp may be from `now`, either way, to limit replays.
pub const GENERIC_TOLERANCE_SECONDS: u64 = 300;

/// The prefix Meta and the generic scheme put before the hex digest.
const SHA256_PREFIX: &str = "sha256=";

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

/// Checks `X-Twilio-Signature` against the public URL and the form body.
///
/// Twilio signs the URL it called followed by every POST parameter's name and
/// value, sorted by name (repeated names: their distinct values, sorted, as
/// Twilio's own helper libraries do). It may sign the URL with or without the
/// scheme's default port, so both spellings are tried.
pub fn verify_twilio(
    secret: &str,
    public_url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let header = headers::single(headers, TWILIO_SIGNATURE_HEADER)?;
    let given = BASE64
        .decode(header)
        .map_err(|_| malformed(TWILIO_SIGNATURE_HEADER, "not base64"))?;
    if given.len() != 20 {
        return Err(malformed(
            TWILIO_SIGNATURE_HEADER,
            "not an HMAC-SHA1 digest",
        ));
    }
    let params = form::decode(body);
    let mut matched = Choice::from(0);
    for url in url_port_variants(public_url) {
        matched |= digest_matches(twilio_digest(secret, &url, &params).as_deref(), &given);
    }
    ok_if(matched)
}

/// The `X-Twilio-Signature` value Twilio would send for this URL and form body
/// (for simulators and tests; empty only in the impossible case noted at [`hmac_sha1`]).
pub fn twilio_signature(secret: &str, public_url: &str, body: &[u8]) -> String {
    twilio_digest(secret, public_url, &form::decode(body))
        .map(|digest| BASE64.encode(digest))
        .unwrap_or_default()
}

/// HMAC-SHA1 over the URL and the sorted parameters.
fn twilio_digest(secret: &str, url: &str, params: &[(Vec<u8>, Vec<u8>)]) -> Option<Vec<u8>> {
    let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + 2 * sorted.len());
    parts.push(url.as_bytes());
    for (name, value) in sorted {
        parts.push(name);
        parts.push(value);
    }
    hmac_sha1(secret, &parts)
}

/// The URL as configured, then with the default port added or removed.
fn url_port_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return variants;
    }
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    let port_split = authority
        .rsplit_once(':')
        .filter(|(_, port)| !port.contains(']'));
    match port_split {
        Some((host, port)) if port == default_port => {
            variants.push(format!("{scheme}://{host}{tail}"));
        }
        Some(_) => {}
        None => variants.push(format!("{scheme}://{authority}:{default_port}{tail}")),
    }
    variants
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` over the raw body with the app secret.
pub fn verify_whatsapp(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let given = sha256_header(headers, WHATSAPP_SIGNATURE_HEADER)?;
    let computed = hmac_sha256(secret, &[body]);
    ok_if(digest_matches(
        computed.as_ref().map(|d| d.as_slice()),
        &given,
    ))
}

/// The `X-Hub-Signature-256` value Meta would send for this body (for simulators and tests).
pub fn whatsapp_signature(secret: &str, body: &[u8]) -> String {
    sha256_header_value(hmac_sha256(secret, &[body]))
}

/// Checks that `X-Telegram-Bot-Api-Secret-Token` equals the secret.
///
/// Both sides are hashed before the constant-time comparison so that not even
/// the secret's length leaks through timing.
pub fn verify_telegram(secret: &str, headers: &HeaderMap) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let given = headers::single(headers, TELEGRAM_SECRET_HEADER)?;
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(secret.as_bytes());
    ok_if(given.as_slice().ct_eq(expected.as_slice()))
}

/// Checks the generic scheme: an HMAC over `"<timestamp>.<body>"`, then the timestamp's age.
///
/// The signature is checked first so that a stale-timestamp answer is only ever
/// given for a delivery that really came from the secret's holder (useful to
/// diagnose clock skew, useless to a forger).
pub fn verify_generic(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let given = sha256_header(headers, GENERIC_SIGNATURE_HEADER)?;
    let stamp_text = headers::single(headers, GENERIC_TIMESTAMP_HEADER)?;
    let timestamp = parse_unix_seconds(stamp_text)?;
    let computed = hmac_sha256(secret, &[stamp_text.as_bytes(), b".", body]);
    ok_if(digest_matches(
        computed.as_ref().map(|d| d.as_slice()),
        &given,
    ))?;
    if timestamp.abs_diff(now) > GENERIC_TOLERANCE_SECONDS {
        return Err(VerifyError::StaleTimestamp {
            timestamp,
            now,
            tolerance: GENERIC_TOLERANCE_SECONDS,
        });
    }
    Ok(())
}

/// The `X-Inbox-Signature` value a sender must put on `body` signed at `timestamp`.
/// (for integrations' test tools and our own tests).
pub fn generic_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let stamp = timestamp.to_string();
    sha256_header_value(hmac_sha256(secret, &[stamp.as_bytes(), b".", body]))
}

/// Formats a digest as `sha256=<hex>`; empty in the impossible case noted at [`hmac_sha1`].
fn sha256_header_value(digest: Option<[u8; 32]>) -> String {
    digest
        .map(|digest| format!("{SHA256_PREFIX}{}", hex::encode(digest)))
        .unwrap_or_default()
}

/// Reads a `sha256=<64 hex digits>` header into the 32 digest bytes.
fn sha256_header(headers: &HeaderMap, name: &'static str) -> Result<[u8; 32], VerifyError> {
    let value = headers::single(headers, name)?;
    let digits = value
        .strip_prefix(SHA256_PREFIX)
        .ok_or_else(|| malformed(name, "does not start with sha256="))?;
    let mut digest = [0_u8; 32];
    hex::decode_to_slice(digits, &mut digest)
        .map_err(|_| malformed(name, "not 64 hexadecimal digits"))?;
    Ok(digest)
}

/// Parses a timestamp of plain decimal digits (no sign, no fraction, no spaces).
fn parse_unix_seconds(text: &str) -> Result<i64, VerifyError> {
    let plain = !text.is_empty() && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit());
    if !plain {
        return Err(malformed(GENERIC_TIMESTAMP_HEADER, "not Unix seconds"));
    }
    text.parse()
        .map_err(|_| malformed(GENERIC_TIMESTAMP_HEADER, "not Unix seconds"))
}

/// Refuses an empty secret, which would make every HMAC forgeable and match an empty header.
fn require_secret(secret: &str) -> Result<(), VerifyError> {
    if secret.is_empty() {
        Err(VerifyError::NoSecret)
    } else {
        Ok(())
    }
}

/// HMAC-SHA1 of the concatenated `parts`, keyed with the secret.
///
/// `None` only if the key were refused, which HMAC never does (any length is
/// valid); callers fail closed on it instead of carrying a panic path.
fn hmac_sha1(secret: &str, parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

/// HMAC-SHA256 of the concatenated `parts`, keyed with the secret (see [`hmac_sha1`]).
fn hmac_sha256(secret: &str, parts: &[&[u8]]) -> Option<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().into())
}

/// Constant-time equality of an optional computed digest with the given one.
fn digest_matches(computed: Option<&[u8]>, given: &[u8]) -> Choice {
    computed.map_or(Choice::from(0), |computed| computed.ct_eq(given))
}

/// Turns a constant-time equality into the verifier's result.
fn ok_if(matched: Choice) -> Result<(), VerifyError> {
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// Shorthand for a malformed-header error.
fn malformed(header: &'static str, reason: &'static str) -> VerifyError {
    VerifyError::MalformedHeader { header, reason }
}

#[cfg(test)]
mod tests {
    use super::url_port_variants;

    #[test]
    fn adds_or_removes_the_default_port() {
        assert_eq!(
            url_port_variants("https://example.com/hook?x=1"),
            [
                "https://example.com/hook?x=1",
                "https://example.com:443/hook?x=1"
            ]
        );
        assert_eq!(
            url_port_variants("https://example.com:443/hook"),
            ["https://example.com:443/hook", "https://example.com/hook"]
        );
        assert_eq!(
            url_port_variants("http://[::1]/hook"),
            ["http://[::1]/hook", "http://[::1]:80/hook"]
        );
        assert_eq!(
            url_port_variants("https://example.com:8443/hook"),
            ["https://example.com:8443/hook"]
        );
        assert_eq!(url_port_variants("not a url"), ["not a url"]);
    }
}
