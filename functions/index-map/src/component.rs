//! Component glue: the typed `mapper` export and the HTTP face.

use component_http::Reply;
use component_http::wasi::{read_post, request_path, send};
use inverted_index::batch::{MAX_BODY, build_index, map_body};
use inverted_index::lines::Counters;
use inverted_index::map::map_document;
use inverted_index::tokenize::Tokenizer;
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

wit_bindgen::generate!({ path: "../../wit/mapreduce", world: "index-map" });

use cloudfn::mapreduce::types::{Pair, Record};
use exports::cloudfn::mapreduce::mapper::Guest;

struct Mapper;

fn map_record(tokenizer: &Tokenizer, record: &Record, out: &mut Vec<Pair>) {
    for (word, tf) in map_document(tokenizer, &record.content) {
        out.push(Pair {
            key: word,
            value: format!("{}\t{tf}", record.doc_id),
        });
    }
}

impl Guest for Mapper {
    fn map(record: Record) -> Vec<Pair> {
        let mut out = Vec::new();
        map_record(&Tokenizer::new(), &record, &mut out);
        out
    }

    fn map_batch(records: Vec<Record>) -> Vec<Pair> {
        let tokenizer = Tokenizer::new();
        let mut out = Vec::new();
        for record in &records {
            map_record(&tokenizer, record, &mut out);
        }
        out
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
