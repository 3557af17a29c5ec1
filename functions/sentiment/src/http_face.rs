//! The HTTP protocol of the sentiment function, independent of WASI:
//! JSON requests in, JSON replies out, and NDJSON streams line by line.

use crate::scoring::{Label, Scorer, Scores, Summary, classify};
use component_http::Endpoint;
use serde::Serialize;
use serde_json::Value;

pub use component_http::Reply;

/// Largest JSON (non-streamed) request body; NDJSON bodies stream without a total limit.
pub const MAX_JSON_BODY: usize = 16 << 20;
/// What a `413` for a JSON body advises.
pub const TOO_LARGE: &str = "send application/x-ndjson to stream larger feeds";
/// Largest single NDJSON line.
pub const MAX_LINE: usize = 1 << 20;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /sentiment`: scores.
    Score,
    /// `POST /sentiment/aggregate`: a summary.
    Aggregate,
}

/// The function's endpoints.
pub const ENDPOINTS: &[Endpoint<Route>] = &[
    Endpoint {
        path: "/sentiment",
        allow: "POST",
        hint: " with a JSON or NDJSON body",
        name: Route::Score,
    },
    Endpoint {
        path: "/sentiment/aggregate",
        allow: "POST",
        hint: " with a JSON or NDJSON body",
        name: Route::Aggregate,
    },
];

/// The endpoints, for `404` messages.
pub const USAGE: &str = "POST /sentiment or /sentiment/aggregate";

/// Scores with their label, as the HTTP face returns them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Labelled {
    /// The scores.
    #[serde(flatten)]
    pub scores: Scores,
    /// The label.
    pub label: Label,
}

fn labelled(scorer: &mut Scorer, text: &str) -> Labelled {
    let scores = scorer.score(text);
    Labelled {
        scores,
        label: classify(&scores),
    }
}

/// What a JSON request asks for.
enum Texts {
    One(String),
    Many(Vec<String>),
}

const SHAPE: &str = r#"expected {"text": "…"} or {"texts": ["…", …]}"#;

fn parse_json(body: &[u8]) -> Result<Texts, Reply> {
    let text = std::str::from_utf8(body).map_err(|e| {
        Reply::error(
            400,
            format!(
                "body is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Reply::error(
            400,
            format!(
                "invalid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                json_reason(&e)
            ),
        )
    })?;
    let Value::Object(mut object) = value else {
        return Err(Reply::error(400, SHAPE));
    };
    match (object.remove("text"), object.remove("texts")) {
        (Some(Value::String(t)), None) => Ok(Texts::One(t)),
        (None, Some(Value::Array(items))) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s),
                _ => Err(Reply::error(
                    400,
                    format!("texts[{i}] is not a string; {SHAPE}"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Texts::Many),
        _ => Err(Reply::error(400, SHAPE)),
    }
}

/// `POST /sentiment` with a JSON body (of at most [`MAX_JSON_BODY`] bytes).
pub fn score_json(scorer: &mut Scorer, body: &[u8]) -> Reply {
    match parse_json(body) {
        Ok(Texts::One(text)) => Reply::json(200, &labelled(scorer, &text)),
        Ok(Texts::Many(texts)) => Reply::json(
            200,
            &texts
                .iter()
                .map(|t| labelled(scorer, t))
                .collect::<Vec<_>>(),
        ),
        Err(reply) => reply,
    }
}

/// `POST /sentiment/aggregate` with a JSON body (of at most [`MAX_JSON_BODY`] bytes).
pub fn aggregate_json(scorer: &mut Scorer, body: &[u8]) -> Reply {
    let texts = match parse_json(body) {
        Ok(Texts::One(text)) => vec![text],
        Ok(Texts::Many(texts)) => texts,
        Err(reply) => return reply,
    };
    Reply::json(
        200,
        &crate::scoring::aggregate(scorer, texts.iter().map(String::as_str)),
    )
}

/// Streams NDJSON: each input line is a JSON string or `{"text": "…"}`; blank
/// lines are skipped. In scoring mode each input line gives one output line
/// (scores and label, or `{"error": …}` for a bad line, since the status was
/// already sent); in aggregate mode one summary line comes at the end.
/// Memory stays bounded by [`MAX_LINE`] whatever the stream length.
pub struct NdjsonStream {
    scorer: Scorer,
    pending: Vec<u8>,
    line: u64,
    summary: Option<Summary>,
    discarding: bool,
}

impl NdjsonStream {
    /// A stream that scores each line (`aggregate = false`) or summarises them all.
    pub fn new(aggregate: bool) -> Self {
        Self {
            scorer: Scorer::new(),
            pending: Vec::new(),
            line: 0,
            summary: aggregate.then(Summary::default),
            discarding: false,
        }
    }

    /// Feeds bytes; complete lines' output is appended to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) {
        while let Some(newline) = chunk.iter().position(|&b| b == b'\n') {
            let (head, rest) = chunk.split_at(newline);
            chunk = &rest[1..];
            if self.discarding {
                self.discarding = false;
                self.pending.clear();
                continue;
            }
            self.pending.extend_from_slice(head);
            let line = std::mem::take(&mut self.pending);
            self.line_done(&line, out);
            self.pending = line;
            self.pending.clear();
        }
        if self.discarding {
            return;
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() > MAX_LINE {
            self.line += 1;
            self.emit_error(
                format!(
                    "line {}: longer than the {} MiB line limit; skipped",
                    self.line,
                    MAX_LINE >> 20
                ),
                out,
            );
            self.pending.clear();
            self.discarding = true;
        }
    }

    /// Ends the stream: a last unterminated line, and the summary in aggregate mode.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        if !self.discarding && !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line_done(&line, out);
        }
        if let Some(summary) = &self.summary {
            write_line(out, summary);
        }
    }

    fn line_done(&mut self, raw: &[u8], out: &mut Vec<u8>) {
        self.line += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match parse_line(raw) {
            Ok(text) => {
                let scored = labelled(&mut self.scorer, &text);
                match &mut self.summary {
                    Some(summary) => summary.add(&text, &scored.scores),
                    None => write_line(out, &scored),
                }
            }
            Err(message) => self.emit_error(format!("line {}: {message}", self.line), out),
        }
    }

    fn emit_error(&mut self, message: String, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct LineError {
            error: String,
        }
        if self.summary.is_none() {
            write_line(out, &LineError { error: message });
        }
    }
}

fn parse_line(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::String(s)) => Ok(s),
        Ok(Value::Object(mut o)) => match o.remove("text") {
            Some(Value::String(s)) => Ok(s),
            _ => Err(r#"expected a JSON string or {"text": "…"}"#.into()),
        },
        Ok(_) => Err(r#"expected a JSON string or {"text": "…"}"#.into()),
        Err(e) => Err(format!(
            "invalid JSON at column {}: {}",
            e.column(),
            json_reason(&e)
        )),
    }
}

/// serde_json's message without its trailing " at line L column C".
fn json_reason(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    }
}

fn write_line(out: &mut Vec<u8>, value: &impl Serialize) {
    if serde_json::to_writer(&mut *out, value).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(reply: &Reply) -> &str {
        std::str::from_utf8(&reply.body).expect("utf-8")
    }

    #[test]
    fn json_single_and_list() {
        let mut scorer = Scorer::new();
        let one = score_json(
            &mut scorer,
            br#"{"text": "VADER is smart, handsome, and funny."}"#,
        );
        assert_eq!(one.status, 200);
        assert_eq!(
            text(&one),
            "{\"neg\":0.0,\"neu\":0.254,\"pos\":0.746,\"compound\":0.8316,\"label\":\"positive\"}\n"
        );
        let many = score_json(&mut scorer, br#"{"texts": ["bad", ""]}"#);
        assert_eq!(
            text(&many),
            concat!(
                r#"[{"neg":1.0,"neu":0.0,"pos":0.0,"compound":-0.5423,"label":"negative"},"#,
                r#"{"neg":0.0,"neu":0.0,"pos":0.0,"compound":0.0,"label":"neutral"}]"#,
                "\n"
            )
        );
    }

    #[test]
    fn bad_json_bodies() {
        let mut scorer = Scorer::new();
        let e = score_json(&mut scorer, b"{\"text\": \n \"x\",,}");
        assert_eq!(
            (e.status, text(&e)),
            (
                400,
                "invalid JSON at line 2, column 6: key must be a string\n"
            )
        );
        let e = score_json(&mut scorer, b"{\"text\": \"caf\xe9\"}");
        assert_eq!(
            (e.status, text(&e)),
            (400, "body is not valid UTF-8 (invalid byte at offset 13)\n")
        );
        let e = score_json(&mut scorer, br#"{"texts": ["a", 3]}"#);
        assert_eq!(e.status, 400);
        assert!(
            text(&e).starts_with("texts[1] is not a string"),
            "{}",
            text(&e)
        );
        let e = score_json(&mut scorer, br#"[1]"#);
        assert_eq!(e.status, 400);
    }

    #[test]
    fn aggregate_summary_json() {
        let mut scorer = Scorer::new();
        let r = aggregate_json(
            &mut scorer,
            br#"{"texts": ["I love it", "I hate it", "a table"]}"#,
        );
        assert_eq!(r.status, 200);
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(v["count"], 3);
        assert_eq!(
            (
                v["positives"].as_u64(),
                v["neutrals"].as_u64(),
                v["negatives"].as_u64()
            ),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(v["most_positive"], "I love it");
        assert_eq!(v["most_negative"], "I hate it");
    }

    #[test]
    fn ndjson_stream_across_chunk_boundaries() {
        let input = "\"good\"\r\n{\"text\": \"bad\"}\n\nnot json\n\"just a table\"";
        for split in 0..input.len() {
            let mut stream = NdjsonStream::new(false);
            let mut out = Vec::new();
            stream.push(&input.as_bytes()[..split], &mut out);
            stream.push(&input.as_bytes()[split..], &mut out);
            stream.finish(&mut out);
            let lines: Vec<&str> = std::str::from_utf8(&out).expect("utf-8").lines().collect();
            assert_eq!(lines.len(), 4, "split at {split}: {lines:?}");
            assert!(lines[0].contains("\"label\":\"positive\""), "{}", lines[0]);
            assert!(lines[1].contains("\"label\":\"negative\""), "{}", lines[1]);
            assert_eq!(
                lines[2],
                r#"{"error":"line 4: invalid JSON at column 2: expected ident"}"#
            );
            assert!(lines[3].contains("\"label\":\"neutral\""), "{}", lines[3]);
        }
    }

    #[test]
    fn ndjson_overlong_line_is_skipped_with_an_error() {
        let mut stream = NdjsonStream::new(false);
        let mut out = Vec::new();
        let long = vec![b'x'; MAX_LINE + 10];
        stream.push(&long, &mut out);
        stream.push(&long, &mut out);
        stream.push(b"\n\"ok\"\n", &mut out);
        stream.finish(&mut out);
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("longer than the 1 MiB line limit"),
            "{}",
            lines[0]
        );
        assert!(lines[1].contains("\"label\""), "{}", lines[1]);
    }

    #[test]
    fn ndjson_aggregate() {
        let mut stream = NdjsonStream::new(true);
        let mut out = Vec::new();
        stream.push(b"\"love\"\n\"hate\"\n", &mut out);
        assert!(out.is_empty());
        stream.finish(&mut out);
        let v: Value = serde_json::from_slice(&out).expect("one summary line");
        assert_eq!(v["count"], 2);
    }
}
