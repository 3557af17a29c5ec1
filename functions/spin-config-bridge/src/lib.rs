//! Spin variables for cloudfn functions on Spin.
//!
//! The functions read their limits through `wasi:config/store@0.2.0-rc.1`,
//! which wasmtime (`wasmtime serve -Sconfig`) and `cloudfn up` provide.
//! Spin 3.x and 4.x provide the same interface under its earlier version,
//! `wasi:config/store@0.2.0-draft-2024-09-27`. This component forwards one
//! to the other; the root `spin.toml` composes it in front of a function:
//!
//! ```toml
//! [component.image-filter.dependencies]
//! "wasi:config/store@0.2.0-rc.1" = { path = "target/wasm32-wasip2/release/spin_config_bridge.wasm" }
//! ```
//!
//! with `dependencies_inherit_configuration = true`, so the bridge sees the
//! function's variables. `cloudfn up` provides rc.1 itself and skips it.

// Generated bindings export functions with `export_name` and unsafe glue.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code, missing_docs)]
mod bridge {
    wit_bindgen::generate!({
        path: ["../../wit/platform", "../../wit/spin-config-bridge"],
        world: "cloudfn:spin-config-bridge/bridge",
        generate_all,
    });

    use exports::wasi::config0_2_0_rc_1::store as rc1;
    use wasi::config0_2_0_draft_2024_09_27::store as draft;

    struct Bridge;

    fn error(e: draft::Error) -> rc1::Error {
        match e {
            draft::Error::Upstream(m) => rc1::Error::Upstream(m),
            draft::Error::Io(m) => rc1::Error::Io(m),
        }
    }

    impl rc1::Guest for Bridge {
        fn get(key: String) -> Result<Option<String>, rc1::Error> {
            draft::get(&key).map_err(error)
        }

        fn get_all() -> Result<Vec<(String, String)>, rc1::Error> {
            draft::get_all().map_err(error)
        }
    }

    export!(Bridge);
}
