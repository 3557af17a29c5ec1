//! Component glue: the HTTP face over `wasi:http`, publishing through
//! `fermyon:spin/redis` and reading the aggregates through `wasi:keyvalue`.

use crate::http_face::{self, MAX_BODY, Route, TOO_LARGE};
use component_http::Reply;
use component_http::wasi::{RequestBody, header, route_request, send};
use social_feed::aggregate::{Bucket, dashboard};
use social_feed::feed::CHANNEL;
use social_feed::keys;
use social_feed::keywords::Keywords;
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/redis-handler", "../../wit/social"],
    world: "cloudfn:social/listener",
    generate_all,
});

// `fermyon:spin@2.0.0` is `spin2_0_0`: the unversioned `fermyon:spin` of
// wit/redis-handler (which wit/social's consumer world needs) shares the resolve.
use fermyon::spin2_0_0::{redis, variables};
use wasi::keyvalue::{batch, store};

/// The key-value store the consumer keeps the aggregates in.
const STORE: &str = "default";

struct Listener;

impl exports::wasi::http::incoming_handler::Guest for Listener {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (route, query) = match route_request(&request, http_face::ENDPOINTS, http_face::USAGE) {
            Ok(found) => found,
            Err(reply) => return send(out, reply),
        };
        let keywords = match variables::get("keywords") {
            Ok(list) => Keywords::parse(&list)
                .map_err(|e| http_face::misconfigured(&format!("variable `keywords`: {e}"))),
            Err(e) => Err(http_face::misconfigured(&format!(
                "variable `keywords`: {e:?}"
            ))),
        };
        let reply = match (keywords, route) {
            (Err(reply), _) => reply,
            (Ok(keywords), Route::Tweets) => tweets(&request, &keywords),
            (Ok(keywords), Route::Dashboard) => match http_face::dashboard_query(&query, &keywords)
            {
                Ok(query) => read_dashboard(&keywords, &query),
                Err(reply) => reply,
            },
        };
        send(out, reply);
    }
}

export!(Listener);

/// Checks the request's tweets, then publishes the kept ones in order.
fn tweets(request: &IncomingRequest, keywords: &Keywords) -> Reply {
    let ndjson =
        header(request, "content-type").is_some_and(|v| v.starts_with("application/x-ndjson"));
    let body = match RequestBody::open(request).and_then(|b| b.read_all(MAX_BODY, TOO_LARGE)) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let now = i64::try_from(wasip2::clocks::wall_clock::now().seconds).unwrap_or(i64::MAX);
    let new_id = || {
        let (a, b) = (
            wasip2::random::random::get_random_u64(),
            wasip2::random::random::get_random_u64(),
        );
        format!("{a:016x}{b:016x}")
    };
    let ingest = match http_face::ingest(&body, ndjson, keywords, now, new_id) {
        Ok(ingest) => ingest,
        Err(reply) => return reply,
    };
    if ingest.kept.is_empty() {
        return http_face::accepted(&ingest);
    }
    let address = match variables::get("feed_address") {
        Ok(address) => address,
        Err(e) => return http_face::misconfigured(&format!("variable `feed_address`: {e:?}")),
    };
    let connection = match redis::Connection::open(&address) {
        Ok(connection) => connection,
        Err(e) => return http_face::publish_failed(&ingest, 0, &format!("{address}: {e:?}")),
    };
    for (published, tweet) in ingest.kept.iter().enumerate() {
        if let Err(e) = connection.publish(CHANNEL, &tweet.to_event().to_json()) {
            return http_face::publish_failed(&ingest, published, &redis_error(&e));
        }
    }
    http_face::accepted(&ingest)
}

fn redis_error(e: &redis::Error) -> String {
    match e {
        redis::Error::Other(message) => message.clone(),
        other => format!("{other:?}"),
    }
}

/// The latest minutes' aggregates, every shard of each merged.
fn read_dashboard(keywords: &Keywords, query: &http_face::DashboardQuery) -> Reply {
    let failed = |what: &str, e: store::Error| {
        Reply::error(503, format!("the key-value store failed {what}: {e:?}"))
    };
    let store = match store::open(STORE) {
        Ok(store) => store,
        Err(e) => return failed(&format!("to open `{STORE}`"), e),
    };
    let minutes = match store.get(keys::MINUTES) {
        Ok(list) => keys::minutes(list.as_deref()),
        Err(e) => return failed("to list the minutes", e),
    };
    let latest = &minutes[minutes.len().saturating_sub(query.minutes)..];
    let names: Vec<String> = latest
        .iter()
        .flat_map(|&m| (0..keys::SHARDS).map(move |s| keys::bucket(m, s)))
        .collect();
    let values = match batch::get_many(&store, &names) {
        Ok(values) => values,
        Err(e) => return failed("to read the aggregates", e),
    };
    let mut buckets: Vec<(i64, Bucket)> = latest.iter().map(|&m| (m, Bucket::default())).collect();
    for (i, (key, value)) in values.iter().enumerate() {
        let Some(minute) = buckets.get_mut(i / keys::SHARDS as usize) else {
            break;
        };
        match Bucket::parse(value.as_deref()) {
            Ok(shard) => minute.1.merge(&shard),
            Err(e) => {
                return Reply::error(500, format!("the record {key} is not an aggregate: {e}"));
            }
        }
    }
    let shown: Vec<&str> = match &query.keyword {
        Some(keyword) => vec![keyword.as_str()],
        None => keywords.names().collect(),
    };
    Reply::json(200, &dashboard(&shown, &buckets))
}
