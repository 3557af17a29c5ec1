//! Percent-decoding, by where the text comes from:
//!
//! - **Paths** (a blob key in `/blobs/KEY`): RFC 3986. `%XX` is the byte
//!   `XX`; every other character, `+` included, stands for itself, so the
//!   key `a+b` is `/blobs/a+b`.
//! - **Query strings** (`?ops=…`, `?prefix=…`): `application/x-www-form-urlencoded`,
//!   which is what HTML forms, `URLSearchParams` and `curl --data-urlencode -G`
//!   send: `+` is a space and a literal plus arrives as `%2B`; then as for
//!   paths. Names are decoded as values are.
//!
//! Both are strict: a `%` not followed by two hex digits, or bytes that are
//! not UTF-8 once decoded, are an error (the functions answer `400`), never
//! guessed at, since the text names a blob or an operation and a guess would
//! silently name another.

/// Why percent-encoded text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A `%` at this byte offset is not followed by two hex digits.
    #[error("the `%` at byte {0} is not followed by two hex digits")]
    BrokenEscape(usize),
    /// The decoded bytes are not UTF-8.
    #[error("it is not UTF-8 once percent-decoded")]
    NotUtf8,
}

/// Decodes a path segment (RFC 3986: `+` is a plus).
pub fn decode(text: &str) -> Result<String, DecodeError> {
    decode_bytes(text, false)
}

/// Decodes a query-string name or value (form encoding: `+` is a space).
pub fn decode_form(text: &str) -> Result<String, DecodeError> {
    decode_bytes(text, true)
}

fn decode_bytes(text: &str, plus_is_space: bool) -> Result<String, DecodeError> {
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Ok(text.to_owned());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let digit = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
                let (Some(high), Some(low)) = (digit(i + 1), digit(i + 2)) else {
                    return Err(DecodeError::BrokenEscape(i));
                };
                // Two hex digits: at most 255.
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_escapes_and_keep_plus() {
        assert_eq!(decode("a/b%20c+d.txt"), Ok("a/b c+d.txt".into()));
        assert_eq!(decode("%C3%BCber"), Ok("über".into()));
        assert_eq!(decode("%2e%2E"), Ok("..".into()));
        assert_eq!(decode("plain"), Ok("plain".into()));
        assert_eq!(decode(""), Ok(String::new()));
    }

    #[test]
    fn queries_decode_plus_as_space_and_escaped_plus_as_plus() {
        assert_eq!(decode_form("a%2Cb%3a1+2"), Ok("a,b:1 2".into()));
        assert_eq!(decode_form("1%2B1"), Ok("1+1".into()));
        assert_eq!(decode_form("+"), Ok(" ".into()));
    }

    #[test]
    fn broken_escapes_and_non_utf8_are_errors() {
        for (text, error) in [
            ("%", DecodeError::BrokenEscape(0)),
            ("ab%4", DecodeError::BrokenEscape(2)),
            ("%zz", DecodeError::BrokenEscape(0)),
            ("a%2", DecodeError::BrokenEscape(1)),
            ("%+1", DecodeError::BrokenEscape(0)),
            ("%FF", DecodeError::NotUtf8),
            ("%C3", DecodeError::NotUtf8),
        ] {
            assert_eq!(decode(text), Err(error.clone()), "{text}");
            assert_eq!(decode_form(text), Err(error), "{text}");
        }
        assert_eq!(
            DecodeError::BrokenEscape(3).to_string(),
            "the `%` at byte 3 is not followed by two hex digits"
        );
    }
}
