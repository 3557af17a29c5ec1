//! The same mapper and reducer code as the components, built natively, fed
//! the same way `cloudfn stream` feeds the components (1 MiB chunks through
//! a [`LineStream`], reading and writing on threads of their own): the native side of `bench/index-pipeline.sh`.
//!
//! `native_stream map < records > pairs`, `native_stream reduce < sorted-pairs > index`

use inverted_index::chunk_io::{ChunkReader, ChunkWriter};
use inverted_index::line_stream::LineStream;
use inverted_index::tokenize::Tokenizer;

/// Bytes read per push, as `cloudfn stream`.
const CHUNK: usize = 1 << 20;

fn run(mut stream: LineStream) -> Result<inverted_index::lines::Counters, String> {
    let err = |e: std::io::Error| e.to_string();
    let mut input = ChunkReader::spawn(std::io::stdin(), CHUNK).map_err(err)?;
    let mut output = ChunkWriter::spawn(std::io::stdout()).map_err(err)?;
    while let Some(chunk) = input.next_chunk().map_err(err)? {
        let mut out = Vec::with_capacity(chunk.len() * 4);
        stream.push(&chunk, &mut out).map_err(|e| e.to_string())?;
        output.write(out).map_err(err)?;
    }
    let mut out = Vec::new();
    let counters = stream.finish(&mut out).map_err(|e| e.to_string())?;
    output.write(out).map_err(err)?;
    output.finish().map_err(err)?;
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
