//! S3 event notifications as CloudEvents, after the CloudEvents AWS S3
//! adapter: `id` is `x-amz-request-id.x-amz-id-2`, `source` is
//! `eventSource.awsRegion.bucket`, `type` is `com.amazonaws.s3.<eventName>`,
//! `time` is `eventTime`, `data` is the record's `s3` entity. One departure,
//! so a consumer can open the blob: `subject` is the blob key, that is the
//! object key URL-decoded (S3 sends it form-encoded) with the blob store's
//! prefix taken off, where the adapter puts the raw object key.

use crate::CloudEvent;
use serde_json::Value;

/// The `type` prefix of every event made of an S3 notification.
pub const TYPE_PREFIX: &str = "com.amazonaws.s3.";
/// The `type` prefix of object-created events (`…ObjectCreated:Put`, `…:CompleteMultipartUpload`, …).
pub const CREATED_TYPE_PREFIX: &str = "com.amazonaws.s3.ObjectCreated:";

/// Why an S3 record cannot become an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3RecordError {
    /// A field the mapping needs is absent.
    #[error("the S3 record has no `{0}`")]
    Missing(&'static str),
    /// The object key is not valid form-encoded UTF-8.
    #[error("the object key `{0}` is not valid URL-encoded UTF-8")]
    Key(String),
}

/// The object key of an S3 notification, decoded: S3 form-encodes it
/// (`+` for a space, `%XX` for other bytes).
pub fn decode_key(raw: &str) -> Result<String, S3RecordError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| S3RecordError::Key(raw.to_owned()))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| S3RecordError::Key(raw.to_owned()))
}

/// One record of an S3 notification (`Records[i]`) as a CloudEvent whose
/// subject is `key`, the blob key the caller derived from the object key.
pub fn record_event(record: &Value, key: &str) -> Result<CloudEvent, S3RecordError> {
    let text = |pointer: &str, name: &'static str| {
        record
            .pointer(pointer)
            .and_then(Value::as_str)
            .ok_or(S3RecordError::Missing(name))
    };
    let event_name = text("/eventName", "eventName")?;
    let bucket = text("/s3/bucket/name", "s3.bucket.name")?;
    let region = text("/awsRegion", "awsRegion")?;
    let event_source = text("/eventSource", "eventSource")?;
    let request_id = text("/responseElements/x-amz-request-id", "x-amz-request-id")?;
    let id_2 = text("/responseElements/x-amz-id-2", "x-amz-id-2")?;
    let data = record
        .get("s3")
        .cloned()
        .ok_or(S3RecordError::Missing("s3"))?;
    let mut event = CloudEvent::new(
        format!("{request_id}.{id_2}"),
        format!("{event_source}.{region}.{bucket}"),
        format!("{TYPE_PREFIX}{event_name}"),
    )
    .with_json(data);
    event.subject = Some(key.to_owned());
    event.time = record
        .get("eventTime")
        .and_then(Value::as_str)
        .map(str::to_owned);
    event.datacontenttype = Some("application/json".into());
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The record of AWS's documented example notification (event version 2.1).
    fn record() -> Value {
        json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": "C3D13FE58DE4C810",
                "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {"name": "mybucket", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::mybucket"},
                "object": {"key": "photos/my+cat%21.png", "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}
            }
        })
    }

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(
            decode_key("photos/my+cat%21.png").as_deref(),
            Ok("photos/my cat!.png")
        );
        assert_eq!(decode_key("caf%C3%A9").as_deref(), Ok("café"));
        assert_eq!(decode_key("plain/key.txt").as_deref(), Ok("plain/key.txt"));
        assert!(decode_key("bad%2").is_err());
        assert!(decode_key("bad%zz").is_err());
        assert!(decode_key("%ff").is_err());
    }

    #[test]
    fn a_record_follows_the_adapter_mapping() {
        let event = record_event(&record(), "photos/my cat!.png").expect("maps");
        assert_eq!(
            event.id,
            "C3D13FE58DE4C810.FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
        );
        assert_eq!(event.source, "aws:s3.us-west-2.mybucket");
        assert_eq!(event.ty, "com.amazonaws.s3.ObjectCreated:Put");
        assert!(event.ty.starts_with(CREATED_TYPE_PREFIX));
        assert_eq!(event.subject.as_deref(), Some("photos/my cat!.png"));
        assert_eq!(event.time.as_deref(), Some("1970-01-01T00:00:00.000Z"));
        let json = event.to_json();
        let parsed = CloudEvent::parse(&json).expect("a valid CloudEvent");
        assert_eq!(parsed, event);
    }

    #[test]
    fn a_record_without_its_ids_is_refused() {
        let mut r = record();
        r["responseElements"] = json!({});
        assert_eq!(
            record_event(&r, "k"),
            Err(S3RecordError::Missing("x-amz-request-id"))
        );
    }
}
