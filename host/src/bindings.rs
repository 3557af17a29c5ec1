//! Host-side bindings of the functions' typed worlds, generated from the
//! root `wit/` (the same files the guests are built from).

/// `cloudfn:mapreduce` world `index-map`.
#[allow(missing_docs)]
pub mod index_map {
    wasmtime::component::bindgen!({
        path: "../wit/mapreduce",
        world: "index-map",
        exports: { default: async },
    });
}

/// `cloudfn:mapreduce` world `index-reduce`.
#[allow(missing_docs)]
pub mod index_reduce {
    wasmtime::component::bindgen!({
        path: "../wit/mapreduce",
        world: "index-reduce",
        exports: { default: async },
    });
}

/// `cloudfn:mapreduce` world `streaming-phase`: the `line-stream` export
/// both index functions share, for `cloudfn stream`.
#[allow(missing_docs)]
pub mod streaming_phase {
    wasmtime::component::bindgen!({
        path: "../wit/mapreduce",
        world: "streaming-phase",
        exports: { default: async },
    });
}
