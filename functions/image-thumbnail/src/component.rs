//! Component glue: the inbound-redis export over `cloudfn:blob/store`.

use crate::plan::{self, Plan};
use cloudevent::blob_created::Notice;
use image_pipeline::{Limits, thumbnail};

wit_bindgen::generate!({
    path: ["../../wit/platform", "../../wit/redis-handler", "../../wit/blob", "../../wit/storage-events"],
    world: "cloudfn:storage-events/thumbnail",
    generate_all,
});

use cloudfn::blob::store::{self, WriteOptions};
use cloudfn::blob::types::Error as StoreError;
use exports::fermyon::spin::inbound_redis::Guest;
// wit/redis-handler's unversioned `fermyon:spin` shares the resolve, so the
// versioned package is `spin2_0_0`.
use fermyon::spin::redis_types::Error;
use fermyon::spin2_0_0::variables;

/// Bytes per read from the store.
const READ: u64 = 4 << 20;
/// Bytes enough to tell an image by its signature.
const SIGNATURE: u64 = 64;

struct Thumbnailer;

impl Guest for Thumbnailer {
    fn handle_message(message: Vec<u8>) -> Result<(), Error> {
        let blob = match Notice::parse(&message) {
            Ok(blob) => blob,
            Err(e) => {
                return skipped(&format!(
                    "acknowledged a message that is not a blob event: {e}"
                ));
            }
        };
        let limits = limits()?;
        let key = match plan::plan(&blob, &limits) {
            Plan::Make(key) => key,
            Plan::Skip(why) => return skipped(&why),
        };
        let reader = match store::open_reader(&blob.key) {
            Ok(reader) => reader,
            Err(StoreError::NotFound) => {
                return skipped(&format!("{} was deleted before its thumbnail", blob.key));
            }
            Err(e) => return Err(failed(&format!("opening {}", blob.key), &e)),
        };
        let stored = reader.metadata();
        if blob
            .sha256
            .as_ref()
            .is_some_and(|sha256| *sha256 != stored.sha256)
        {
            return skipped(&format!(
                "{} was replaced since (its newer upload has its own event)",
                blob.key
            ));
        }
        let head = reader
            .read(0, SIGNATURE)
            .map_err(|e| failed(&format!("reading {}", blob.key), &e))?;
        if !thumbnail::is_image(&head) {
            return skipped(&format!(
                "{} is not an image (stored as {}): PNG, JPEG, GIF, WebP, BMP or TIFF get thumbnails",
                blob.key, stored.content_type
            ));
        }
        if stored.size > limits.max_bytes {
            return skipped(&format!(
                "{} is {} bytes, over the limit of {} (the variable max_bytes)",
                blob.key, stored.size, limits.max_bytes
            ));
        }
        let bytes = read_rest(&reader, head, stored.size)
            .map_err(|e| failed(&format!("reading {}", blob.key), &e))?;
        let image = match thumbnail::make(&bytes, &limits) {
            Ok(image) => image,
            Err(e) => return skipped(&format!("no thumbnail for {}: {e}", blob.key)),
        };
        let options = WriteOptions {
            content_type: thumbnail::CONTENT_TYPE.into(),
            create_only: false,
            max_size: image.data.len() as u64,
        };
        let writer = store::open_writer(&key, &options)
            .map_err(|e| failed(&format!("writing {key}"), &e))?;
        writer
            .write(&image.data)
            .map_err(|e| failed(&format!("writing {key}"), &e))?;
        store::Writer::finish(writer, None).map_err(|e| failed(&format!("writing {key}"), &e))?;
        eprintln!(
            "image-thumbnail: {key} ({}x{}, {} bytes) from {}",
            image.width,
            image.height,
            image.data.len(),
            blob.key
        );
        Ok(())
    }
}

export!(Thumbnailer);

/// Logs why a message needs no work and acknowledges it.
fn skipped(why: &str) -> Result<(), Error> {
    eprintln!("image-thumbnail: skipped: {why}");
    Ok(())
}

/// Logs a store failure; the delivery fails, so the platform retries it.
fn failed(what: &str, e: &StoreError) -> Error {
    eprintln!("image-thumbnail: blob store failed {what}: {e:?}");
    Error::Error
}

/// The decoding limits from the variables `max_pixels` and `max_bytes`
/// (image-filter's defaults when unset). A bad value fails the delivery,
/// so it is retried, then dead-lettered for a replay once it is fixed.
fn limits() -> Result<Limits, Error> {
    let read = |name: &str, default: u64| {
        let value = match variables::get(name) {
            Ok(v) => Some(v),
            Err(variables::Error::Undefined(_)) => None,
            Err(e) => {
                eprintln!("image-thumbnail: reading variable {name}: {e:?}");
                return Err(Error::Error);
            }
        };
        plan::limit(name, value.as_deref(), default).map_err(|message| {
            eprintln!("image-thumbnail: {message}");
            Error::Error
        })
    };
    Ok(Limits {
        max_pixels: read("max_pixels", Limits::DEFAULT_MAX_PIXELS)?,
        max_bytes: read("max_bytes", Limits::DEFAULT_MAX_BYTES)?,
    })
}

/// The whole blob, `size` bytes (the plan checked it against the limit),
/// after the `head` already read.
fn read_rest(reader: &store::Reader, head: Vec<u8>, size: u64) -> Result<Vec<u8>, StoreError> {
    let mut bytes = head;
    bytes.reserve(
        usize::try_from(size)
            .unwrap_or(0)
            .saturating_sub(bytes.len()),
    );
    while (bytes.len() as u64) < size {
        let chunk = reader.read(bytes.len() as u64, READ)?;
        if chunk.is_empty() {
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
