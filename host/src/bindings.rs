//! Host-side bindings of the functions' typed worlds, generated from the
//! root `wit/` (the same files the guests are built from).

/// `cloudfn:mapreduce` world `streaming-phase`: the `line-stream` export
/// both index functions share, for `cloudfn stream`.
#[allow(missing_docs)]
pub mod streaming_phase {
    wasmtime::component::bindgen!({
        path: ["../wit/platform", "../wit/mapreduce"],
        world: "cloudfn:mapreduce/streaming-phase",
        exports: { default: async },
    });
}
