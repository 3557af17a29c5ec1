//! Core WebAssembly modules made components when loaded, as Spin does for
//! the apps older toolchains build (`wasm32-wasip1`, `wasm32-unknown-unknown`
//! with wit-bindgen or spin-sdk 2+, whose component types ride in custom
//! sections): `wit-component` encodes the module, and modules importing
//! `wasi_snapshot_preview1` get the WASI preview1 adapter of this wasmtime
//! release (the command adapter for modules with `_start`, else the reactor
//! one). Components pass through unchanged.

use std::path::Path;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::ComponentEncoder;

/// What a module imports and exports that decides how it is encoded.
fn shape(module: &[u8]) -> Result<(bool, bool), String> {
    let mut imports_preview1 = false;
    let mut is_command = false;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    imports_preview1 |= import.map_err(|e| e.to_string())?.module
                        == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME;
                }
            }
            wasmparser::Payload::ExportSection(section) => {
                for export in section {
                    is_command |= export.map_err(|e| e.to_string())?.name == "_start";
                }
            }
            _ => {}
        }
    }
    Ok((imports_preview1, is_command))
}

/// The component in `bytes` (read from `path`): as it is, or encoded from a core module.
pub fn componentize(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if wasmparser::Parser::is_component(&bytes) {
        return Ok(bytes);
    }
    if !wasmparser::Parser::is_core_wasm(&bytes) {
        return Err(format!(
            "{} is neither a WebAssembly component nor a core module",
            path.display()
        ));
    }
    let fail = |e: anyhow::Error| {
        format!(
            "{} is a core WebAssembly module that cannot be made a component: {e:#} (build it with wit-bindgen or a Spin SDK, which embed the component type, or for wasm32-wasip2)",
            path.display()
        )
    };
    let (imports_preview1, is_command) = shape(&bytes)?;
    let mut encoder = ComponentEncoder::default()
        .validate(true)
        .module(&bytes)
        .map_err(fail)?;
    if imports_preview1 {
        let adapter = if is_command {
            WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
        } else {
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
        };
        encoder = encoder
            .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
            .map_err(fail)?;
    }
    encoder.encode().map_err(fail)
}
