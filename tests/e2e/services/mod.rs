//! Spin's platform services on `cloudfn up`, driven through apps built with
//! both SDK generations Spin's templates give today: `spin-v2` (spin-sdk
//! 5.2, WASIp2, sync `fermyon:spin@2.0.0`) and `spin-v3` (spin-sdk 7,
//! WASIp3, async `spin:*@3`). Both fixtures answer the same routes, so each
//! scenario runs against each ([`SDKS`]).

mod key_value;
mod mqtt;
mod mysql;
mod postgres;
mod redis;
mod sockets;
mod sqlite;
mod variables;

use crate::common::{Host, HostBuilder, fixture_wasm};
use std::path::{Path, PathBuf};

/// The route prefixes of the two fixtures in the fixture manifest.
pub const SDKS: [&str; 2] = ["/v2", "/v3"];

/// A host on the fixture manifest keeping its stores in `data`.
pub fn host(data: &Path) -> Host {
    HostBuilder::fixtures()
        .arg("--data-dir")
        .arg(data.display().to_string())
        .start()
}

/// Writes a manifest into `dir` serving the two service fixtures at `/v2`
/// and `/v3`, with `grants` (TOML lines) added to each component.
pub fn manifest_with(dir: &Path, variables: &str, grants: &str) -> PathBuf {
    let component = |id: &str, wasm: &str| {
        format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"spin-{id}\"\n\n[component.spin-{id}]\nsource = {:?}\n{grants}\n\n",
            fixture_wasm(wasm).display()
        )
    };
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"services\"\n[variables]\n{variables}\n\n{}{}",
        component("v2", "spin_v2"),
        component("v3", "spin_v3")
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).expect("write manifest");
    path
}
