//! What to do with a `blob-created` event, decided before a byte is read.

use cloudevent::blob_created::Notice;
use image_pipeline::{Limits, thumbnail};

/// The decision on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Read the blob and write its thumbnail under this key.
    Make(String),
    /// Acknowledge without work, for this reason (logged).
    Skip(String),
}

/// Decides from the event alone: a thumbnail is never made of a
/// thumbnail, of a blob over the byte limit, or where the derived key
/// would break the key rules.
pub fn plan(blob: &Notice, limits: &Limits) -> Plan {
    let Some(key) = thumbnail::key_for(&blob.key) else {
        return Plan::Skip(format!("{} is a thumbnail", blob.key));
    };
    if blob.size > limits.max_bytes {
        return Plan::Skip(format!(
            "{} is {} bytes, over the limit of {} (the variable max_bytes)",
            blob.key, blob.size, limits.max_bytes
        ));
    }
    if let Err(e) = blob_key::validate(&key) {
        return Plan::Skip(format!("no thumbnail key for {}: {e}", blob.key));
    }
    Plan::Make(key)
}

/// Reads a limit variable: the default when unset, an error naming the
/// variable when it is not a positive integer.
pub fn limit(name: &str, value: Option<&str>, default: u64) -> Result<u64, String> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("variable {name} = `{v}` is not a positive integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(key: &str, size: u64) -> Notice {
        Notice {
            key: key.into(),
            size,
            sha256: Some("0".repeat(64)),
        }
    }

    #[test]
    fn plans() {
        let limits = Limits::default();
        assert_eq!(
            plan(&blob("photos/cat.png", 10), &limits),
            Plan::Make("thumbnails/photos/cat.png.jpg".into())
        );
        let Plan::Skip(why) = plan(&blob("thumbnails/a.jpg", 10), &limits) else {
            panic!("a thumbnail of a thumbnail");
        };
        assert!(why.contains("is a thumbnail"), "{why}");
        let Plan::Skip(why) = plan(&blob("big.png", limits.max_bytes + 1), &limits) else {
            panic!("over the byte limit");
        };
        assert!(why.contains("over the limit of 67108864"), "{why}");
        let Plan::Skip(why) = plan(&blob(&"k".repeat(1020), 10), &limits) else {
            panic!("derived key too long");
        };
        assert!(why.contains("at most 1024"), "{why}");
    }

    #[test]
    fn limits() {
        assert_eq!(limit("max_pixels", None, 7), Ok(7));
        assert_eq!(limit("max_pixels", Some(" 1000 "), 7), Ok(1000));
        for bad in ["0", "-1", "lots"] {
            let e = limit("max_pixels", Some(bad), 7).expect_err(bad);
            assert!(e.contains("max_pixels"), "{e}");
        }
    }
}
