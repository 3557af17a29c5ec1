//! The web tier: the `web` component's pages over real HTTP, and each page's
//! main flow in a real browser (Playwright driving Debian's Chromium,
//! `tests/browser/*.test.mjs`), against `cloudfn up` with the product
//! manifest: the apps' pages on an anonymous drive, the accounts' pages on
//! the drive as it ships.

use crate::common::{Host, HostBuilder, repo_root, run_ok};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser: `CLOUDFN_CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    let path = std::env::var_os("CLOUDFN_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: the browser tests drive Debian's Chromium \
         (`sudo apt-get install chromium`, as .ci/run does), or set CLOUDFN_CHROMIUM",
        path.display()
    );
    path
}

/// `tests/browser` with its npm packages installed from the lockfile
/// (`npm ci`, into `tests/browser/node_modules`) when they are missing.
fn browser_tests() -> PathBuf {
    let dir = repo_root().join("tests/browser");
    if !dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        run_ok(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            "npm ci in tests/browser (Node.js 20 or later is needed for the browser tests)",
        );
    }
    dir
}

#[test]
fn web_pages_are_served_beside_the_functions_with_caching_and_gzip() {
    let host = HostBuilder::product().anonymous_drive().start();
    let home = host.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(home.body.contains("<h1>cloudfn</h1>"), "{}", home.body);
    // Longest match: the functions' routes still win over `/...`.
    let ops = host.get("/image/ops");
    assert_eq!(ops.header("content-type"), Some("application/json"));
    assert_eq!(host.get("/blobs?limit=1").status, 200);

    let etag = home.header("etag").expect("an ETag").to_owned();
    assert_eq!(home.header("cache-control"), Some("no-cache"));
    let again = host.request("GET", "/", &[("if-none-match", &etag)], None);
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());

    let zipped = host.request("GET", "/drive", &[("accept-encoding", "gzip")], None);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(&zipped.bytes[..2], &[0x1f, 0x8b]);
    let plain = host.get("/drive");
    assert!(
        zipped.body_len < plain.body_len / 2,
        "gzip halves a page at least"
    );

    let css = plain
        .body
        .split('"')
        .find(|s| s.starts_with("/assets/app.") && s.ends_with(".css"))
        .expect("the page names its hashed stylesheet");
    let asset = host.get(css);
    assert_eq!(asset.status, 200);
    assert_eq!(
        asset.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        asset.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    let missing = host.get("/no/such/page");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("No page here"), "{}", missing.body);
    let refused = host.post("/drive", b"x");
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
}

/// Runs the browser test file `tests` against `host`; `screenshots` is this
/// file's own directory (emptied first: only this run's count).
fn run_browser_tests(host: &Host, tests: &str, screenshots: &Path) {
    let _ = std::fs::remove_dir_all(screenshots);
    let image = repo_root().join("tests/fixtures/jpeg/photo-420-q95.jpg");
    let output = Command::new("node")
        .args(["--test", "--test-concurrency=1", tests])
        .current_dir(browser_tests())
        .env("CLOUDFN_URL", format!("http://{}", host.addr))
        .env("CLOUDFN_IMAGE", &image)
        .env("CLOUDFN_SCREENSHOTS", screenshots)
        .env("CLOUDFN_CHROMIUM", chromium())
        .output()
        .expect("run node");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "browser tests failed:\n{report}\n{}\nhost log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        host.log_text()
    );
    assert!(report.contains("# fail 0"), "{report}");
}

fn assert_screenshots(dir: &Path, pages: &[&str]) {
    for page in pages {
        let shot = dir.join(format!("{page}.png"));
        assert!(
            is_png(&shot),
            "a screenshot of {page} at {}",
            shot.display()
        );
    }
}

#[test]
fn accounts_work_in_a_real_browser() {
    let host = HostBuilder::product().start();
    let screenshots = repo_root().join("target/browser-screenshots/accounts");
    run_browser_tests(&host, "accounts.test.mjs", &screenshots);
    assert_screenshots(&screenshots, &["login", "drive-user", "profile"]);
}

#[test]
fn every_page_works_in_a_real_browser() {
    let host = HostBuilder::product().anonymous_drive().start();
    let screenshots = repo_root().join("target/browser-screenshots/pages");
    run_browser_tests(&host, "pages.test.mjs", &screenshots);
    assert_screenshots(
        &screenshots,
        &[
            "home",
            "image-lab",
            "drive",
            "inverted-index",
            "sentiment-dashboard",
        ],
    );
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.starts_with(b"\x89PNG"))
}
