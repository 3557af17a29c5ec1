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
