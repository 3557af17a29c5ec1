//! The Hadoop-Streaming line format, the mapper and the reducer's posting
//! parser: any bytes, line by line.
#![no_main]
use inverted_index::map::Mapper;
use inverted_index::reduce::{Reducer, parse_value};
use inverted_index::tokenize::Tokenizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut mapper = Mapper::new(Tokenizer::new());
    let mut reducer = Reducer::new();
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let _ = inverted_index::lines::parse(line);
        mapper.map_line(line, &mut out);
        let _ = reducer.push_line(line, &mut out);
        if let Ok(text) = std::str::from_utf8(line) {
            parse_value(text, |_, _| {});
        }
    }
    mapper.flush(&mut out);
    let _ = reducer.finish(&mut out);
});
