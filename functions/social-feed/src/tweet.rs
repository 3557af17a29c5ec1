//! Tweets as a feed pushes them to the listener: one JSON object, a JSON
//! array of them, or NDJSON (one object per line). The fields read are
//! those of the Twitter API v1.1 and v2 objects a feed most likely carries:
//!
//! - `text` (or v1.1's `full_text`): required, a non-empty string;
//! - `id` (string or integer) or `id_str`: optional, one is made when absent;
//! - `created_at`: optional, RFC 3339 or Twitter's `Wed Dec 02 10:15:30 +0000 2026`;
//! - `user`: optional, a string, or an object with `screen_name`, `username` or `name`.
//!
//! Every tweet is checked before any is published, so a bad one is refused
//! with its position and reason and the request publishes nothing.

use crate::time;
use serde_json::Value;

/// Longest tweet text accepted, in bytes (a tweet is at most 280 characters;
/// long-form posts reach 25,000).
pub const MAX_TEXT_BYTES: usize = 100_000;
/// Longest tweet id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// One tweet, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tweet {
    /// Its id, when the feed gave one.
    pub id: Option<String>,
    /// Its text.
    pub text: String,
    /// Its author, when given.
    pub user: Option<String>,
    /// When it was posted, seconds since the epoch, when given.
    pub created_at: Option<i64>,
}

/// A tweet refused, with its position (1-based item of a JSON array, or
/// NDJSON line) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based position.
    pub position: usize,
    /// What was wrong.
    pub error: String,
}

/// The tweets of a JSON body: one object or an array of objects.
pub fn parse_json(body: &[u8]) -> Result<Vec<Tweet>, Vec<Rejected>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        vec![Rejected {
            position: 1,
            error: format!("the body is not JSON: {e}"),
        }]
    })?;
    match value {
        Value::Array(items) => collect(items.into_iter().enumerate().map(|(i, v)| (i + 1, Ok(v)))),
        object @ Value::Object(_) => collect(std::iter::once((1, Ok(object)))),
        _ => Err(vec![Rejected {
            position: 1,
            error: "the body must be a tweet object or an array of them".into(),
        }]),
    }
}

/// The tweets of an NDJSON body, one object per non-blank line.
pub fn parse_ndjson(body: &[u8]) -> Result<Vec<Tweet>, Vec<Rejected>> {
    let lines = body
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (!line.iter().all(u8::is_ascii_whitespace)).then(|| {
                let value = serde_json::from_slice::<Value>(line)
                    .map_err(|e| format!("the line is not JSON: {e}"));
                (i + 1, value)
            })
        });
    collect(lines)
}

/// Most rejections a reply lists (the count is always complete).
pub const MAX_LISTED_REJECTIONS: usize = 20;

fn collect(
    items: impl Iterator<Item = (usize, Result<Value, String>)>,
) -> Result<Vec<Tweet>, Vec<Rejected>> {
    let mut tweets = Vec::new();
    let mut rejected = Vec::new();
    for (position, value) in items {
        match value.and_then(Tweet::from_value) {
            Ok(tweet) => tweets.push(tweet),
            Err(error) => rejected.push(Rejected { position, error }),
        }
    }
    if rejected.is_empty() {
        Ok(tweets)
    } else {
        Err(rejected)
    }
}

impl Tweet {
    /// Reads one tweet object.
    pub fn from_value(value: Value) -> Result<Self, String> {
        let Value::Object(mut object) = value else {
            return Err("a tweet must be a JSON object".into());
        };
        let text = match object.remove("text").or_else(|| object.remove("full_text")) {
            Some(Value::String(text)) if !text.trim().is_empty() => text,
            Some(Value::String(_)) => return Err("`text` is empty".into()),
            Some(_) => return Err("`text` must be a string".into()),
            None => return Err("`text` is missing".into()),
        };
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!(
                "`text` is {} bytes; at most {MAX_TEXT_BYTES}",
                text.len()
            ));
        }
        let id = match object.remove("id_str").or_else(|| object.remove("id")) {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if !id.is_empty() && id.len() <= MAX_ID_BYTES => Some(id),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Some(n.to_string()),
            Some(_) => {
                return Err(format!(
                    "`id` must be a non-empty string of at most {MAX_ID_BYTES} bytes, or an integer"
                ));
            }
        };
        let created_at = match object.remove("created_at") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => {
                Some(time::parse(&t).map_err(|e| format!("`created_at`: {e}"))?)
            }
            Some(_) => return Err("`created_at` must be a string".into()),
        };
        let user =
            match object.remove("user") {
                None | Some(Value::Null) => None,
                Some(Value::String(user)) => Some(user),
                Some(Value::Object(mut user)) => ["screen_name", "username", "name"]
                    .iter()
                    .find_map(|k| match user.remove(*k) {
                        Some(Value::String(s)) => Some(s),
                        _ => None,
                    }),
                Some(_) => return Err("`user` must be a string or an object".into()),
            };
        Ok(Self {
            id,
            text,
            user,
            created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_an_array_and_ndjson() {
        let one =
            parse_json(br#"{"id": 7, "text": "hi", "user": {"screen_name": "ann"}}"#).expect("one");
        assert_eq!(
            one,
            [Tweet {
                id: Some("7".into()),
                text: "hi".into(),
                user: Some("ann".into()),
                created_at: None
            }]
        );
        let many = parse_json(
            br#"[{"id_str": "8", "full_text": "a", "created_at": "Wed Dec 02 10:15:30 +0000 2026"}, {"text": "b"}]"#,
        )
        .expect("array");
        assert_eq!(many.len(), 2);
        assert_eq!(many[0].created_at, Some(1_796_206_530));
        let lines = parse_ndjson(b"{\"text\": \"a\"}\r\n\n  \n{\"text\": \"b\", \"user\": \"bo\"}")
            .expect("ndjson");
        assert_eq!(lines[1].user.as_deref(), Some("bo"));
    }

    #[test]
    fn every_bad_tweet_is_named_by_position() {
        let err = parse_ndjson(b"{\"text\": \"ok\"}\nnot json\n{\"text\": 5}\n\n{\"id\": [], \"text\": \"x\"}\n{\"text\": \"t\", \"created_at\": \"soon\"}")
            .expect_err("bad lines");
        let positions: Vec<usize> = err.iter().map(|r| r.position).collect();
        assert_eq!(positions, [2, 3, 5, 6]);
        assert!(err[0].error.contains("not JSON"), "{err:?}");
        assert!(err[1].error.contains("`text` must be a string"));
        assert!(err[2].error.contains("`id`"));
        assert!(err[3].error.contains("RFC 3339"));
        assert!(parse_json(b"42").is_err());
        assert!(parse_json(br#"{"text": "  "}"#).is_err());
        let long = format!(r#"{{"text": "{}"}}"#, "a".repeat(MAX_TEXT_BYTES + 1));
        assert!(
            parse_json(long.as_bytes()).expect_err("long")[0]
                .error
                .contains("at most")
        );
    }
}
