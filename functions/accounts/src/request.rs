//! Reading the JSON requests: an object whose fields are strings, numbers
//! or null, each named in the error when it is the wrong kind.

use component_http::Reply;
use serde_json::{Map, Value};

/// Largest request body: 64 KiB (a password is at most 1,024 bytes).
pub const MAX_BODY: usize = 64 << 10;

/// A request's JSON object.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Parses `body`, or the `400` saying why it is not a JSON object.
    pub fn parse(body: &[u8]) -> Result<Self, Reply> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(Reply::error(400, "the body must be a JSON object")),
            Err(e) => Err(Reply::error(
                400,
                format!("the body is not valid JSON: {e}"),
            )),
        }
    }

    /// The string field `name`, if present and not null.
    pub fn text(&self, name: &str) -> Result<Option<&str>, Reply> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Reply::error(400, format!("{name}: must be a string"))),
        }
    }

    /// The string field `name`, required.
    pub fn required(&self, name: &str) -> Result<&str, Reply> {
        self.text(name)?
            .ok_or_else(|| Reply::error(400, format!("{name}: required")))
    }

    /// The whole-number field `name`, if present and not null.
    pub fn number(&self, name: &str) -> Result<Option<i64>, Reply> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| Reply::error(400, format!("{name}: must be a whole number"))),
        }
    }

    /// Whether the field `name` is present (null included).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_by_kind_and_named_when_wrong() {
        let f = Fields::parse(br#"{"a": "x", "n": 3, "z": null, "b": 1.5}"#).expect("object");
        assert_eq!(f.text("a").ok().flatten(), Some("x"));
        assert_eq!(f.number("n").ok().flatten(), Some(3));
        assert!(f.text("z").expect("null is absent").is_none());
        assert!(f.has("z"));
        let e = f.text("n").expect_err("a number is not a string");
        assert_eq!(e.status, 400);
        assert!(f.number("b").is_err());
        assert_eq!(f.required("q").err().map(|r| r.status), Some(400));
        assert_eq!(Fields::parse(b"[1]").err().map(|r| r.status), Some(400));
        assert_eq!(
            Fields::parse(b"{\"a\": \"\xff\"}").err().map(|r| r.status),
            Some(400)
        );
        assert!(Fields::parse(b"  ").is_ok());
    }
}
