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

/// The entry of a lower-cased word, if VADER knows it. Inlined into the
/// tokenizer: out of line, a sixth of the component's samples sat on the
/// return from this call.
#[inline(always)]
pub fn word(lower: &[u8]) -> Option<&'static Entry> {
    probe(&WORD_SLOTS, WORD_BITS, lower, |i| {
        same_bytes(WORDS[i].0.as_bytes(), lower)
    })
    .map(|i| &WORDS[i].1)
}

/// `a == b` in a few integer comparisons. In wasm32 a slice comparison
/// calls `memcmp`, which compares one byte per step there.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let u32_at = |s: &[u8], i: usize| u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
    let u64_at = |s: &[u8], i: usize| u64::from(u32_at(s, i)) | (u64::from(u32_at(s, i + 4)) << 32);
    if n >= 8 {
        // Eight bytes per step, the last step overlapping the one before.
        (0..n - 8).step_by(8).all(|i| u64_at(a, i) == u64_at(b, i))
            && u64_at(a, n - 8) == u64_at(b, n - 8)
    } else if n >= 4 {
        u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
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
            assert_eq!(word(w.as_bytes()), Some(entry), "{w:?}");
        }
        for absent in ["", "zzzz", "goodd", "GOOD", "n't"] {
            assert_eq!(word(absent.as_bytes()), None, "{absent:?}");
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

    #[test]
    fn same_bytes_is_slice_equality() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnopq",
        ];
        for x in words {
            for y in words {
                assert_eq!(
                    same_bytes(x.as_bytes(), y.as_bytes()),
                    x == y,
                    "{x:?} {y:?}"
                );
            }
            // Same length, one byte different at each position.
            for i in 0..x.len() {
                let mut z = x.as_bytes().to_vec();
                z[i] ^= 1;
                assert!(!same_bytes(x.as_bytes(), &z), "{x:?} at {i}");
            }
        }
    }
}
