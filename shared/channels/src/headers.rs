//! Reading one security header out of a [`HeaderMap`].

use http::HeaderMap;

use crate::VerifyError;

/// The single value of header `name`, as text.
///
/// `HeaderMap` matches names case-insensitively. A header sent twice is
/// refused rather than resolved: which copy a proxy or framework picks differs,
/// and a signature must not depend on that.
pub(crate) fn single<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<&'a str, VerifyError> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(VerifyError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(VerifyError::MalformedHeader {
            header: name,
            reason: "sent more than once",
        });
    }
    let text = value.to_str().map_err(|_| VerifyError::MalformedHeader {
        header: name,
        reason: "not visible ASCII",
    })?;
    Ok(text.trim())
}
