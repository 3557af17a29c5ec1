//! Builds the lexicon tables at compile time (`$OUT_DIR/lexicon_table.rs`),
//! so a fresh instance scores its first text without parsing 11,000 lines:
//! every word VADER knows (lexicon valence, booster, negation, idiom, rule
//! keyword) and every single-code-point emoji, each in an open-addressing
//! table hashed by `src/lexicon_hash.rs`.

#[allow(dead_code)]
#[path = "src/lexicon_hash.rs"]
mod lexicon_hash;
#[allow(dead_code)]
#[path = "src/rule_words.rs"]
mod rule_words;

use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Default)]
struct Entry {
    valence: Option<f64>,
    boost: Option<f64>,
    negation: bool,
    idiom: bool,
    keyword: rule_words::Keyword,
}

/// Python's `str.strip()`: Unicode White_Space and U+001C..U+001F.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Slots (indices into the keys, `u16::MAX` for empty) for `keys`, linear probing.
fn slots(keys: &[&[u8]], bits: u32) -> Vec<u16> {
    assert!(keys.len() * 2 <= 1 << bits, "table over half full");
    let mut slots = vec![u16::MAX; 1 << bits];
    for (i, key) in keys.iter().enumerate() {
        let mut at = lexicon_hash::slot(lexicon_hash::hash(key), bits);
        while slots[at] != u16::MAX {
            at = (at + 1) & ((1 << bits) - 1);
        }
        slots[at] = u16::try_from(i).expect("under 65,535 keys");
    }
    slots
}

fn option(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("Some(f64::from_bits({:#x}))", v.to_bits()),
        None => "None".into(),
    }
}

fn main() {
    println!("cargo::rerun-if-changed=data/vader_lexicon.txt");
    println!("cargo::rerun-if-changed=data/emoji_utf8_lexicon.txt");
    println!("cargo::rerun-if-changed=src/lexicon_hash.rs");
    println!("cargo::rerun-if-changed=src/rule_words.rs");

    let mut words: BTreeMap<String, Entry> = BTreeMap::new();
    let lexicon = std::fs::read_to_string("data/vader_lexicon.txt").expect("vader_lexicon.txt");
    for line in lexicon.trim_end_matches('\n').split('\n') {
        let mut fields = py_strip(line).split('\t');
        if let (Some(word), Some(measure)) = (fields.next(), fields.next())
            && let Ok(measure) = measure.parse::<f64>()
        {
            words.entry(word.to_owned()).or_default().valence = Some(measure);
        }
    }
    for &(word, boost) in rule_words::BOOSTERS {
        words.entry(word.to_owned()).or_default().boost = Some(boost);
    }
    for &word in rule_words::NEGATE {
        words.entry(word.to_owned()).or_default().negation = true;
    }
    for &word in rule_words::IDIOM_WORDS {
        words.entry(word.to_owned()).or_default().idiom = true;
    }
    for &(keyword, word) in rule_words::KEYWORDS {
        words.entry(word.to_owned()).or_default().keyword = keyword;
    }

    // The reference walks the text one code point at a time, so only
    // single-code-point keys can ever match; a later line wins, as in a dict.
    let mut emoji: BTreeMap<char, String> = BTreeMap::new();
    let emoji_lexicon =
        std::fs::read_to_string("data/emoji_utf8_lexicon.txt").expect("emoji_utf8_lexicon.txt");
    for line in emoji_lexicon.trim_end_matches('\n').split('\n') {
        let mut fields = py_strip(line).split('\t');
        if let (Some(key), Some(description)) = (fields.next(), fields.next()) {
            let mut chars = key.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                emoji.insert(c, description.to_owned());
            }
        }
    }

    let source = table_source(&words, &emoji).expect("formatting into a String");
    let path =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("lexicon_table.rs");
    std::fs::write(path, source).expect("write lexicon_table.rs");
}

/// The Rust source of the tables.
fn table_source(
    words: &BTreeMap<String, Entry>,
    emoji: &BTreeMap<char, String>,
) -> Result<String, std::fmt::Error> {
    const WORD_BITS: u32 = 15;
    const EMOJI_BITS: u32 = 13;
    let mut out = String::new();
    writeln!(
        out,
        "/// `log2` of the slots of [`WORD_SLOTS`].\nconst WORD_BITS: u32 = {WORD_BITS};"
    )?;
    writeln!(
        out,
        "/// Every word the lexicon or a rule list knows.\nstatic WORDS: [(&str, Entry); {}] = [",
        words.len()
    )?;
    for (word, e) in words {
        writeln!(
            out,
            "    ({word:?}, Entry {{ valence: {}, boost: {}, negation: {}, idiom: {}, keyword: Keyword::{:?} }}),",
            option(e.valence),
            option(e.boost),
            e.negation,
            e.idiom,
            e.keyword
        )?;
    }
    writeln!(out, "];")?;
    let keys: Vec<&[u8]> = words.keys().map(|k| k.as_bytes()).collect();
    writeln!(
        out,
        "/// Indices into [`WORDS`] by hash; `u16::MAX` is empty.\nstatic WORD_SLOTS: [u16; {}] = {:?};",
        1 << WORD_BITS,
        slots(&keys, WORD_BITS)
    )?;

    writeln!(
        out,
        "/// `log2` of the slots of [`EMOJI_SLOTS`].\nconst EMOJI_BITS: u32 = {EMOJI_BITS};"
    )?;
    writeln!(
        out,
        "/// Every single-code-point emoji with its description.\nstatic EMOJI: [(char, &str); {}] = [",
        emoji.len()
    )?;
    for (c, description) in emoji {
        writeln!(out, "    ({c:?}, {description:?}),")?;
    }
    writeln!(out, "];")?;
    let encoded: Vec<String> = emoji.keys().map(|c| c.to_string()).collect();
    let keys: Vec<&[u8]> = encoded.iter().map(|k| k.as_bytes()).collect();
    writeln!(
        out,
        "/// Indices into [`EMOJI`] by hash of the UTF-8 bytes; `u16::MAX` is empty.\nstatic EMOJI_SLOTS: [u16; {}] = {:?};",
        1 << EMOJI_BITS,
        slots(&keys, EMOJI_BITS)
    )?;

    Ok(out)
}
