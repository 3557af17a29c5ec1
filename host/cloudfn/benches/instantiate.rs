//! Instantiation cost of a fresh sandboxed instance (store with limits +
//! instance), the per-request overhead `cloudfn up` pays. Run with
//! `cargo bench -p cloudfn --bench instantiate`.

#[allow(dead_code)]
#[path = "../../../tests/e2e/common.rs"]
mod common;

use cloudfn_engine::Runtime;
use cloudfn_engine::limits::Limits;
use cloudfn_manifest::Manifest;
use criterion::{Criterion, criterion_group, criterion_main};

fn instantiate(c: &mut Criterion) {
    let manifest = Manifest::load(&common::fixtures().join("spin.toml")).expect("fixture manifest");
    let runtime = Runtime::new(Limits::default(), None).expect("engine");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    for id in ["hello-p2", "hello-p3"] {
        let component = runtime.load(&manifest, id).expect("component loads");
        let pre = component.http.clone().expect("http export");
        c.bench_function(&format!("fresh store + instance ({id})"), |b| {
            b.iter(|| {
                tokio.block_on(async {
                    let mut store = runtime.new_store(&component).expect("store");
                    pre.instantiate_async(&mut store).await.expect("instance");
                    store
                })
            })
        });
    }
}

criterion_group!(benches, instantiate);
criterion_main!(benches);
