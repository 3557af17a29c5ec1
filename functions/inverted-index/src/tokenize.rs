//! Words of a document, for indexing.
//!
//! - Boundaries are Unicode word boundaries (UAX #29), so `don't` and `l'été`
//!   stay one word (an apostrophe between letters joins them; `’` counts as `'`).
//! - Hyphenated words are kept whole: `e-mail`, `state-of-the-art`. A hyphen
//!   joins two words only when it stands directly between them.
//! - Words are NFC-normalised and lower-cased with Unicode rules (`Über` →
//!   `über`; `café` is the same word whether its accent is precomposed or not).
//! - Tokens without any letter or digit are dropped (`--`, `...`, `_`).
//! - An optional stopword list removes common words after lower-casing.

use crate::word_bounds;
use unicode_normalization::UnicodeNormalization;

/// Common English words, for [`Tokenizer::with_stopwords`].
pub const ENGLISH_STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Splits text into index words.
#[derive(Debug, Clone, Default)]
pub struct Tokenizer {
    stopwords: Vec<String>,
}

impl Tokenizer {
    /// A tokenizer keeping every word.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tokenizer dropping `stopwords` (compared after lower-casing).
    pub fn with_stopwords(stopwords: &[&str]) -> Self {
        let mut stopwords: Vec<String> = stopwords.iter().map(|w| w.to_lowercase()).collect();
        stopwords.sort();
        Self { stopwords }
    }

    /// Calls `emit` with each word of `text`, in order.
    ///
    /// Boundaries come from [`word_bounds::split`], fast on ASCII text.
    pub fn words(&self, text: &str, mut emit: impl FnMut(&str)) {
        let emit = &mut emit;
        // The word being built: word segments, joined by single hyphens.
        let mut pending = String::new();
        let mut folded = String::new();
        let mut hyphen = false;
        for segment in word_bounds::split(text) {
            let ascii = segment.is_ascii();
            let is_word = if ascii {
                segment.bytes().any(|b| b.is_ascii_alphanumeric())
            } else {
                segment.chars().any(char::is_alphanumeric)
            };
            if is_word {
                if !pending.is_empty() && !hyphen {
                    self.flush(&mut pending, &mut folded, emit);
                }
                if hyphen {
                    pending.push('-');
                    hyphen = false;
                }
                if ascii {
                    pending.push_str(segment);
                } else {
                    // Curly apostrophes inside a word read as straight ones.
                    pending.extend(
                        segment
                            .chars()
                            .map(|c| if c == '\u{2019}' { '\'' } else { c }),
                    );
                }
            } else if segment.as_bytes() == [b'-'] && !pending.is_empty() && !hyphen {
                hyphen = true;
            } else {
                hyphen = false;
                self.flush(&mut pending, &mut folded, emit);
            }
        }
        self.flush(&mut pending, &mut folded, emit);
    }

    /// Emits the word in `pending` (normalised, lower-cased, unless a stopword) and empties it.
    fn flush(&self, pending: &mut String, folded: &mut String, emit: &mut impl FnMut(&str)) {
        if pending.is_empty() {
            return;
        }
        // ASCII is already NFC, and its Unicode lower case is its ASCII one.
        let word = if pending.is_ascii() {
            pending.make_ascii_lowercase();
            pending.as_str()
        } else {
            folded.clear();
            folded.extend(pending.nfc());
            *folded = folded.to_lowercase();
            folded.as_str()
        };
        if word.chars().any(char::is_alphanumeric)
            && self
                .stopwords
                .binary_search_by(|s| s.as_str().cmp(word))
                .is_err()
        {
            emit(word);
        }
        pending.clear();
    }

    /// The words of `text`, collected.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.words(text, |w| out.push(w.to_owned()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_cases() {
        let t = Tokenizer::new();
        assert_eq!(t.tokenize("Don't panic!"), ["don't", "panic"]);
        assert_eq!(t.tokenize("don’t"), ["don't"]);
        assert_eq!(
            t.tokenize("Send an e-mail, state-of-the-art."),
            ["send", "an", "e-mail", "state-of-the-art"]
        );
        assert_eq!(t.tokenize("a - b -- c-"), ["a", "b", "c"]);
        assert_eq!(
            t.tokenize("Über café CAFE\u{0301}"),
            ["über", "café", "café"]
        );
        assert_eq!(t.tokenize("... -- _ 42 3.14"), ["42", "3.14"]);
        assert_eq!(
            t.tokenize("東京タワー and Москва"),
            ["東", "京", "タワー", "and", "москва"]
        );
        assert_eq!(t.tokenize(""), Vec::<String>::new());
    }

    #[test]
    fn stopwords_are_dropped_after_lowercasing() {
        let t = Tokenizer::with_stopwords(ENGLISH_STOPWORDS);
        assert_eq!(t.tokenize("The cat AND the Hat"), ["cat", "hat"]);
    }
}
