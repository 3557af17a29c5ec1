//! Where Lambda's events go: which channel each SQS queue feeds, which
//! channel S3 notifications feed, and which bucket and prefix hold the
//! blob store (so an object key can be told as a blob key).
//!
//! From `[application.tool.cloudfn.lambda]` in the manifest (Spin ignores
//! it), then the environment, which wins:
//!
//! ```toml
//! [application.tool.cloudfn.lambda]
//! s3_channel = "blob-created"          # CLOUDFN_S3_CHANNEL
//! [application.tool.cloudfn.lambda.queues]
//! cloudfn-feed = "feed"                # CLOUDFN_SQS_CHANNELS="cloudfn-feed=feed,…"
//! ```
//!
//! A queue without a mapping feeds the channel of its own name (less a
//! FIFO queue's `.fifo`).

use cloudfn_manifest::Manifest;
use std::collections::BTreeMap;

/// The channel S3 notifications feed unless set otherwise: the one
/// `blob-upload` publishes its own storage events to.
pub const DEFAULT_S3_CHANNEL: &str = cloudevent::blob_created::CHANNEL;

/// Lambda's event routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaSettings {
    /// Queue name → channel.
    pub queues: BTreeMap<String, String>,
    /// The channel S3 notifications feed.
    pub s3_channel: String,
    /// The blob store's bucket, when it is on S3.
    pub blob_bucket: Option<String>,
    /// The prefix its keys live under in that bucket, if any.
    pub blob_prefix: Option<String>,
}

impl Default for LambdaSettings {
    fn default() -> Self {
        Self {
            queues: BTreeMap::new(),
            s3_channel: DEFAULT_S3_CHANNEL.to_owned(),
            blob_bucket: None,
            blob_prefix: None,
        }
    }
}

const KEYS: &[&str] = &["s3_channel", "queues"];

impl LambdaSettings {
    /// Reads the manifest's table, then `env` (`CLOUDFN_SQS_CHANNELS`,
    /// `CLOUDFN_S3_CHANNEL`); `blob_url` is the blob store
    /// (`s3://bucket/prefix`) when it is on S3.
    pub fn load(
        manifest: &Manifest,
        env: impl Fn(&str) -> Option<String>,
        blob_url: Option<&str>,
    ) -> Result<Self, String> {
        let mut settings = Self::default();
        let key = |name: &str| format!("application.tool.cloudfn.lambda.{name}");
        let table = manifest
            .application
            .tool
            .as_ref()
            .and_then(|t| t.get("cloudfn"))
            .and_then(|c| c.get("lambda"));
        match table {
            None => {}
            Some(toml::Value::Table(table)) => {
                if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
                    return Err(format!(
                        "application.tool.cloudfn.lambda: unknown key `{unknown}` (known: {})",
                        KEYS.join(", ")
                    ));
                }
                match table.get("s3_channel") {
                    None => {}
                    Some(toml::Value::String(channel)) => settings.s3_channel = channel.clone(),
                    Some(_) => return Err(format!("{} must be a string", key("s3_channel"))),
                }
                match table.get("queues") {
                    None => {}
                    Some(toml::Value::Table(queues)) => {
                        for (queue, channel) in queues {
                            let channel = channel.as_str().ok_or_else(|| {
                                format!("{}.{queue} must be a channel name", key("queues"))
                            })?;
                            settings.queues.insert(queue.clone(), channel.to_owned());
                        }
                    }
                    Some(_) => {
                        return Err(format!(
                            "{} must be a table of queue = \"channel\"",
                            key("queues")
                        ));
                    }
                }
            }
            Some(_) => return Err("application.tool.cloudfn.lambda must be a table".into()),
        }
        if let Some(channel) = env("CLOUDFN_S3_CHANNEL").filter(|c| !c.is_empty()) {
            settings.s3_channel = channel;
        }
        if let Some(list) = env("CLOUDFN_SQS_CHANNELS") {
            for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (queue, channel) = pair
                    .split_once('=')
                    .filter(|(q, c)| !q.trim().is_empty() && !c.trim().is_empty())
                    .ok_or_else(|| {
                        format!("CLOUDFN_SQS_CHANNELS: `{pair}` is not queue=channel")
                    })?;
                settings
                    .queues
                    .insert(queue.trim().to_owned(), channel.trim().to_owned());
            }
        }
        if let Some(url) = blob_url.filter(|u| u.starts_with("s3://")) {
            let (bucket, prefix) = cloudfn_services::blob::s3::split_url(url);
            settings.blob_bucket = Some(bucket.trim_start_matches("s3://").to_owned());
            settings.blob_prefix = prefix.map(str::to_owned);
        }
        Ok(settings)
    }

    /// The channel the queue of `queue_arn` feeds.
    pub fn channel_for_queue<'a>(&'a self, queue_arn: &'a str) -> &'a str {
        let name = queue_arn.rsplit(':').next().unwrap_or(queue_arn);
        match self.queues.get(name) {
            Some(channel) => channel,
            None => name.strip_suffix(".fifo").unwrap_or(name),
        }
    }

    /// The blob key of object `key` (decoded) in `bucket`, or `None` when
    /// the object is not in the blob store's bucket and prefix.
    pub fn blob_key<'a>(&self, bucket: &str, key: &'a str) -> Option<&'a str> {
        if self.blob_bucket.as_deref().is_some_and(|b| b != bucket) {
            return None;
        }
        match &self.blob_prefix {
            None => Some(key),
            Some(prefix) => key
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .filter(|rest| !rest.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(extra: &str) -> Manifest {
        let text = format!("spin_manifest_version = 2\n[application]\nname = \"t\"\n{extra}\n");
        Manifest::parse(
            std::path::Path::new("spin.toml"),
            &text,
            std::path::PathBuf::from("."),
        )
        .expect("manifest")
    }

    #[test]
    fn queues_map_from_the_manifest_then_the_environment() {
        let m = manifest(
            "[application.tool.cloudfn.lambda]\ns3_channel = \"uploads\"\n[application.tool.cloudfn.lambda.queues]\ncloudfn-feed = \"feed\"\nold = \"x\"\n",
        );
        let env = |name: &str| match name {
            "CLOUDFN_SQS_CHANNELS" => Some("old=y, extra=z".to_owned()),
            _ => None,
        };
        let s = LambdaSettings::load(&m, env, Some("s3://bucket/drive/")).expect("loads");
        assert_eq!(s.s3_channel, "uploads");
        assert_eq!(
            s.channel_for_queue("arn:aws:sqs:us-east-1:123456789012:cloudfn-feed"),
            "feed"
        );
        assert_eq!(s.channel_for_queue("arn:aws:sqs:us-east-1:1:old"), "y");
        assert_eq!(s.channel_for_queue("arn:aws:sqs:us-east-1:1:extra"), "z");
        assert_eq!(s.channel_for_queue("arn:aws:sqs:us-east-1:1:feed"), "feed");
        assert_eq!(
            s.channel_for_queue("arn:aws:sqs:us-east-1:1:jobs.fifo"),
            "jobs"
        );
        assert_eq!(s.blob_bucket.as_deref(), Some("bucket"));
        assert_eq!(s.blob_prefix.as_deref(), Some("drive"));
    }

    #[test]
    fn object_keys_become_blob_keys_inside_the_store_only() {
        let s = LambdaSettings {
            blob_bucket: Some("bucket".into()),
            blob_prefix: Some("drive".into()),
            ..LambdaSettings::default()
        };
        assert_eq!(
            s.blob_key("bucket", "drive/photos/a.png"),
            Some("photos/a.png")
        );
        assert_eq!(s.blob_key("bucket", "drivex/a.png"), None);
        assert_eq!(s.blob_key("bucket", "drive/"), None);
        assert_eq!(s.blob_key("other", "drive/a.png"), None);
        let whole = LambdaSettings::default();
        assert_eq!(whole.blob_key("any", "a.png"), Some("a.png"));
    }

    #[test]
    fn bad_settings_are_refused_with_the_key() {
        let m = manifest("[application.tool.cloudfn.lambda]\nqueue = {}\n");
        let e = LambdaSettings::load(&m, |_| None, None).expect_err("unknown key");
        assert!(e.contains("unknown key `queue`"), "{e}");
        let m = manifest("[application.tool.cloudfn.lambda.queues]\nq = 1\n");
        let e = LambdaSettings::load(&m, |_| None, None).expect_err("not a name");
        assert!(e.contains("queues.q"), "{e}");
        let env = |_: &str| Some("nochannel".to_owned());
        let e = LambdaSettings::load(&manifest(""), env, None).expect_err("bad pair");
        assert!(e.contains("CLOUDFN_SQS_CHANNELS"), "{e}");
    }
}
