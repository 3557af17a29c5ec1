//! Component glue: the typed `mapper` export, the line stream and the HTTP face.

use component_http::wasi::{RequestBody, route_request, send};
use component_http::{Endpoint, Reply};
use inverted_index::batch::{MAX_BODY, TOO_LARGE, TSV, build_index, map_body, map_records};
use inverted_index::lines::Counters;
use inverted_index::tokenize::Tokenizer;
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

component_http::generate!({
    path: ["../../wit/platform", "../../wit/mapreduce"],
    world: "cloudfn:mapreduce/index-map",
});

use cloudfn::mapreduce::types::{Pair, Record};
use exports::cloudfn::mapreduce::mapper::Guest;

struct Mapper;

/// The mapper's output for `records`, as typed pairs.
fn pairs_of(records: &[Record]) -> Vec<Pair> {
    let records = records.iter().map(|r| (&*r.doc_id, &*r.content));
    map_records(&Tokenizer::new(), records)
        .into_iter()
        .map(|(key, value)| Pair { key, value })
        .collect()
}

impl Guest for Mapper {
    fn map(record: Record) -> Vec<Pair> {
        pairs_of(std::slice::from_ref(&record))
    }

    fn map_batch(records: Vec<Record>) -> Vec<Pair> {
        pairs_of(&records)
    }
}

inverted_index::line_stream_export!(Mapper, || {
    inverted_index::line_stream::LineStream::map(Tokenizer::new())
});

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Map,
    Build,
}

const RECORDS: &str = " with record lines `doc-id<TAB>content`";

const ENDPOINTS: &[Endpoint<Route>] = &[
    Endpoint {
        path: "/index/map",
        allow: "POST",
        hint: RECORDS,
        name: Route::Map,
    },
    Endpoint {
        path: "/index/build",
        allow: "POST",
        hint: RECORDS,
        name: Route::Build,
    },
];

impl exports::wasi::http::incoming_handler::Guest for Mapper {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        send(out, respond(&request).unwrap_or_else(|refused| refused));
    }
}

export!(Mapper);

fn respond(request: &IncomingRequest) -> Result<Reply, Reply> {
    let (route, _) = route_request(request, ENDPOINTS, "POST /index/map or /index/build")?;
    let bytes = RequestBody::open(request)?.read_all(MAX_BODY, TOO_LARGE)?;
    let tokenizer = Tokenizer::new();
    let (lines, counters) = match route {
        Route::Map => map_body(&tokenizer, &bytes),
        Route::Build => build_index(&tokenizer, &bytes),
    };
    Ok(Reply::ok(TSV, lines).with_header("x-cloudfn-counters", counters_header(&counters)))
}

fn counters_header(c: &Counters) -> String {
    format!(
        "lines={} written={} blank={} malformed={}",
        c.lines, c.written, c.blank, c.malformed
    )
}
