//! `image-thumbnail` end to end: an image uploaded through blob-upload gets
//! its thumbnail through the `blob-created` event and the embedded broker;
//! what is not an image, an undecodable image and a thumbnail itself are
//! acknowledged without a retry; and an event that cannot be published
//! answers the upload with `503`, the blob kept.

use crate::common::{Host, HostBuilder, product_dead_letters, wait_until};
use image::{DynamicImage, GenericImageView, ImageFormat, RgbImage};

fn host(data: &std::path::Path) -> Host {
    HostBuilder::product()
        .anonymous_drive()
        .arg("--data-dir")
        .arg(data.display().to_string())
        .start()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 99]));
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .expect("encode");
    out
}

fn put(host: &Host, key: &str, content_type: &str, body: &[u8]) -> u16 {
    let reply = host.request(
        "PUT",
        &format!("/blobs/{key}"),
        &[("content-type", content_type)],
        Some(body),
    );
    assert_eq!(reply.status, 201, "PUT {key}: {}", reply.body);
    reply.status
}

#[test]
fn image_thumbnail_follows_each_uploaded_image_and_skips_the_rest() {
    let data = tempfile::tempdir().expect("tempdir");
    let host = host(data.path());
    put(&host, "photos/wide.png", "image/png", &png(1024, 512));
    put(&host, "notes.txt", "text/plain", b"not an image at all");
    put(
        &host,
        "photos/broken.png",
        "image/png",
        b"\x89PNG\r\n\x1a\ntruncated",
    );
    put(
        &host,
        "thumbnails/mine.jpg",
        "image/jpeg",
        b"\xFF\xD8\xFF\xE0 uploaded by hand",
    );

    let thumbnail = wait_until(
        "the thumbnail of photos/wide.png",
        || host.get("/blobs/thumbnails/photos/wide.png.jpg"),
        |reply| reply.status == 200,
    );
    assert_eq!(thumbnail.header("content-type"), Some("image/jpeg"));
    let decoded =
        image::load_from_memory_with_format(&thumbnail.bytes, ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!(
        decoded.dimensions(),
        (256, 128),
        "longer side 256, aspect kept"
    );

    let log = wait_until(
        "four deliveries handled",
        || host.log_text(),
        |log| {
            log.matches("component=\"image-thumbnail\" attempt=1 outcome=handled")
                .count()
                == 4
        },
    );
    assert!(
        log.contains("skipped: notes.txt is not an image (stored as text/plain)"),
        "{log}"
    );
    assert!(
        log.contains("skipped: no thumbnail for photos/broken.png: invalid image"),
        "{log}"
    );
    assert!(
        log.contains("skipped: thumbnails/mine.jpg is a thumbnail"),
        "{log}"
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let log = host.log_text();
    assert!(
        !log.contains("component=\"image-thumbnail\" attempt=2"),
        "{log}"
    );
    assert!(
        !log.contains("thumbnails/thumbnails/"),
        "no thumbnail of a thumbnail"
    );

    // Exactly one thumbnail was written: the listing under thumbnails/.
    let listing: serde_json::Value =
        serde_json::from_str(&host.get("/blobs?prefix=thumbnails/").body).expect("json");
    let keys: Vec<&str> = listing["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        keys,
        ["thumbnails/mine.jpg", "thumbnails/photos/wide.png.jpg"]
    );

    assert_eq!(product_dead_letters(data.path()), serde_json::json!([]));
}

#[test]
fn an_upload_whose_event_cannot_be_published_answers_503_and_keeps_the_blob() {
    let data = tempfile::tempdir().expect("tempdir");
    // An address the component's allowed_outbound_hosts does not grant.
    let host = HostBuilder::product()
        .anonymous_drive()
        .arg("--data-dir")
        .arg(data.path().display().to_string())
        .env(
            "SPIN_VARIABLE_STORAGE_EVENTS_ADDRESS",
            "redis://127.0.0.1:1",
        )
        .start();
    let body = png(8, 8);
    let reply = host.request(
        "PUT",
        "/blobs/photos/small.png",
        &[("content-type", "image/png")],
        Some(&body),
    );
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
        reply.body.contains("the blob was stored")
            && reply
                .body
                .contains("blob-created event could not be published to redis://127.0.0.1:1")
            && reply.body.contains("repeat the PUT"),
        "{}",
        reply.body
    );
    let stored = host.get("/blobs/photos/small.png");
    assert_eq!((stored.status, stored.bytes), (200, body));
}
