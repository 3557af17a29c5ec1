//! The same mapper and reducer code as the components, built natively, fed
//! the same way `cloudfn stream` feeds the components (1 MiB chunks through
//! a [`LineStream`]): the native side of `bench/index-pipeline.sh`.
//!
//! `native_stream map < records > pairs`, `native_stream reduce < sorted-pairs > index`

use inverted_index::line_stream::LineStream;
use inverted_index::tokenize::Tokenizer;
use std::io::{Read, Write};

/// Bytes read per push, as `cloudfn stream`.
const CHUNK: usize = 1 << 20;

fn run(mut stream: LineStream) -> Result<inverted_index::lines::Counters, String> {
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut out = Vec::new();
    loop {
        chunk.clear();
        let n = input
            .by_ref()
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        stream.push(&chunk, &mut out).map_err(|e| e.to_string())?;
        output.write_all(&out).map_err(|e| e.to_string())?;
        out.clear();
    }
    let counters = stream.finish(&mut out).map_err(|e| e.to_string())?;
    output.write_all(&out).map_err(|e| e.to_string())?;
    output.flush().map_err(|e| e.to_string())?;
    Ok(counters)
}

fn main() -> std::process::ExitCode {
    let phase = std::env::args().nth(1).unwrap_or_default();
    let result = match phase.as_str() {
        "map" => run(LineStream::map(Tokenizer::new())),
        "reduce" => run(LineStream::reduce()),
        _ => Err("usage: native_stream map|reduce".into()),
    };
    match result {
        Ok(counters) => {
            eprintln!("native {phase}: {counters}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
