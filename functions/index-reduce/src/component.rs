//! Component glue: the typed `reducer` export, the line stream and the HTTP face.

use component_http::wasi::{RequestBody, route_request, send};
use component_http::{Endpoint, Reply};
use inverted_index::batch::{MAX_BODY, TOO_LARGE, TSV, reduce_body};
use inverted_index::reduce::{Postings, parse_value};
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/mapreduce"],
    world: "cloudfn:mapreduce/index-reduce",
});

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

inverted_index::line_stream_export!(Reducer, inverted_index::line_stream::LineStream::reduce);

const ENDPOINTS: &[Endpoint<()>] = &[Endpoint {
    path: "/index/reduce",
    allow: "POST",
    hint: " with pair lines sorted by key",
    name: (),
}];

impl exports::wasi::http::incoming_handler::Guest for Reducer {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        send(out, respond(&request).unwrap_or_else(|refused| refused));
    }
}

export!(Reducer);

fn respond(request: &IncomingRequest) -> Result<Reply, Reply> {
    route_request(request, ENDPOINTS, "POST /index/reduce")?;
    let bytes = RequestBody::open(request)?.read_all(MAX_BODY, TOO_LARGE)?;
    match reduce_body(&bytes) {
        Ok((lines, _)) => Ok(Reply::ok(TSV, lines)),
        Err(e) => Err(Reply::error(400, e.to_string())),
    }
}
