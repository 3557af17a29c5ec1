//! The same scenarios on `cloudfn up` and on the Lambda bootstrap under
//! the emulator: every function's HTTP face (a binary image round trip
//! among them), an event batch where one message's handler fails, and an
//! uploaded image whose storage event makes a thumbnail, with the blob
//! store on a real S3 server; and the social pipeline, through the embedded
//! broker on one and a real SQS server on the other.

use super::{LambdaBuilder, LambdaHost, Platform};
use crate::common::{Host, HostBuilder, Reply, product_manifest, wait_until};
use crate::events::{app, dead_letters, publish};
use crate::servers::{SqsServer, s3_server, sqs_server};
use image::{DynamicImage, GenericImageView, ImageFormat, RgbImage};
use serde_json::{Value, json};
use std::net::SocketAddr;

const S3_KEY: &str = "cloudfn";
const S3_SECRET: &str = "cloudfn-secret";

/// The AWS settings that point the S3 blob store at the test's server.
fn s3_env(s3: SocketAddr) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT", format!("http://{s3}")),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", S3_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", S3_SECRET.into()),
    ]
}

/// A real S3 server with the bucket `drive`; the temp dir lives with it.
fn s3() -> (tempfile::TempDir, SocketAddr) {
    let root = tempfile::tempdir().expect("s3 root");
    std::fs::create_dir(root.path().join("drive")).expect("bucket");
    let addr = s3_server(root.path(), S3_KEY, S3_SECRET);
    (root, addr)
}

/// `cloudfn up` on the product manifest, its blobs under `s3://drive/up`.
fn local_host(s3: SocketAddr) -> Host {
    HostBuilder::product()
        .anonymous_drive()
        .arg("--blob-store")
        .arg("s3://drive/up")
        .envs(s3_env(s3))
        .start()
}

/// The bootstrap on the product manifest, its blobs under
/// `s3://drive/lambda`. On Lambda S3 itself tells of new objects, so
/// blob-upload publishes no event of its own (`storage_events_address` empty).
fn lambda_host(s3: SocketAddr) -> LambdaHost {
    LambdaBuilder::manifest(product_manifest())
        .env("CLOUDFN_BLOB_STORE", "s3://drive/lambda")
        .env("SPIN_VARIABLE_DRIVE_ANONYMOUS", "true")
        .env("SPIN_VARIABLE_STORAGE_EVENTS_ADDRESS", "")
        .envs(s3_env(s3))
        .start()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .expect("encode");
    out
}

/// Every function's HTTP face once, checked on its own; the replies in
/// order, for comparing platforms.
fn http_faces(p: &dyn Platform) -> Vec<(String, Reply)> {
    let name = p.name();
    let mut replies = Vec::new();
    let mut keep = |what: &str, reply: Reply| replies.push((what.to_owned(), reply));

    let scored = p.request(
        "POST",
        "/sentiment",
        &[("content-type", "application/json")],
        Some(br#"{"text": "I love this, it is GREAT :)"}"#),
    );
    assert_eq!(scored.status, 200, "{name}: {}", scored.body);
    let score: Value = serde_json::from_str(&scored.body).expect("JSON");
    assert!(
        score["compound"].as_f64().expect("compound") > 0.8,
        "{name}: {score}"
    );
    keep("sentiment", scored);

    let built = p.request(
        "POST",
        "/index/build",
        &[("content-type", "text/plain")],
        Some(b"d1\tHello, wasm world\nd2\twasm on Lambda\n"),
    );
    assert_eq!(built.status, 200, "{name}: {}", built.body);
    assert!(built.body.contains("wasm\t2\t"), "{name}: {}", built.body);
    keep("index build", built);
    let mapped = p.request("POST", "/index/map", &[], Some(b"d9\tone two two\n"));
    assert_eq!(mapped.status, 200, "{name}: {}", mapped.body);
    keep("index map", mapped);
    let reduced = p.request(
        "POST",
        "/index/reduce",
        &[],
        Some(b"hello\td1\t1\nworld\td1\t2\n"),
    );
    assert_eq!(reduced.status, 200, "{name}: {}", reduced.body);
    keep("index reduce", reduced);

    // Binary in, binary out: base64 both ways on Lambda.
    let filtered = p.request(
        "POST",
        "/image/filter?ops=grayscale,resize:32x16&format=png",
        &[("content-type", "image/png")],
        Some(&png(64, 32)),
    );
    assert_eq!(filtered.status, 200, "{name}: {}", filtered.body);
    assert_eq!(filtered.header("content-type"), Some("image/png"), "{name}");
    let out = image::load_from_memory_with_format(&filtered.bytes, ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{name}: the result is no PNG: {e}"));
    assert_eq!(out.dimensions(), (32, 16), "{name}");
    keep("image filter", filtered);
    // A binary body needs its type: without one the emulator's Function URL
    // takes it for text and answers 500 itself, before any invocation.
    let bad_op = p.request(
        "POST",
        "/image/filter?ops=explode",
        &[("content-type", "image/png")],
        Some(&png(4, 4)),
    );
    assert_eq!(bad_op.status, 400, "{name}: {}", bad_op.body);
    keep("image filter, bad op", bad_op);

    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let stored = p.request(
        "PUT",
        "/blobs/scenario/all%20bytes.bin",
        &[("content-type", "application/x-test")],
        Some(&bytes),
    );
    assert_eq!(stored.status, 201, "{name}: {}", stored.body);
    let back = p.request("GET", "/blobs/scenario/all%20bytes.bin", &[], None);
    assert_eq!(back.status, 200, "{name}: {}", back.body);
    assert!(back.bytes == bytes, "{name}: the download differs");
    assert_eq!(
        back.header("content-type"),
        Some("application/x-test"),
        "{name}"
    );
    let listed = p.request("GET", "/blobs?prefix=scenario/", &[], None);
    assert_eq!(listed.status, 200, "{name}: {}", listed.body);
    let page: Value = serde_json::from_str(&listed.body).expect("JSON listing");
    assert_eq!(
        page["items"][0]["key"], "scenario/all bytes.bin",
        "{name}: {page}"
    );
    assert_eq!(page["items"][0]["size"], 300_000, "{name}: {page}");
    let deleted = p.request("DELETE", "/blobs/scenario/all%20bytes.bin", &[], None);
    assert_eq!(deleted.status, 204, "{name}: {}", deleted.body);
    let gone = p.request("GET", "/blobs/scenario/all%20bytes.bin", &[], None);
    assert_eq!(gone.status, 404, "{name}");
    keep("blob download", back);

    let dashboard = p.request("GET", "/social/dashboard", &[], None);
    assert_eq!(dashboard.status, 200, "{name}: {}", dashboard.body);
    keep("social dashboard", dashboard);

    // The web tier: a page, gzip-compressed (bytes, so base64 on Lambda),
    // revalidated by its ETag, and the 404 page for what nothing routes.
    let home = p.request("GET", "/", &[("accept-encoding", "gzip")], None);
    assert_eq!(home.status, 200, "{name}: {}", home.body);
    assert_eq!(home.header("content-encoding"), Some("gzip"), "{name}");
    let etag = home.header("etag").expect("an ETag").to_owned();
    keep("web home page, gzip", home);
    let again = p.request(
        "GET",
        "/",
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        None,
    );
    assert_eq!(again.status, 304, "{name}: {}", again.body);
    let unrouted = p.request("GET", "/no/such/route", &[], None);
    assert_eq!(unrouted.status, 404, "{name}");
    assert!(
        unrouted.body.contains("No page here"),
        "{name}: {}",
        unrouted.body
    );
    keep("no route", unrouted);
    replies
}

#[test]
fn every_functions_http_face_answers_alike_on_cloudfn_up_and_on_lambda() {
    let (_root, s3) = s3();
    let local = local_host(s3);
    let lambda = lambda_host(s3);
    let on_local = http_faces(&local);
    let on_lambda = http_faces(&lambda);
    for ((what, a), (_, b)) in on_local.iter().zip(&on_lambda) {
        assert_eq!(a.status, b.status, "{what}: status");
        assert!(
            a.bytes == b.bytes,
            "{what}: the bodies differ:\n{}\n{}",
            a.body,
            b.body
        );
        assert_eq!(
            a.header("content-type"),
            b.header("content-type"),
            "{what}: content type"
        );
    }
    // One log line per request on Lambda too, as on cloudfn up.
    lambda.wait_for_log(|l| {
        l.contains("cloudfn::request")
            && l.contains("component=image-filter")
            && l.contains("status=200")
    });
}

/// An SQS record, as Lambda's event source mapping delivers it.
fn sqs_record(id: &str, body: &str, queue: &str) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185"
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{queue}"),
        "awsRegion": "us-east-1"
    })
}

fn failed_ids(response: &Value) -> Vec<&str> {
    response["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no batchItemFailures in {response}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("itemIdentifier"))
        .collect()
}

#[test]
fn a_batch_where_one_handler_fails_retries_exactly_that_message_on_both_hosts() {
    // cloudfn up: the embedded broker retries only the failed delivery
    // (here with one attempt, so it is dead-lettered at once).
    let dir = tempfile::tempdir().expect("dir");
    let manifest = app(dir.path(), "attempts = 1");
    let local = HostBuilder::manifest(manifest.clone()).start();
    for body in ["job-1", "fail-2", "job-3"] {
        publish(&manifest, "v2", body);
    }
    let dead = wait_until(
        "a dead letter",
        || dead_letters(&manifest),
        |d| !d.is_empty(),
    );
    for id in ["1", "3"] {
        local.wait_for_log(|l| {
            l.contains("component=\"v2\"")
                && l.contains("outcome=handled")
                && l.contains(&format!("id=\"{id}\""))
        });
    }
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["preview"], "fail-2", "{dead:?}");
    assert_eq!(dead[0]["subscriber"], "v2", "{dead:?}");

    // Lambda: the same batch from SQS; only the failed record is reported.
    let lambda = LambdaBuilder::manifest(&manifest)
        .env(
            "CLOUDFN_SQS_CHANNELS",
            "cloudfn-jobs=v2,cloudfn-jobs.fifo=v2",
        )
        .start();
    let batch = |queue: &str| {
        json!({"Records": [
            sqs_record("m-1", "job-1", queue),
            sqs_record("m-2", "fail-2", queue),
            sqs_record("m-3", "job-3", queue),
        ]})
    };
    let (status, response) = lambda.invoke(&batch("cloudfn-jobs"));
    assert_eq!(status, 200, "{response}");
    assert_eq!(failed_ids(&response), ["m-2"], "{response}");
    for id in ["m-1", "m-3"] {
        lambda.wait_for_log(|l| {
            l.contains("cloudfn::event")
                && l.contains(&format!("id=\"{id}\""))
                && l.contains("outcome=handled")
        });
    }
    let refused = lambda.wait_for_log(|l| l.contains("id=\"m-2\"") && l.contains("outcome=failed"));
    assert!(
        refused.contains("the handler returned `error`"),
        "{refused}"
    );

    // A FIFO queue keeps its order: after a failure, later records wait too.
    let (_, response) = lambda.invoke(&batch("cloudfn-jobs.fifo"));
    assert_eq!(failed_ids(&response), ["m-2", "m-3"], "{response}");

    // A queue no component consumes loses nothing: every record goes back.
    let (_, response) = lambda.invoke(&batch("orphans"));
    assert_eq!(failed_ids(&response), ["m-1", "m-2", "m-3"], "{response}");
    lambda.wait_for_log(|l| l.contains("no component subscribes to channel `orphans`"));
}

/// An S3 notification of one object, as S3 sends it (event version 2.1).
fn s3_notification(bucket: &str, key: &str, event_name: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-12-06T10:15:30.250Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "cloudfn-uploads",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": 2048, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}
        }
    }]})
}

/// Uploads a 1024×512 PNG and waits for its 256×128 JPEG thumbnail;
/// `notify` is what tells the platform of the upload (nothing on
/// `cloudfn up`, whose blob-upload publishes the event itself).
fn thumbnail_of_an_upload(p: &dyn Platform, notify: impl FnOnce()) {
    let name = p.name();
    let stored = p.request(
        "PUT",
        "/blobs/photos/my%20cat.png",
        &[("content-type", "image/png")],
        Some(&png(1024, 512)),
    );
    assert_eq!(stored.status, 201, "{name}: {}", stored.body);
    notify();
    let thumbnail = wait_until(
        "the thumbnail",
        || {
            p.request(
                "GET",
                "/blobs/thumbnails/photos/my%20cat.png.jpg",
                &[],
                None,
            )
        },
        |r| r.status == 200,
    );
    assert_eq!(
        thumbnail.header("content-type"),
        Some("image/jpeg"),
        "{name}"
    );
    let image = image::load_from_memory_with_format(&thumbnail.bytes, ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("{name}: the thumbnail is no JPEG: {e}"));
    assert_eq!(image.dimensions(), (256, 128), "{name}");
}

#[test]
fn an_uploaded_image_gets_its_thumbnail_through_a_storage_event_on_both_hosts() {
    let (root, s3) = s3();
    let local = local_host(s3);
    thumbnail_of_an_upload(&local, || {});

    let lambda = lambda_host(s3);
    thumbnail_of_an_upload(&lambda, || {
        // S3 sends the key form-encoded, and with the store's prefix.
        let event = s3_notification(
            "drive",
            "lambda/photos/my+cat.png",
            "ObjectCreated:CompleteMultipartUpload",
        );
        let (status, response) = lambda.invoke(&event);
        assert_eq!(status, 200, "{response}");
    });
    assert!(
        root.path()
            .join("drive/lambda/thumbnails/photos/my cat.png.jpg")
            .exists(),
        "the thumbnail is an object of the bucket, under the prefix"
    );
    let line = lambda.wait_for_log(|l| {
        l.contains("cloudfn::event")
            && l.contains("component=\"image-thumbnail\"")
            && l.contains("outcome=handled")
    });
    assert!(line.contains("channel=\"blob-created\""), "{line}");

    // Objects outside the store, and other kinds of event, are passed over.
    for event in [
        s3_notification("drive", "elsewhere/a.png", "ObjectCreated:Put"),
        s3_notification("other-bucket", "lambda/a.png", "ObjectCreated:Put"),
        s3_notification("drive", "lambda/photos/my+cat.png", "ObjectRemoved:Delete"),
    ] {
        let (status, response) = lambda.invoke(&event);
        assert_eq!(status, 200, "{response}");
    }
    lambda.wait_for_log(|l| {
        l.contains("passed over: not in the blob store's bucket and prefix")
            && l.contains("bucket=\"other-bucket\"")
    });
    lambda.wait_for_log(|l| l.contains("passed over: only ObjectCreated"));
}

#[test]
fn rest_api_events_are_served_and_unknown_events_refused_with_a_reason() {
    let lambda = LambdaBuilder::manifest(product_manifest()).start();
    let event = json!({
        "resource": "/{proxy+}",
        "path": "/sentiment",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "requestContext": {"stage": "prod", "identity": {"sourceIp": "198.51.100.1"}, "requestId": "r-1", "accountId": "123456789012", "apiId": "api", "httpMethod": "POST", "resourcePath": "/{proxy+}", "path": "/prod/sentiment"},
        "body": "{\"text\": \"awful, just awful\"}",
        "isBase64Encoded": false
    });
    let (status, response) = lambda.invoke(&event);
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["isBase64Encoded"], false, "{response}");
    assert_eq!(
        response["multiValueHeaders"]["content-type"][0], "application/json",
        "{response}"
    );
    let body: Value =
        serde_json::from_str(response["body"].as_str().expect("a text body")).expect("JSON");
    assert!(
        body["compound"].as_f64().expect("compound") < -0.5,
        "{body}"
    );

    let (_, response) = lambda.invoke(&json!({"Records": [{"eventSource": "aws:kinesis"}]}));
    assert_eq!(response["errorType"], "cloudfn.InvalidEvent", "{response}");
    assert!(
        response["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("aws:kinesis")),
        "{response}"
    );
}

#[test]
fn a_misbehaving_guest_costs_only_its_own_invocation_on_lambda() {
    let lambda = LambdaBuilder::manifest(&crate::common::fixtures().join("spin.toml"))
        .env("CLOUDFN_MAX_MEMORY", "64MiB")
        .start();
    let trapped = lambda.request("GET", "/bad/trap", &[], None);
    assert_eq!(trapped.status, 500, "{}", trapped.body);
    assert!(trapped.body.contains("trapped"), "{}", trapped.body);
    let hog = lambda.request("GET", "/bad/hog", &[], None);
    assert_eq!(hog.status, 500, "{}", hog.body);
    assert!(
        hog.body.contains("memory limit of 64MiB"),
        "the limit is named: {}",
        hog.body
    );
    let fine = lambda.request("GET", "/hello/after", &[], None);
    assert_eq!(fine.status, 200, "the bootstrap carries on: {}", fine.body);
}

/// Twelve tweets as NDJSON: ten name a keyword (`rust`), two do not.
fn tweets() -> String {
    let texts = [
        "rust is great",
        "I love rust and wasm",
        "rust compile times are awful",
        "rust",
        "meh, rust again",
        "this rust crate is terrible, bad docs",
        "rust makes me happy :)",
        "rust, fine",
        "worst rust bug ever",
        "best rust release yet!",
        "lunch was nice",
        "the weather is bad",
    ];
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let tweet = json!({"id": format!("t{i}"), "text": text, "created_at": format!("2026-12-06T10:{:02}:00Z", 10 + i % 3)});
            format!("{tweet}\n")
        })
        .collect()
}

/// Posts [`tweets`] to the listener, lets `deliver` bring what it published
/// to the consumer (nothing to do on `cloudfn up`), and waits for the
/// dashboard to count them; the dashboard.
fn social_pipeline(p: &dyn Platform, deliver: impl FnOnce()) -> Value {
    let name = p.name();
    let posted = p.request(
        "POST",
        "/social/tweets",
        &[("content-type", "application/x-ndjson")],
        Some(tweets().as_bytes()),
    );
    assert_eq!(posted.status, 202, "{name}: {}", posted.body);
    let counts: Value = serde_json::from_str(&posted.body).expect("JSON");
    assert_eq!(
        counts,
        json!({"received": 12, "published": 10, "filtered_out": 2}),
        "{name}"
    );
    deliver();
    let dashboard = wait_until(
        "ten tweets on the dashboard",
        || p.request("GET", "/social/dashboard?keyword=rust", &[], None),
        |r| {
            serde_json::from_str::<Value>(&r.body).is_ok_and(|d| d["totals"]["rust"]["count"] == 10)
        },
    );
    serde_json::from_str(&dashboard.body).expect("JSON")
}

fn sqs_lambda_env(sqs: &SqsServer) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDFN_SQS_CHANNELS", "cloudfn-feed=feed".into()),
        ("AWS_ENDPOINT_URL_SQS", sqs.endpoint.clone()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", sqs.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", sqs.secret_access_key.clone()),
        ("SPIN_VARIABLE_STORAGE_EVENTS_ADDRESS", String::new()),
    ]
}

fn lambda_with(env: Vec<(&'static str, String)>) -> LambdaHost {
    LambdaBuilder::manifest(product_manifest())
        .envs(env)
        .start()
}

#[test]
fn the_social_pipeline_runs_through_sqs_on_lambda_as_through_the_broker_on_cloudfn_up() {
    let local = HostBuilder::product().start();
    let on_up = social_pipeline(&local, || {});

    // Lambda: the listener's publishes to `feed` become messages of the
    // queue mapped to it, on a real SQS server that checks signatures; the
    // queue's records, as an event source mapping delivers them, reach the
    // consumer.
    let sqs = sqs_server(&["cloudfn-feed"]);
    let lambda = lambda_with(sqs_lambda_env(&sqs));
    let on_lambda = social_pipeline(&lambda, || {
        let messages = sqs.receive("cloudfn-feed");
        assert_eq!(messages.len(), 10, "{messages:?}");
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let body = m["Body"].as_str().expect("a body");
                let event: Value = serde_json::from_str(body).expect("a CloudEvent");
                assert_eq!(event["type"], "dev.cloudfn.social.tweet", "{event}");
                sqs_record(m["MessageId"].as_str().expect("id"), body, "cloudfn-feed")
            })
            .collect();
        let (status, response) = lambda.invoke(&json!({ "Records": records }));
        assert_eq!(status, 200, "{response}");
        assert!(failed_ids(&response).is_empty(), "{response}");
    });
    assert_eq!(on_lambda, on_up, "the same dashboard on both hosts");
}

#[test]
fn a_publish_that_sqs_refuses_answers_503_with_sqs_own_reason() {
    let sqs = sqs_server(&["cloudfn-feed"]);
    // One tweet to the listener of a bootstrap whose `key` is `value`.
    let post_with = |key: &str, value: &str| {
        let mut env = sqs_lambda_env(&sqs);
        env.iter_mut()
            .filter(|(k, _)| *k == key)
            .for_each(|(_, v)| *v = value.to_owned());
        let reply = lambda_with(env).request(
            "POST",
            "/social/tweets",
            &[("content-type", "application/json")],
            Some(br#"{"id": "1", "text": "rust"}"#),
        );
        assert_eq!(reply.status, 503, "{}", reply.body);
        reply.body
    };
    let missing = post_with("CLOUDFN_SQS_CHANNELS", "cloudfn-missing=feed");
    assert!(
        missing.contains("QueueDoesNotExist") && missing.contains("cloudfn-missing"),
        "{missing}"
    );
    // SQS checks the signature.
    let forged = post_with("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    assert!(forged.contains("SignatureDoesNotMatch"), "{forged}");
    assert!(sqs.receive("cloudfn-feed").is_empty(), "nothing was sent");
}

#[test]
fn a_fifo_queue_gets_the_feed_in_order_in_one_group() {
    let sqs = sqs_server(&["cloudfn-feed.fifo"]);
    let mut env = sqs_lambda_env(&sqs);
    env[0] = ("CLOUDFN_SQS_CHANNELS", "cloudfn-feed.fifo=feed".into());
    let lambda = lambda_with(env);
    // Two equal tweets as well: both are delivered, not deduplicated.
    let feed = "{\"id\": \"1\", \"text\": \"rust one\"}\n{\"id\": \"2\", \"text\": \"rust two\"}\n{\"id\": \"2\", \"text\": \"rust two\"}\n";
    let reply = lambda.request(
        "POST",
        "/social/tweets",
        &[("content-type", "application/x-ndjson")],
        Some(feed.as_bytes()),
    );
    assert_eq!(reply.status, 202, "{}", reply.body);
    let messages = sqs.receive("cloudfn-feed.fifo");
    let ids: Vec<String> = messages
        .iter()
        .map(|m| {
            assert_eq!(m["Attributes"]["MessageGroupId"], "feed", "{m}");
            let event: Value =
                serde_json::from_str(m["Body"].as_str().expect("body")).expect("JSON");
            event["data"]["id"].as_str().expect("tweet id").to_owned()
        })
        .collect();
    assert_eq!(ids, ["1", "2", "2"]);
}
