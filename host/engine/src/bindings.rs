//! Host-side bindings of the functions' typed worlds, generated from the
//! root `wit/` (the same files the guests are built from).

/// `cloudfn:mapreduce` world `streaming-phase`: the `line-stream` export
/// both index functions share, for `cloudfn stream`.
#[allow(missing_docs)]
pub mod streaming_phase {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/mapreduce"],
        world: "cloudfn:mapreduce/streaming-phase",
        exports: { default: async },
    });
}

/// `fermyon:spin/inbound-redis` (unversioned): spin-sdk 5's event handler.
#[allow(missing_docs)]
pub mod redis_handler_v2 {
    wasmtime::component::bindgen!({
        path: "../../wit/redis-handler",
        world: "cloudfn:redis-handler/redis-handler-v2",
        exports: { default: async },
    });
}

/// `spin:redis/inbound-redis@3.0.0`: spin-sdk 6+'s async event handler.
#[allow(missing_docs)]
pub mod redis_handler_v3 {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/host"],
        world: "cloudfn:host/redis-handler-v3",
        exports: { default: async | store },
    });
}
