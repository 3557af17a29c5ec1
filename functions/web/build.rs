//! Turns `assets/` into the table the component serves, at compile time:
//!
//! - `static/*` (scripts, styles, icons) get their content hash in their
//!   name (`app.css` → `/assets/app.1a2b3c4d5e.css`), so they can be cached
//!   for a year;
//! - `pages/*.html` are filled in: `{{asset:NAME}}` becomes that asset's
//!   hashed path and `{{nav:PAGE}}` the site navigation (`partials/nav.html`)
//!   with PAGE's link marked as the current page (`{{nav:}}`: none);
//! - every file is gzip-compressed once, here, and the compressed form is
//!   kept when it is smaller.
//!
//! The table (`$OUT_DIR/assets.rs`) lists each path with its type, ETag,
//! cache policy, and the bytes of both forms (`include_bytes!`).

use flate2::{Compression, write::GzEncoder};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One file to serve.
struct Built {
    path: String,
    content_type: &'static str,
    immutable: bool,
    body: Vec<u8>,
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let assets = root.join("assets");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo::rerun-if-changed=assets");

    let mut built = Vec::new();
    let mut hashed = BTreeMap::new();
    for file in files(&assets.join("static")) {
        let name = file_name(&file);
        let body = read(&file);
        let (stem, ext) = name
            .rsplit_once('.')
            .expect("static assets have an extension");
        let path = format!(
            "/assets/{stem}.{}.{ext}",
            &hex(&Sha256::digest(&body))[..10]
        );
        hashed.insert(name.clone(), path.clone());
        built.push(Built {
            path,
            content_type: content_type(&name),
            immutable: true,
            body,
        });
    }
    let nav = String::from_utf8(read(&assets.join("partials/nav.html"))).expect("UTF-8 nav");
    let nav = fill(&nav, "partials/nav.html", &hashed, "");
    for file in files(&assets.join("pages")) {
        let name = file_name(&file);
        let page = String::from_utf8(read(&file)).expect("pages are UTF-8");
        let page = fill(&page, &name, &hashed, &nav);
        let stem = name.strip_suffix(".html").expect("pages are .html");
        built.push(Built {
            path: match stem {
                "index" => "/".to_owned(),
                other => format!("/{other}"),
            },
            content_type: content_type(&name),
            immutable: false,
            body: page.into_bytes(),
        });
    }
    write_table(&out, &built);
}

/// The files directly in `dir`, sorted (subdirectories are not read).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("asset names are UTF-8")
        .to_owned()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A page with its `{{asset:…}}` and `{{nav:…}}` placeholders filled in.
fn fill(page: &str, page_name: &str, hashed: &BTreeMap<String, String>, nav: &str) -> String {
    let mut out = String::with_capacity(page.len() + nav.len());
    let mut rest = page;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("{page_name}: `{{{{` without `}}}}`"))
            + start;
        let placeholder = &rest[start + 2..end];
        match placeholder.split_once(':') {
            Some(("asset", name)) => out.push_str(
                hashed
                    .get(name)
                    .unwrap_or_else(|| panic!("{page_name}: no asset static/{name}")),
            ),
            Some(("nav", "")) => out.push_str(nav),
            Some(("nav", current)) => {
                let link = format!("data-page=\"{current}\"");
                assert!(nav.contains(&link), "{page_name}: no nav link {current}");
                out.push_str(&nav.replace(&link, &format!("{link} aria-current=\"page\"")));
            }
            _ => panic!("{page_name}: unknown placeholder {{{{{placeholder}}}}}"),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => panic!("{name}: no content type for this extension"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(body).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Writes each body (and its gzip form, when smaller) beside the table.
fn write_table(out: &Path, built: &[Built]) {
    let mut table = String::from("&[\n");
    for (i, file) in built.iter().enumerate() {
        let plain = out.join(format!("asset-{i}"));
        std::fs::write(&plain, &file.body).expect("writing an asset");
        let compressed = gzip(&file.body);
        let gzip_expr = if compressed.len() < file.body.len() {
            let path = out.join(format!("asset-{i}.gz"));
            std::fs::write(&path, &compressed).expect("writing an asset");
            format!("Some(include_bytes!({:?}))", path.display().to_string())
        } else {
            "None".to_owned()
        };
        let etag = format!("\"{}\"", &hex(&Sha256::digest(&file.body))[..20]);
        let _ = writeln!(
            table,
            "    Asset {{ path: {:?}, content_type: {:?}, etag: {:?}, immutable: {}, body: include_bytes!({:?}), gzip: {gzip_expr} }},",
            file.path,
            file.content_type,
            etag,
            file.immutable,
            plain.display().to_string(),
        );
    }
    table.push(']');
    std::fs::write(out.join("assets.rs"), table).expect("writing the asset table");
}
