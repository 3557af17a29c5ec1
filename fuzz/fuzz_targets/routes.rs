//! Spin route patterns and matching: a pattern, then a path to match, split
//! at the first newline.
#![no_main]
use cloudfn_manifest::routes::{RoutePattern, Router};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (pattern, path) = text.split_once('\n').unwrap_or((text, "/"));
    if let Ok(pattern) = RoutePattern::parse(pattern) {
        let router = Router::new([(pattern, ())]);
        let _ = router.route(path);
    }
});
