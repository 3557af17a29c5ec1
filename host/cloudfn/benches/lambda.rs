//! What the Lambda bootstrap adds to one request, in one run: the same
//! sentiment request (one tweet) through `HttpApp` in-process, as
//! `cloudfn up` serves it after the socket, and through the Lambda trigger
//! as the bootstrap serves it after the Runtime API: event JSON bytes in,
//! routing, the request, response JSON bytes out. Each request is a fresh
//! instance in both. Run with `cargo bench -p cloudfn --bench lambda`.
//! Not run in CI. The Runtime API round trip itself is measured by
//! `bench/lambda.sh`.

#[allow(dead_code)]
#[path = "../../../tests/e2e/common.rs"]
mod common;

use bytes::Bytes;
use cloudfn_engine::Runtime;
use cloudfn_engine::limits::Limits;
use cloudfn_lambda::LambdaApp;
use cloudfn_lambda::settings::LambdaSettings;
use cloudfn_manifest::Manifest;
use cloudfn_trigger_http::HttpApp;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use std::sync::Arc;

const TWEET: &str = r#"{"text": "Loving the new release, it is GREAT :) but the docs are meh"}"#;

/// The Function URL event cargo-lambda's emulator makes of `POST /sentiment`.
fn event() -> Vec<u8> {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/sentiment",
        "rawQueryString": "",
        "headers": {"host": "127.0.0.1:9000", "content-type": "application/json", "user-agent": "bench"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "_", "domainName": "127.0.0.1:9000",
            "domainPrefix": "_", "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "06/Dec/2026:10:15:30 +0000", "timeEpoch": 1796206530250_i64,
            "http": {"method": "POST", "path": "/sentiment", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"}
        },
        "body": TWEET,
        "isBase64Encoded": false
    })
    .to_string()
    .into_bytes()
}

fn lambda(c: &mut Criterion) {
    let manifest = Manifest::load(common::product_manifest()).expect("product manifest");
    let cache = Some(common::shared_cache_dir().to_path_buf());
    let runtime = Arc::new(Runtime::new(Limits::default(), cache).expect("engine"));
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let http = HttpApp::new(runtime.clone(), &manifest).expect("routes");
    let lambda = LambdaApp::new(runtime, &manifest, LambdaSettings::default()).expect("lambda");
    let client = "127.0.0.1:1".parse().expect("addr");
    let event = event();

    let mut group = c.benchmark_group("sentiment, one tweet, fresh instance");
    group.bench_function("in-process HttpApp (cloudfn up after the socket)", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let request = http::Request::post("/sentiment")
                    .header("host", "127.0.0.1:3000")
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(TWEET.as_bytes())).map_err(|n| match n {}))
                    .expect("request");
                let response = http.handle(request, client).await;
                assert_eq!(response.status(), 200);
                response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes()
            })
        })
    });
    group.bench_function("Lambda trigger (bootstrap after the Runtime API)", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let value = serde_json::from_slice(&event).expect("event JSON");
                let response = lambda.handle(value, None).await.expect("handled");
                assert_eq!(response["statusCode"], 200);
                serde_json::to_vec(&response).expect("response JSON")
            })
        })
    });
    group.finish();
}

criterion_group!(benches, lambda);
criterion_main!(benches);
