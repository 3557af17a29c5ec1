//! A kept tweet as it travels on the `feed` channel: a CloudEvents 1.0
//! structured JSON document of type [`EVENT_TYPE`], its `time` when the
//! tweet was posted (or received), its `data` the tweet and the keywords it
//! mentions.

use cloudevent::{CloudEvent, Data, EventError};
use serde::{Deserialize, Serialize};

/// The channel the listener publishes to and the consumer subscribes to.
pub const CHANNEL: &str = "feed";
/// The CloudEvent `type` of a kept tweet.
pub const EVENT_TYPE: &str = "dev.cloudfn.social.tweet";
/// The CloudEvent `source` of the listener's events.
pub const SOURCE: &str = "/social/listener";

/// A tweet kept for its keywords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedTweet {
    /// The tweet's id (the event's id too).
    pub id: String,
    /// Its text.
    pub text: String,
    /// Its author, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The configured keywords it mentions (at least one).
    pub keywords: Vec<String>,
    /// When it was posted, seconds since the epoch (the event's `time`).
    #[serde(skip)]
    pub time: i64,
}

/// Why a `feed` message is not a kept tweet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// Not a CloudEvent.
    #[error("not a CloudEvent: {0}")]
    Event(#[from] EventError),
    /// A CloudEvent of another type.
    #[error("a `{0}` event, not `{EVENT_TYPE}`")]
    Type(String),
    /// The right type with the wrong data.
    #[error("a `{EVENT_TYPE}` event whose data is not a tweet: {0}")]
    Data(String),
}

impl FeedTweet {
    /// The tweet as its CloudEvent.
    pub fn to_event(&self) -> CloudEvent {
        let data = serde_json::to_value(self).expect("a tweet serializes");
        let mut event = CloudEvent::new(self.id.clone(), SOURCE, EVENT_TYPE).with_json(data);
        event.time = Some(crate::time::format(self.time));
        event
    }

    /// Reads a `feed` message.
    pub fn from_event(payload: &[u8]) -> Result<Self, FeedError> {
        let event = CloudEvent::parse(payload)?;
        if event.ty != EVENT_TYPE {
            return Err(FeedError::Type(event.ty));
        }
        let Some(Data::Json(data)) = event.data else {
            return Err(FeedError::Data("no JSON data".into()));
        };
        let mut tweet: Self =
            serde_json::from_value(data).map_err(|e| FeedError::Data(e.to_string()))?;
        if tweet.keywords.is_empty() {
            return Err(FeedError::Data("no keywords".into()));
        }
        tweet.time = match &event.time {
            Some(time) => crate::time::parse(time).map_err(|e| FeedError::Data(e.to_string()))?,
            None => return Err(FeedError::Data("no time".into())),
        };
        Ok(tweet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_events() {
        let tweet = FeedTweet {
            id: "42".into(),
            text: "wasm is great".into(),
            user: None,
            keywords: vec!["wasm".into()],
            time: 1_796_206_530,
        };
        let event = tweet.to_event();
        assert_eq!(event.time.as_deref(), Some("2026-12-02T10:15:30Z"));
        assert_eq!(FeedTweet::from_event(&event.to_json()), Ok(tweet));
        let other = CloudEvent::new("1", "/x", "dev.cloudfn.blob.created").to_json();
        assert!(matches!(
            FeedTweet::from_event(&other),
            Err(FeedError::Type(_))
        ));
        assert!(matches!(
            FeedTweet::from_event(b"hello"),
            Err(FeedError::Event(_))
        ));
    }
}
