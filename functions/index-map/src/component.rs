//! Component glue: the typed `mapper` export and the HTTP face.

use component_http::Reply;
use component_http::wasi::{read_post, request_path, send};
use inverted_index::batch::{MAX_BODY, build_index, map_body, map_records};
use inverted_index::lines::Counters;
use inverted_index::tokenize::Tokenizer;
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

wit_bindgen::generate!({ path: "../../wit/mapreduce", world: "index-map" });

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

export!(Mapper);

inverted_index::line_stream_export!(Mapper, || {
    inverted_index::line_stream::LineStream::map(Tokenizer::new())
});

struct Http;

wasip2::http::proxy::export!(Http);

impl wasip2::exports::http::incoming_handler::Guest for Http {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let full = request_path(&request);
        let path = full.trim_end_matches('/');
        let build = match path {
            "/index/map" => false,
            "/index/build" => true,
            _ => {
                return send(
                    out,
                    Reply::error(
                        404,
                        format!("no such endpoint: {path} (POST /index/map or /index/build)"),
                    ),
                    &[],
                );
            }
        };
        let Some((bytes, out)) = read_post(
            &request,
            out,
            MAX_BODY,
            "use POST with record lines `doc-id<TAB>content`",
            TOO_LARGE,
        ) else {
            return;
        };
        let tokenizer = Tokenizer::new();
        let (lines, counters) = if build {
            build_index(&tokenizer, &bytes)
        } else {
            map_body(&tokenizer, &bytes)
        };
        let counters = counters_header(&counters);
        send(
            out,
            Reply::ok("text/tab-separated-values; charset=utf-8", lines),
            &[("x-cloudfn-counters", &counters)],
        );
    }
}

/// Advice for bodies over the limit.
const TOO_LARGE: &str = "for larger inputs use `cloudfn stream` or a Hadoop Streaming job";

fn counters_header(c: &Counters) -> String {
    format!(
        "lines={} written={} blank={} malformed={}",
        c.lines, c.written, c.blank, c.malformed
    )
}
