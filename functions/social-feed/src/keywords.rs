//! The keywords a listener keeps tweets for, and which of them a text
//! mentions. A keyword is one word or a phrase; it matches whole words,
//! case-insensitively, with `#hashtags` and `@mentions` counting as the word
//! they spell (`#Rust` mentions `rust`, `rusty` does not).

/// Most keywords one listener tracks.
pub const MAX_KEYWORDS: usize = 64;
/// Longest keyword, in bytes.
pub const MAX_KEYWORD_BYTES: usize = 64;

/// Why a keyword list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeywordsError {
    /// Nothing to match.
    #[error("no keywords: set the variable to a comma-separated list such as `rust,wasm`")]
    Empty,
    /// Too many.
    #[error("{0} keywords; at most {MAX_KEYWORDS}")]
    TooMany(usize),
    /// One too long, or with no word in it.
    #[error(
        "keyword `{0}` must hold a word (letters or digits) and be at most {MAX_KEYWORD_BYTES} bytes"
    )]
    Invalid(String),
}

/// A parsed keyword list, in the order given, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keywords {
    /// Each keyword's normalized form (its words, lower-case, single spaces)
    /// and those words.
    entries: Vec<(String, Vec<String>)>,
}

impl Keywords {
    /// Parses a comma-separated list (`rust, WebAssembly, spin up`).
    pub fn parse(list: &str) -> Result<Self, KeywordsError> {
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        for raw in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            let words = words(raw);
            if words.is_empty() || raw.len() > MAX_KEYWORD_BYTES {
                return Err(KeywordsError::Invalid(raw.chars().take(80).collect()));
            }
            let name = words.join(" ");
            if !entries.iter().any(|(n, _)| *n == name) {
                entries.push((name, words));
            }
        }
        match entries.len() {
            0 => Err(KeywordsError::Empty),
            n if n > MAX_KEYWORDS => Err(KeywordsError::TooMany(n)),
            _ => Ok(Self { entries }),
        }
    }

    /// The keywords' normalized names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// The keywords `text` mentions, in the list's order.
    pub fn matches(&self, text: &str) -> Vec<String> {
        let words = words(text);
        self.entries
            .iter()
            .filter(|(_, phrase)| words.windows(phrase.len()).any(|w| w == phrase.as_slice()))
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// The words of `text`: runs of letters and digits, lower-cased.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_phrases_and_hashtags() {
        let k = Keywords::parse(" Rust, wasm ,spin up,rust").expect("keywords");
        assert_eq!(k.names().collect::<Vec<_>>(), ["rust", "wasm", "spin up"]);
        assert_eq!(k.matches("I love #Rust and WASM!"), ["rust", "wasm"]);
        assert_eq!(k.matches("rusty trustworthy"), Vec::<String>::new());
        assert_eq!(k.matches("just `spin  up` it"), ["spin up"]);
        assert_eq!(k.matches("spin, up!"), ["spin up"]);
        assert_eq!(k.matches("spin then up"), Vec::<String>::new());
        assert_eq!(k.matches("up spin"), Vec::<String>::new());
    }

    #[test]
    fn refuses_empty_long_and_too_many() {
        assert_eq!(Keywords::parse(" , ,"), Err(KeywordsError::Empty));
        assert!(matches!(
            Keywords::parse("rust,#!"),
            Err(KeywordsError::Invalid(_))
        ));
        assert!(matches!(
            Keywords::parse(&"x".repeat(65)),
            Err(KeywordsError::Invalid(_))
        ));
        let many: Vec<String> = (0..65).map(|i| format!("k{i}")).collect();
        assert_eq!(
            Keywords::parse(&many.join(",")),
            Err(KeywordsError::TooMany(65))
        );
    }
}
