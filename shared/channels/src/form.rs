//! `application/x-www-form-urlencoded` decoding to raw bytes.
//!
//! Written here rather than borrowed because the common decoders replace
//! invalid UTF-8 with U+FFFD; a signature must be computed over exactly what
//! was sent, and the parser must be able to tell such input apart.

/// Decodes a form body into `(name, value)` byte pairs, in order, keeping repeats.
///
/// Follows the WHATWG rules: split on `&`, drop empty pieces, split each on the
/// first `=`, turn `+` into a space and `%XX` into a byte; a `%` not followed by
/// two hex digits is kept as is.
pub(crate) fn decode(body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    body.split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.iter().position(|&b| b == b'=') {
            Some(at) => (
                unescape(piece.get(..at).unwrap_or_default()),
                unescape(piece.get(at + 1..).unwrap_or_default()),
            ),
            None => (unescape(piece), Vec::new()),
        })
        .collect()
}

/// Undoes `+` and `%XX` escaping of one name or value.
fn unescape(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'+' => {
                out.push(b' ');
                rest = tail;
            }
            b'%' => match tail {
                [hi, lo, after @ ..] => match (hex_value(*hi), hex_value(*lo)) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        rest = after;
                    }
                    _ => {
                        out.push(b'%');
                        rest = tail;
                    }
                },
                _ => {
                    out.push(b'%');
                    rest = tail;
                }
            },
            other => {
                out.push(other);
                rest = tail;
            }
        }
    }
    out
}

/// The value of one ASCII hex digit.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn pairs(body: &str) -> Vec<(String, String)> {
        decode(body.as_bytes())
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }

    #[test]
    fn decodes_escapes_plus_and_repeats() {
        assert_eq!(
            pairs("a=1&b=x+y%2Bz&&a=2&c&d=%E2%9C%93&e=%zz%4"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y+z".into()),
                ("a".into(), "2".into()),
                ("c".into(), "".into()),
                ("d".into(), "✓".into()),
                ("e".into(), "%zz%4".into()),
            ]
        );
    }

    #[test]
    fn keeps_invalid_utf8_as_bytes() {
        assert_eq!(decode(b"k=%FF%FE"), vec![(b"k".to_vec(), vec![0xFF, 0xFE])]);
    }

    #[test]
    fn splits_on_first_equals_only() {
        assert_eq!(pairs("k=a=b"), vec![("k".into(), "a=b".into())]);
    }
}
