//! VADER's lexicons as static tables built by `build.rs`: looking a word up
//! costs one hash and usually one comparison, and loading costs nothing (a
//! fresh instance per request would otherwise parse 11,000 lines first).

use crate::lexicon_hash::{hash, slot};
pub use crate::rule_words::Keyword;

/// What the lexicon and the rule lists say of a word: one lookup per word.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Entry {
    /// Lexicon valence.
    pub valence: Option<f64>,
    /// Booster or dampener increment.
    pub boost: Option<f64>,
    /// In `NEGATE`.
    pub negation: bool,
    /// Part of an idiom or multi-word booster.
    pub idiom: bool,
    /// The rule keyword the word is, if any.
    pub keyword: Keyword,
}

/// The entry of a word VADER does not know.
pub static UNKNOWN: Entry = Entry {
    valence: None,
    boost: None,
    negation: false,
    idiom: false,
    keyword: Keyword::None,
};

include!(concat!(env!("OUT_DIR"), "/lexicon_table.rs"));

/// Probes `slots` (of `1 << bits`) for the index whose key `is_key` accepts.
fn probe(slots: &[u16], bits: u32, key: &[u8], is_key: impl Fn(usize) -> bool) -> Option<usize> {
    let mask = (1 << bits) - 1;
    let mut at = slot(hash(key), bits);
    loop {
        let index = slots[at];
        if index == u16::MAX {
            return None;
        }
        if is_key(usize::from(index)) {
            return Some(usize::from(index));
        }
        at = (at + 1) & mask;
    }
}

/// The entry of a lower-cased word, if VADER knows it.
pub fn word(lower: &str) -> Option<&'static Entry> {
    probe(&WORD_SLOTS, WORD_BITS, lower.as_bytes(), |i| {
        WORDS[i].0 == lower
    })
    .map(|i| &WORDS[i].1)
}

/// The description of an emoji code point, if it has one.
pub fn emoji(c: char) -> Option<&'static str> {
    let mut utf8 = [0u8; 4];
    let key = c.encode_utf8(&mut utf8).as_bytes();
    probe(&EMOJI_SLOTS, EMOJI_BITS, key, |i| EMOJI[i].0 == c).map(|i| EMOJI[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule_words::{BOOSTERS, IDIOM_WORDS, KEYWORDS, NEGATE};
    use std::collections::HashMap;

    fn py_strip(s: &str) -> &str {
        s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
    }

    /// The tables hold exactly what parsing the reference files at run time gives.
    #[test]
    fn tables_equal_the_parsed_lexicons() {
        let mut words: HashMap<String, Entry> = HashMap::new();
        for line in include_str!("../data/vader_lexicon.txt").lines() {
            let mut fields = py_strip(line).split('\t');
            if let (Some(w), Some(m)) = (fields.next(), fields.next())
                && let Ok(m) = m.parse::<f64>()
            {
                words.entry(w.to_owned()).or_default().valence = Some(m);
            }
        }
        for &(w, b) in BOOSTERS {
            words.entry(w.to_owned()).or_default().boost = Some(b);
        }
        for &w in NEGATE {
            words.entry(w.to_owned()).or_default().negation = true;
        }
        for &w in IDIOM_WORDS {
            words.entry(w.to_owned()).or_default().idiom = true;
        }
        for &(k, w) in KEYWORDS {
            words.entry(w.to_owned()).or_default().keyword = k;
        }
        assert_eq!(WORDS.len(), words.len());
        for (w, entry) in &words {
            assert_eq!(word(w), Some(entry), "{w:?}");
        }
        for absent in ["", "zzzz", "goodd", "GOOD", "n't"] {
            assert_eq!(word(absent), None, "{absent:?}");
        }

        let mut emojis: HashMap<char, &str> = HashMap::new();
        for line in include_str!("../data/emoji_utf8_lexicon.txt").lines() {
            let mut fields = py_strip(line).split('\t');
            if let (Some(k), Some(d)) = (fields.next(), fields.next()) {
                let mut chars = k.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    emojis.insert(c, d);
                }
            }
        }
        assert_eq!(EMOJI.len(), emojis.len());
        for (&c, &description) in &emojis {
            assert_eq!(emoji(c), Some(description), "{c:?}");
        }
        assert_eq!(emoji('a'), None);
        assert_eq!(emoji('é'), None);
    }
}
