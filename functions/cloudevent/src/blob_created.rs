//! The `blob-created` event: what blob-upload publishes after each
//! completed upload and storage consumers (the thumbnail maker) read.

use crate::{CloudEvent, Data, EventError};
use serde_json::{Value, json};

/// The channel the events are published to.
pub const CHANNEL: &str = "blob-created";
/// The event `type`.
pub const EVENT_TYPE: &str = "dev.cloudfn.blob.created";
/// The event `source`: the store's HTTP face.
pub const SOURCE: &str = "/blobs";

/// A blob that was just stored: the store's metadata of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCreated {
    /// The key (the event's `subject`).
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// MIME type it was stored with.
    pub content_type: String,
    /// When it was stored, milliseconds since the Unix epoch (the event's `time`).
    pub created: u64,
}

/// Why a message is not a `blob-created` event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobEventError {
    /// Not a CloudEvent at all.
    #[error("not a CloudEvent: {0}")]
    Event(#[from] EventError),
    /// A CloudEvent of another type.
    #[error("a `{0}` event, not {EVENT_TYPE}")]
    Type(String),
    /// The right type without the data it promises.
    #[error("a {EVENT_TYPE} event without {0}")]
    Data(&'static str),
}

impl BlobCreated {
    /// The event: `id` `<created>-<sha256 prefix>` (unique per upload),
    /// `subject` the key, `time` the creation time, `data` the metadata.
    pub fn to_event(&self) -> CloudEvent {
        let id = format!(
            "{}-{}",
            self.created,
            &self.sha256[..self.sha256.len().min(16)]
        );
        let mut event = CloudEvent::new(id, SOURCE, EVENT_TYPE).with_json(json!({
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "content_type": self.content_type,
            "created": self.created,
        }));
        event.subject = Some(self.key.clone());
        event.time = Some(crate::time::format_millis(
            i64::try_from(self.created).unwrap_or(i64::MAX),
        ));
        event
    }

    /// Reads a `blob-created` message.
    pub fn from_event(payload: &[u8]) -> Result<Self, BlobEventError> {
        let event = CloudEvent::parse(payload)?;
        if event.ty != EVENT_TYPE {
            return Err(BlobEventError::Type(event.ty));
        }
        let Some(Data::Json(data)) = event.data else {
            return Err(BlobEventError::Data("JSON data"));
        };
        let text = |name: &'static str| {
            data.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(BlobEventError::Data(name))
        };
        let number = |name: &'static str| {
            data.get(name)
                .and_then(Value::as_u64)
                .ok_or(BlobEventError::Data(name))
        };
        Ok(Self {
            key: text("key")?,
            size: number("size")?,
            sha256: text("sha256")?,
            content_type: text("content_type")?,
            created: number("created")?,
        })
    }
}

/// A blob that was just stored, as a consumer learns of it: from
/// cloudfn's own `blob-created` event, or from an S3 notification made a
/// CloudEvent by [`crate::s3`] (on Lambda, where S3 tells of new objects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The blob key.
    pub key: String,
    /// Its size in bytes as the event gives it (for S3, the stored object's,
    /// which may be a little more than the blob's).
    pub size: u64,
    /// Its SHA-256, when the event carries one (cloudfn's does, S3's not):
    /// a consumer that finds another in the store knows the blob was replaced.
    pub sha256: Option<String>,
}

impl Notice {
    /// Reads either kind of event.
    pub fn parse(payload: &[u8]) -> Result<Self, BlobEventError> {
        let event = CloudEvent::parse(payload)?;
        if !event.ty.starts_with(crate::s3::CREATED_TYPE_PREFIX) {
            let blob = BlobCreated::from_event(payload)?;
            return Ok(Self {
                key: blob.key,
                size: blob.size,
                sha256: Some(blob.sha256),
            });
        }
        let key = event.subject.ok_or(BlobEventError::Data("subject"))?;
        let size = match event.data {
            Some(Data::Json(data)) => data.pointer("/object/size").and_then(Value::as_u64),
            _ => None,
        }
        .ok_or(BlobEventError::Data("s3.object.size"))?;
        Ok(Self {
            key,
            size,
            sha256: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created() -> BlobCreated {
        BlobCreated {
            key: "photos/cat.png".into(),
            size: 1234,
            sha256: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9".into(),
            content_type: "image/png".into(),
            created: 1_796_206_530_250,
        }
    }

    #[test]
    fn events_round_trip() {
        let event = created().to_event();
        assert_eq!(event.id, "1796206530250-b94d27b9934d3e08");
        assert_eq!(event.subject.as_deref(), Some("photos/cat.png"));
        assert_eq!(event.time.as_deref(), Some("2026-12-02T10:15:30.250Z"));
        let json = event.to_json();
        assert!(CloudEvent::parse(&json).is_ok());
        assert_eq!(BlobCreated::from_event(&json), Ok(created()));
    }

    #[test]
    fn notices_come_from_either_kind_of_event() {
        let own = Notice::parse(&created().to_event().to_json()).expect("cloudfn's event");
        assert_eq!(
            own,
            Notice {
                key: "photos/cat.png".into(),
                size: 1234,
                sha256: Some(created().sha256),
            }
        );
        let mut s3 = CloudEvent::new(
            "r.i",
            "aws:s3.eu-west-1.b",
            "com.amazonaws.s3.ObjectCreated:Put",
        )
        .with_json(json!({"object": {"key": "in/a+b.png", "size": 99}}));
        s3.subject = Some("a b.png".into());
        let notice = Notice::parse(&s3.to_json()).expect("S3's event");
        assert_eq!(
            notice,
            Notice {
                key: "a b.png".into(),
                size: 99,
                sha256: None,
            }
        );
        s3.subject = None;
        assert_eq!(
            Notice::parse(&s3.to_json()),
            Err(BlobEventError::Data("subject"))
        );
        let removed = CloudEvent::new(
            "r.i",
            "aws:s3.eu-west-1.b",
            "com.amazonaws.s3.ObjectRemoved:Delete",
        );
        assert_eq!(
            Notice::parse(&removed.to_json()),
            Err(BlobEventError::Type(
                "com.amazonaws.s3.ObjectRemoved:Delete".into()
            ))
        );
    }

    #[test]
    fn other_messages_are_told_apart() {
        assert!(matches!(
            BlobCreated::from_event(b"hello"),
            Err(BlobEventError::Event(_))
        ));
        let other = CloudEvent::new("1", "/x", "dev.example.other").to_json();
        assert_eq!(
            BlobCreated::from_event(&other),
            Err(BlobEventError::Type("dev.example.other".into()))
        );
        let mut event = created().to_event();
        event.data = Some(Data::Json(json!({"key": "k"})));
        assert_eq!(
            BlobCreated::from_event(&event.to_json()),
            Err(BlobEventError::Data("size"))
        );
    }
}
