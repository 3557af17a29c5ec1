//! The listener's HTTP protocol, independent of WASI.

use component_http::{Endpoint, Reply, query};
use social_feed::feed::FeedTweet;
use social_feed::keywords::Keywords;
use social_feed::tweet::{self, MAX_LISTED_REJECTIONS, Rejected};

/// Largest request body: a bigger feed is sent in several requests.
pub const MAX_BODY: usize = 16 << 20;
/// What a `413` advises.
pub const TOO_LARGE: &str = "split the feed into several requests";
/// Minutes the dashboard reports unless asked otherwise.
pub const DEFAULT_MINUTES: usize = 60;
/// Most minutes one dashboard request reports (a day).
pub const MAX_MINUTES: usize = 24 * 60;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /social/tweets`.
    Tweets,
    /// `GET /social/dashboard`.
    Dashboard,
}

/// The endpoints.
pub const ENDPOINTS: &[Endpoint<Route>] = &[
    Endpoint {
        path: "/social/tweets",
        allow: "POST",
        hint: " with a JSON tweet, a JSON array of tweets, or NDJSON",
        name: Route::Tweets,
    },
    Endpoint {
        path: "/social/dashboard",
        allow: "GET",
        hint: "",
        name: Route::Dashboard,
    },
];

/// The endpoints, for `404` messages.
pub const USAGE: &str = "POST /social/tweets or GET /social/dashboard";

/// A checked request's tweets: how many came, and those kept for their keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingest {
    /// Tweets in the request.
    pub received: usize,
    /// Those mentioning a keyword, ready to publish.
    pub kept: Vec<FeedTweet>,
}

/// Checks every tweet of `body` and keeps those `keywords` match. A tweet
/// without an id gets one from `new_id`; one without `created_at` gets `now`.
/// Any bad tweet refuses the whole body (`400`, listing where and why).
pub fn ingest(
    body: &[u8],
    ndjson: bool,
    keywords: &Keywords,
    now: i64,
    mut new_id: impl FnMut() -> String,
) -> Result<Ingest, Reply> {
    let parsed = if ndjson {
        tweet::parse_ndjson(body)
    } else {
        tweet::parse_json(body)
    };
    let tweets = parsed.map_err(|rejected| refused(&rejected, ndjson))?;
    let received = tweets.len();
    let kept = tweets
        .into_iter()
        .filter_map(|t| {
            let keywords = keywords.matches(&t.text);
            (!keywords.is_empty()).then(|| FeedTweet {
                id: t.id.unwrap_or_else(&mut new_id),
                text: t.text,
                user: t.user,
                keywords,
                time: t.created_at.unwrap_or(now),
            })
        })
        .collect();
    Ok(Ingest { received, kept })
}

fn refused(rejected: &[Rejected], ndjson: bool) -> Reply {
    let unit = if ndjson { "line" } else { "tweet" };
    let listed: Vec<serde_json::Value> = rejected
        .iter()
        .take(MAX_LISTED_REJECTIONS)
        .map(|r| serde_json::json!({ unit: r.position, "error": r.error }))
        .collect();
    Reply::json(
        400,
        &serde_json::json!({
            "error": format!(
                "{} {unit}{} refused, nothing published; first: {unit} {}: {}",
                rejected.len(),
                if rejected.len() == 1 { "" } else { "s" },
                rejected[0].position,
                rejected[0].error
            ),
            "rejected": rejected.len(),
            "first_rejected": listed,
        }),
    )
}

/// The `202` once every kept tweet is published.
pub fn accepted(ingest: &Ingest) -> Reply {
    Reply::json(
        202,
        &serde_json::json!({
            "received": ingest.received,
            "published": ingest.kept.len(),
            "filtered_out": ingest.received - ingest.kept.len(),
        }),
    )
}

/// The `503` when publishing stopped part way: what went out and why the rest did not.
pub fn publish_failed(ingest: &Ingest, published: usize, error: &str) -> Reply {
    let next = &ingest.kept[published];
    Reply::json(
        503,
        &serde_json::json!({
            "error": format!(
                "published {published} of {} kept tweets, then the feed refused tweet {}: {error}",
                ingest.kept.len(),
                next.id
            ),
            "received": ingest.received,
            "published": published,
            "first_unpublished_id": next.id,
        }),
    )
    .with_header("retry-after", "1")
}

/// What a dashboard request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardQuery {
    /// How many of the latest minutes with data.
    pub minutes: usize,
    /// Only this keyword (normalized), or all.
    pub keyword: Option<String>,
}

/// Reads `minutes` and `keyword` from the query string.
pub fn dashboard_query(query_string: &str, keywords: &Keywords) -> Result<DashboardQuery, Reply> {
    let mut out = DashboardQuery {
        minutes: DEFAULT_MINUTES,
        keyword: None,
    };
    for pair in query::pairs(query_string) {
        let (name, value) = pair.map_err(|e| Reply::error(400, e.to_string()))?;
        match name.as_str() {
            "minutes" => {
                out.minutes = value
                    .parse()
                    .ok()
                    .filter(|m| (1..=MAX_MINUTES).contains(m))
                    .ok_or_else(|| {
                        Reply::error(
                            400,
                            format!("minutes={value}: give a whole number from 1 to {MAX_MINUTES}"),
                        )
                    })?;
            }
            "keyword" => {
                let wanted = value.trim().to_lowercase();
                if !keywords.names().any(|k| k == wanted) {
                    let known: Vec<&str> = keywords.names().collect();
                    return Err(Reply::error(
                        404,
                        format!(
                            "keyword `{value}` is not tracked; tracked: {}",
                            known.join(", ")
                        ),
                    ));
                }
                out.keyword = Some(wanted);
            }
            other => {
                return Err(Reply::error(
                    400,
                    format!("unknown query parameter `{other}`; use minutes and keyword"),
                ));
            }
        }
    }
    Ok(out)
}

/// The `500` when the `keywords` variable is unusable.
pub fn misconfigured(what: &str) -> Reply {
    Reply::error(500, format!("the listener is misconfigured: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords() -> Keywords {
        Keywords::parse("rust,wasm").expect("keywords")
    }

    #[test]
    fn keeps_matching_tweets_with_ids_and_times() {
        let mut n = 0;
        let got = ingest(
            br#"[{"text": "I love #rust"}, {"id": 9, "text": "cats", "created_at": "2026-12-02T10:15:30Z"}, {"id": "x", "text": "wasm and rust", "created_at": "2026-12-02T10:15:30Z"}]"#,
            false,
            &keywords(),
            100,
            || {
                n += 1;
                format!("gen{n}")
            },
        )
        .expect("ingest");
        assert_eq!(got.received, 3);
        assert_eq!(got.kept.len(), 2);
        assert_eq!((got.kept[0].id.as_str(), got.kept[0].time), ("gen1", 100));
        assert_eq!(got.kept[1].keywords, ["rust", "wasm"]);
        assert_eq!(got.kept[1].time, 1_796_206_530);
        let reply = accepted(&got);
        assert_eq!(reply.status, 202);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["filtered_out"], 1);
        let failed = publish_failed(&got, 1, "queue full");
        assert_eq!(
            (failed.status, failed.header("retry-after")),
            (503, Some("1"))
        );
        assert!(String::from_utf8_lossy(&failed.body).contains("published 1 of 2"));
    }

    #[test]
    fn one_bad_tweet_refuses_the_request_naming_it() {
        let reply = ingest(
            b"{\"text\": \"rust\"}\n{\"txt\": \"rust\"}\n",
            true,
            &keywords(),
            0,
            String::new,
        )
        .expect_err("refused");
        assert_eq!(reply.status, 400);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["first_rejected"][0]["line"], 2);
        assert!(
            body["error"]
                .as_str()
                .expect("error")
                .contains("`text` is missing")
        );
    }

    #[test]
    fn dashboard_queries() {
        let k = keywords();
        assert_eq!(
            dashboard_query("", &k),
            Ok(DashboardQuery {
                minutes: 60,
                keyword: None
            })
        );
        assert_eq!(
            dashboard_query("minutes=5&keyword=Rust", &k),
            Ok(DashboardQuery {
                minutes: 5,
                keyword: Some("rust".into())
            })
        );
        assert_eq!(dashboard_query("minutes=0", &k).expect_err("0").status, 400);
        assert_eq!(
            dashboard_query("minutes=1441", &k).expect_err("big").status,
            400
        );
        assert_eq!(
            dashboard_query("keyword=go", &k).expect_err("go").status,
            404
        );
        assert_eq!(
            dashboard_query("limit=3", &k).expect_err("limit").status,
            400
        );
    }
}
