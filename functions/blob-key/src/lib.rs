//! Blob keys: UTF-8, 1 to 1,024 bytes, no leading `/`, no `.` or `..`
//! segment, no control character. The blob-upload function checks them
//! before touching a store, and every store checks them again, so a key
//! that reaches a backend is always one of these.

/// Most bytes in a key.
pub const MAX_KEY_BYTES: usize = 1024;

/// Why a key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty.
    #[error("the key is empty")]
    Empty,
    /// Longer than [`MAX_KEY_BYTES`].
    #[error("the key is {0} bytes; at most 1024 are allowed")]
    TooLong(usize),
    /// Starts with `/`.
    #[error("the key starts with `/`")]
    LeadingSlash,
    /// Has a `.` or `..` segment.
    #[error("the key has a `{0}` segment")]
    DotSegment(&'static str),
    /// Has a control character.
    #[error("the key has a control character (U+{0:04X})")]
    Control(u32),
}

/// Checks a key against the rules.
pub fn validate(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong(key.len()));
    }
    if key.starts_with('/') {
        return Err(KeyError::LeadingSlash);
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(KeyError::Control(u32::from(c)));
    }
    for segment in key.split('/') {
        match segment {
            "." => return Err(KeyError::DotSegment(".")),
            ".." => return Err(KeyError::DotSegment("..")),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_rules() {
        let long = "k".repeat(1025);
        let cases: &[(&str, Result<(), KeyError>)] = &[
            ("a", Ok(())),
            ("docs/2026/report.pdf", Ok(())),
            ("ünïcödé/日本語.txt", Ok(())),
            ("trailing/", Ok(())),
            ("a..b/.hidden/...", Ok(())),
            ("with space and %41", Ok(())),
            ("", Err(KeyError::Empty)),
            (&long, Err(KeyError::TooLong(1025))),
            ("/abs", Err(KeyError::LeadingSlash)),
            (".", Err(KeyError::DotSegment("."))),
            ("a/./b", Err(KeyError::DotSegment("."))),
            ("..", Err(KeyError::DotSegment(".."))),
            ("a/../b", Err(KeyError::DotSegment(".."))),
            ("a/..", Err(KeyError::DotSegment(".."))),
            ("tab\there", Err(KeyError::Control(9))),
            ("nul\0", Err(KeyError::Control(0))),
            ("del\u{7f}", Err(KeyError::Control(0x7f))),
            ("c1\u{85}", Err(KeyError::Control(0x85))),
        ];
        for (key, expected) in cases {
            assert_eq!(&validate(key), expected, "{key:?}");
        }
        assert_eq!(validate(&"é".repeat(512)), Ok(()), "1024 bytes exactly");
        assert_eq!(validate(&"é".repeat(513)), Err(KeyError::TooLong(1026)));
    }
}
