//! Validated text values: display names, emails and phone numbers, each with
//! its limit. What a person types into the API is refused when it breaks a
//! rule (422 naming the field); what a channel delivers is cleaned instead
//! (trimmed, control characters dropped, cut at a character boundary), never
//! refused: a contact's message must not be lost over a long profile name.

use crate::error::{DomainError, FieldError};

/// Trims, and refuses control characters and more than `max` characters.
fn parse_text(field: &'static str, max: usize, raw: &str) -> Result<Option<String>, DomainError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let refuse = |message: String| DomainError::Validation {
        message: format!("{field} {message}"),
        errors: vec![FieldError::new(field, &message)],
    };
    if v.chars().count() > max {
        return Err(refuse(format!("must be at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(refuse("must not contain control characters".into()));
    }
    Ok(Some(v.to_string()))
}

/// Turns control whitespace (tabs, line breaks) into spaces, drops other
/// control characters, trims, and cuts at `max` characters.
fn clean_text(max: usize, raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .filter_map(|c| match c {
            c if c.is_control() && c.is_whitespace() => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    let cut: String = kept.trim().chars().take(max).collect();
    let cut = cut.trim_end();
    (!cut.is_empty()).then(|| cut.to_string())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest value, in characters.
            pub const MAX_CHARS: usize = $max;
            /// The API field it is reported under.
            pub const FIELD: &'static str = $field;

            /// API input: trimmed; blank is absent; too long or with control
            /// characters is 422 `validation_failed` naming the field.
            pub fn parse(raw: &str) -> Result<Option<Self>, DomainError> {
                Ok(parse_text(Self::FIELD, Self::MAX_CHARS, raw)?.map($name))
            }

            /// Like [`Self::parse`], for an optional field (absent stays absent).
            pub fn parse_opt(raw: Option<&str>) -> Result<Option<Self>, DomainError> {
                raw.map_or(Ok(None), Self::parse)
            }

            /// Channel input: cleaned and cut to the limit, never refused.
            pub fn from_channel(raw: &str) -> Option<Self> {
                clean_text(Self::MAX_CHARS, raw).map($name)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

text_value!(
    /// A display name: a contact's, member's, team's, agent's or channel's.
    DisplayName,
    "name",
    200
);
text_value!(
    /// An email address as given (the inbox sends no mail, so it is not verified).
    Email,
    "email",
    254
);
text_value!(
    /// A phone number as given (channels send E.164, people type anything).
    Phone,
    "phone",
    64
);

macro_rules! into_string {
    ($($t:ident),*) => {$(
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    )*};
}
into_string!(DisplayName, Email, Phone);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_input_is_trimmed_and_refused_when_it_breaks_a_rule() {
        assert_eq!(
            DisplayName::parse("  Ann Fox ").unwrap().map(String::from),
            Some("Ann Fox".into())
        );
        assert_eq!(DisplayName::parse("   ").unwrap(), None);
        let long = "é".repeat(201);
        let err = DisplayName::parse(&long).unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert!(Phone::parse("+1\n555").is_err());
        assert!(Email::parse(&"a".repeat(255)).is_err());
        assert!(Email::parse(&"a".repeat(254)).unwrap().is_some());
        assert_eq!(Phone::parse_opt(None).unwrap(), None);
    }

    #[test]
    fn channel_input_is_cleaned_and_cut_at_a_character_boundary() {
        let long = format!("{}é", "a".repeat(199)) + "ééé";
        let cut = DisplayName::from_channel(&long).unwrap();
        assert_eq!(cut.as_str().chars().count(), 200);
        assert!(cut.as_str().ends_with('é'));
        assert_eq!(
            DisplayName::from_channel(" Ann\u{0}\tFox\n").map(String::from),
            Some("Ann Fox".into())
        );
        assert_eq!(Phone::from_channel("\n"), None);
        // A multi-byte character straddling the limit is kept whole or not at all.
        let emoji = "😀".repeat(70);
        assert_eq!(
            Phone::from_channel(&emoji)
                .unwrap()
                .as_str()
                .chars()
                .count(),
            64
        );
    }
}
