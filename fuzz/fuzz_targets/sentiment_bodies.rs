//! The JSON and NDJSON bodies of sentiment and of the social listener: the
//! first byte picks where an NDJSON body is cut into chunks.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sentiment::http_face::{NdjsonStream, aggregate_json, score_json};
use sentiment::scoring::Scorer;

fuzz_target!(|bytes: &[u8]| {
    let Some((&cut, body)) = bytes.split_first() else {
        return;
    };
    let mut scorer = Scorer::new();
    let _ = score_json(&mut scorer, body);
    let _ = aggregate_json(&mut scorer, body);
    let mut out = Vec::new();
    let mut stream = NdjsonStream::new(cut % 2 == 0);
    for chunk in body.chunks(usize::from(cut).max(1)) {
        stream.push(chunk, &mut out);
    }
    stream.finish(&mut out);
    let _ = social_feed::tweet::parse_json(body);
    let _ = social_feed::tweet::parse_ndjson(body);
});
