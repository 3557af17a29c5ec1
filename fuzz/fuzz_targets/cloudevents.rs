//! CloudEvents as the consumers receive them: any payload is an event or an
//! error, and an event read back from what it writes is the same event.
#![no_main]
use cloudevent::CloudEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(event) = CloudEvent::parse(bytes) {
        let again = CloudEvent::parse(&event.to_json()).expect("what it writes, it reads");
        assert_eq!(again, event);
    }
    let _ = cloudevent::blob_created::Notice::parse(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = cloudevent::s3::decode_key(text);
        if let Ok(record) = serde_json::from_str::<serde_json::Value>(text) {
            let _ = cloudevent::s3::record_event(&record, "key");
        }
    }
});
