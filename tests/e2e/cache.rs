//! The precompiled-component cache: reused across starts, and a stale or
//! corrupt entry is recompiled, never trusted.

use crate::common::{HostBuilder, fixture_wasm};
use cloudfn_engine::Runtime;
use cloudfn_engine::cache::{CacheOutcome, ComponentCache};
use cloudfn_engine::limits::Limits;
use std::path::{Path, PathBuf};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "cwasm"));
    found
}

#[test]
fn cache_is_reused_and_corruption_is_recompiled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = Runtime::new(Limits::default(), None).expect("engine");
    let cache = ComponentCache::new(Some(dir.path().to_path_buf()));
    let wasm = fixture_wasm("hello_p2");
    let load = || cache.load(runtime.engine(), &wasm).expect("loads").1;

    assert_eq!(load(), CacheOutcome::Miss);
    assert_eq!(load(), CacheOutcome::Hit);
    let [entry] = entries(dir.path()).try_into().expect("exactly one entry");

    let mut bytes = std::fs::read(&entry).expect("entry");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).expect("corrupt");
    assert_eq!(load(), CacheOutcome::Replaced, "a flipped byte is detected");
    assert_eq!(load(), CacheOutcome::Hit, "and the entry is rewritten");

    let len = std::fs::metadata(&entry).expect("entry").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&entry)
        .and_then(|f| f.set_len(len / 3))
        .expect("truncate");
    assert_eq!(
        load(),
        CacheOutcome::Replaced,
        "a truncated entry is detected"
    );

    std::fs::write(&entry, b"short").expect("garbage");
    assert_eq!(load(), CacheOutcome::Replaced, "garbage is detected");
    assert_eq!(load(), CacheOutcome::Hit);

    let other = fixture_wasm("misbehave");
    assert_eq!(
        cache.load(runtime.engine(), &other).expect("loads").1,
        CacheOutcome::Miss,
        "keyed by the wasm digest"
    );
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn host_reuses_the_cache_across_starts_and_survives_corruption() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = HostBuilder::fixtures().cache_dir(dir.path()).start();
    assert_eq!(first.get("/hello/x").status, 200);
    assert!(
        first.log_text().contains("component=hello-p2 cache=Miss"),
        "{}",
        first.log_text()
    );
    drop(first);

    let second = HostBuilder::fixtures().cache_dir(dir.path()).start();
    assert!(
        second.log_text().contains("component=hello-p2 cache=Hit"),
        "{}",
        second.log_text()
    );
    drop(second);

    for entry in entries(dir.path()) {
        let mut bytes = std::fs::read(&entry).expect("entry");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        std::fs::write(&entry, bytes).expect("corrupt");
    }
    let third = HostBuilder::fixtures().cache_dir(dir.path()).start();
    assert!(
        third
            .log_text()
            .contains("component=hello-p2 cache=Replaced"),
        "{}",
        third.log_text()
    );
    assert!(
        third
            .log_text()
            .contains("invalid cache entry; recompiling"),
        "{}",
        third.log_text()
    );
    assert_eq!(third.get("/hello/x").status, 200);
}
