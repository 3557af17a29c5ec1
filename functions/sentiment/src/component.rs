//! Component glue: the typed `scorer` export and the HTTP face over WASI.

use crate::http_face::{self, MAX_JSON_BODY, NdjsonStream, Reply};
use crate::scoring::{self, Scorer};
use component_http::wasi::{finish, read_up_to, request_path, send, start, write_all};
use wasip2::http::types::{IncomingBody, IncomingRequest, Method, ResponseOutparam};
use wasip2::io::streams::{InputStream, StreamError};

wit_bindgen::generate!({ path: "../../wit/sentiment", world: "sentiment" });

use exports::cloudfn::sentiment::scorer::{self as wit, Guest};

struct Sentiment;

fn to_wit(s: scoring::Scores) -> wit::Scores {
    wit::Scores {
        neg: s.neg,
        neu: s.neu,
        pos: s.pos,
        compound: s.compound,
    }
}

impl Guest for Sentiment {
    fn score(text: String) -> wit::Scores {
        to_wit(Scorer::new().score(&text))
    }

    fn score_batch(texts: Vec<String>) -> Vec<wit::Scores> {
        let mut scorer = Scorer::new();
        texts.iter().map(|t| to_wit(scorer.score(t))).collect()
    }

    fn classify(s: wit::Scores) -> wit::Label {
        let scores = scoring::Scores {
            neg: s.neg,
            neu: s.neu,
            pos: s.pos,
            compound: s.compound,
        };
        match scoring::classify(&scores) {
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

export!(Sentiment);

struct Http;

wasip2::http::proxy::export!(Http);

/// What the request asks for.
enum Route {
    Score,
    Aggregate,
}

impl wasip2::exports::http::incoming_handler::Guest for Http {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request_path(&request);
        let route = match path.trim_end_matches('/') {
            "/sentiment" => Route::Score,
            "/sentiment/aggregate" => Route::Aggregate,
            _ => {
                return send(
                    out,
                    Reply::error(
                        404,
                        format!(
                            "no such endpoint: {path} (POST /sentiment or /sentiment/aggregate)"
                        ),
                    ),
                    &[],
                );
            }
        };
        if !matches!(request.method(), Method::Post) {
            return send(
                out,
                Reply::error(405, "use POST with a JSON or NDJSON body"),
                &[("allow", "POST")],
            );
        }
        let ndjson = request
            .headers()
            .get("content-type")
            .iter()
            .any(|v| v.starts_with(b"application/x-ndjson"));
        let Ok(body) = request.consume() else {
            return send(out, Reply::error(400, "request body unavailable"), &[]);
        };
        let Ok(input) = body.stream() else {
            return send(out, Reply::error(400, "request body unavailable"), &[]);
        };
        if ndjson {
            stream_ndjson(out, &input, matches!(route, Route::Aggregate));
        } else {
            let reply = match read_up_to(&input, MAX_JSON_BODY + 1) {
                Ok(bytes) => match route {
                    Route::Score => http_face::score_json(&mut Scorer::new(), &bytes),
                    Route::Aggregate => http_face::aggregate_json(&mut Scorer::new(), &bytes),
                },
                Err(message) => Reply::error(400, message),
            };
            send(out, reply, &[]);
        }
        drop(input);
        let _ = IncomingBody::finish(body);
    }
}

fn stream_ndjson(out: ResponseOutparam, input: &InputStream, aggregate: bool) {
    let Some((body, output)) = start(out, 200, "application/x-ndjson", &[]) else {
        return;
    };
    let mut stream = NdjsonStream::new(aggregate);
    let mut pending = Vec::new();
    loop {
        match input.blocking_read(64 << 10) {
            Ok(chunk) => {
                stream.push(&chunk, &mut pending);
                if write_all(&output, &pending).is_err() {
                    return;
                }
                pending.clear();
            }
            Err(StreamError::Closed) => break,
            // The client went away or the host cut the body (size limit): stop.
            Err(StreamError::LastOperationFailed(_)) => return,
        }
    }
    stream.finish(&mut pending);
    if write_all(&output, &pending).is_ok() {
        finish(body, output);
    }
}
