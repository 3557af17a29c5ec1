//! The same mapper and reducer code as the components, built natively, with
//! the same stream protocol: the native side of `bench/index-pipeline.sh`.
//!
//! `native_stream map < records > pairs`, `native_stream reduce < sorted-pairs > index`

use inverted_index::lines::Counters;
use inverted_index::map::map_line;
use inverted_index::reduce::Reducer;
use inverted_index::tokenize::Tokenizer;
use std::io::{BufRead, Write};

fn main() -> std::process::ExitCode {
    let phase = std::env::args().nth(1).unwrap_or_default();
    let mut input = std::io::stdin().lock();
    let mut output = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut line = Vec::new();
    let mut out = Vec::new();
    let result: Result<Counters, String> = match phase.as_str() {
        "map" => {
            let tokenizer = Tokenizer::new();
            let mut counters = Counters::default();
            loop {
                line.clear();
                match input.read_until(b'\n', &mut line) {
                    Ok(0) => break Ok(counters),
                    Ok(_) => {
                        let raw = line.strip_suffix(b"\n").unwrap_or(&line);
                        map_line(&tokenizer, raw, &mut counters, &mut out);
                        if output.write_all(&out).is_err() {
                            break Err("cannot write".into());
                        }
                        out.clear();
                    }
                    Err(e) => break Err(e.to_string()),
                }
            }
        }
        "reduce" => {
            let mut reducer = Reducer::new();
            loop {
                line.clear();
                match input.read_until(b'\n', &mut line) {
                    Ok(0) => {
                        let counters = reducer.finish(&mut out);
                        let _ = output.write_all(&out);
                        break Ok(counters);
                    }
                    Ok(_) => {
                        let raw = line.strip_suffix(b"\n").unwrap_or(&line);
                        if let Err(e) = reducer.push_line(raw, &mut out) {
                            break Err(e.to_string());
                        }
                        if output.write_all(&out).is_err() {
                            break Err("cannot write".into());
                        }
                        out.clear();
                    }
                    Err(e) => break Err(e.to_string()),
                }
            }
        }
        _ => Err("usage: native_stream map|reduce".into()),
    };
    let _ = output.flush();
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
