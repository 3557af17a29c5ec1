//! What blob-upload reads from a request: the key, the method and path,
//! `Range`, `If-None-Match`, checksums and the listing query; and the web
//! component's conditional and encoding headers.
#![no_main]
use blob_upload::http_face;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = blob_key::validate(text);
    let _ = http_face::action("GET", text);
    let _ = http_face::action("PUT", text);
    let size = text.len() as u64 * 7919;
    let _ = http_face::range(Some(text), size);
    let _ = http_face::range(Some(text), 0);
    let _ = http_face::none_match_hits(text, "00ff");
    let _ = http_face::content_md5(Some(text));
    let _ = http_face::list_query(text);
    let _ = web::site::accepts_gzip(text);
    let _ = web::site::matches_etag(text, "\"abc\"");
});
