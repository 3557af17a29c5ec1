//! Component glue: the typed `reducer` export and the HTTP face.

use component_http::Reply;
use component_http::wasi::{read_post, request_path, send};
use inverted_index::batch::{MAX_BODY, reduce_body};
use inverted_index::reduce::{Postings, parse_value};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

wit_bindgen::generate!({ path: "../../wit/mapreduce", world: "index-reduce" });

use cloudfn::mapreduce::types::{Error, Pair};
use exports::cloudfn::mapreduce::reducer::Guest;

struct Reducer;

impl Guest for Reducer {
    fn reduce(key: String, values: Vec<String>) -> Result<Pair, Error> {
        let mut postings = Postings::default();
        for value in &values {
            if !parse_value(value, |doc, tf| postings.add(doc, tf)) {
                return Err(Error::MalformedValue(value.clone()));
            }
        }
        let mut value = Vec::new();
        postings.write(&mut value);
        Ok(Pair {
            key,
            // Built from `&str` document ids and ASCII separators.
            value: String::from_utf8(value).unwrap_or_default(),
        })
    }

    fn reduce_batch(groups: Vec<(String, Vec<String>)>) -> Result<Vec<Pair>, Error> {
        groups
            .into_iter()
            .map(|(key, values)| Self::reduce(key, values))
            .collect()
    }
}

export!(Reducer);

inverted_index::line_stream_export!(Reducer, inverted_index::line_stream::LineStream::reduce);

struct Http;

wasip2::http::proxy::export!(Http);

impl wasip2::exports::http::incoming_handler::Guest for Http {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let full = request_path(&request);
        let path = full.trim_end_matches('/');
        if path != "/index/reduce" {
            return send(
                out,
                Reply::error(
                    404,
                    format!("no such endpoint: {path} (POST /index/reduce)"),
                ),
                &[],
            );
        }
        let Some((bytes, out)) = read_post(
            &request,
            out,
            MAX_BODY,
            "use POST with pair lines sorted by key",
            "for larger inputs use `cloudfn stream` or a Hadoop Streaming job",
        ) else {
            return;
        };
        let reply = match reduce_body(&bytes) {
            Ok((lines, _)) => Reply::ok("text/tab-separated-values; charset=utf-8", lines),
            Err(e) => Reply::error(400, e.to_string()),
        };
        send(out, reply, &[]);
    }
}
