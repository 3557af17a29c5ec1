//! Component glue: the typed `scorer` export and the HTTP face over WASI.

use crate::http_face::{self, MAX_JSON_BODY, NdjsonStream, Reply, Route};
use crate::scoring::{self, Scorer};
use component_http::wasi::{RequestBody, header, route_request, send, start};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/sentiment"],
    world: "cloudfn:sentiment/sentiment",
});

use exports::cloudfn::sentiment::scorer::{self as wit, Guest};

struct Sentiment;

impl From<scoring::Scores> for wit::Scores {
    fn from(s: scoring::Scores) -> Self {
        Self {
            neg: s.neg,
            neu: s.neu,
            pos: s.pos,
            compound: s.compound,
        }
    }
}

impl From<wit::Scores> for scoring::Scores {
    fn from(s: wit::Scores) -> Self {
        Self {
            neg: s.neg,
            neu: s.neu,
            pos: s.pos,
            compound: s.compound,
        }
    }
}

impl Guest for Sentiment {
    fn score(text: String) -> wit::Scores {
        Scorer::new().score(&text).into()
    }

    fn score_batch(texts: Vec<String>) -> Vec<wit::Scores> {
        let mut scorer = Scorer::new();
        texts.iter().map(|t| scorer.score(t).into()).collect()
    }

    fn classify(s: wit::Scores) -> wit::Label {
        match scoring::classify(&s.into()) {
            scoring::Label::Positive => wit::Label::Positive,
            scoring::Label::Neutral => wit::Label::Neutral,
            scoring::Label::Negative => wit::Label::Negative,
        }
    }

    fn aggregate(texts: Vec<String>) -> wit::Summary {
        let s = scoring::aggregate(&mut Scorer::new(), texts.iter().map(String::as_str));
        wit::Summary {
            count: s.count,
            positives: s.positives,
            neutrals: s.neutrals,
            negatives: s.negatives,
            mean_compound: s.mean_compound,
            most_positive: s.most_positive,
            most_negative: s.most_negative,
        }
    }
}

impl exports::wasi::http::incoming_handler::Guest for Sentiment {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let route = match route_request(&request, http_face::ENDPOINTS, http_face::USAGE) {
            Ok((route, _)) => route,
            Err(reply) => return send(out, reply),
        };
        let ndjson =
            header(&request, "content-type").is_some_and(|v| v.starts_with("application/x-ndjson"));
        let body = match RequestBody::open(&request) {
            Ok(body) => body,
            Err(reply) => return send(out, reply),
        };
        if ndjson {
            return stream_ndjson(out, &body, route == Route::Aggregate);
        }
        let reply: Reply = match body.read_all(MAX_JSON_BODY, http_face::TOO_LARGE) {
            Ok(bytes) => match route {
                Route::Score => http_face::score_json(&mut Scorer::new(), &bytes),
                Route::Aggregate => http_face::aggregate_json(&mut Scorer::new(), &bytes),
            },
            Err(reply) => reply,
        };
        send(out, reply);
    }
}

export!(Sentiment);

/// Scores an NDJSON body line by line as it arrives, writing each chunk's
/// results before reading the next.
fn stream_ndjson(out: ResponseOutparam, body: &RequestBody, aggregate: bool) {
    let Some(mut response) = start(out, 200, "application/x-ndjson", &[]) else {
        return;
    };
    let mut stream = NdjsonStream::new(aggregate);
    let mut pending = Vec::new();
    loop {
        match body.chunk(64 << 10) {
            Ok(Some(chunk)) => {
                stream.push(&chunk, &mut pending);
                if response.write(&pending).is_err() {
                    return;
                }
                pending.clear();
            }
            Ok(None) => break,
            // The client went away or the host cut the body (size limit): stop.
            Err(_) => return,
        }
    }
    stream.finish(&mut pending);
    if response.write(&pending).is_ok() {
        response.finish();
    }
}
