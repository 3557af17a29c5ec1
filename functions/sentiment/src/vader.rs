//! VADER (Hutto & Gilbert, ICWSM-14), a line-by-line port of vaderSentiment
//! 3.3.2's `polarity_scores`, built for speed: one pass to split words,
//! lower-casing only when a word has capitals, FxHash lookups, no string
//! joins for n-grams. Quirks of the reference are kept on purpose, because
//! parity is the contract: `_but_check` finds each value's *first* equal
//! element, `_negation_check` keeps Python's `and`/`or` precedence, emoji are
//! replaced one code point at a time, and the valence sum follows the chosen
//! Python ([`PythonSum`]: CPython 3.11, which generated the parity corpus,
//! folds plainly; 3.12+ compensates). The lexicons in
//! `data/` are the reference's own files (MIT licence).

use crate::lexicon;
use crate::rule_words::B_DECR;
use std::borrow::Cow;

const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

/// The reference's SPECIAL_CASES as word sequences. Its `"badass"` entry is
/// left out: the reference only looks up joined sequences of two or three
/// words, which a single word can never equal.
const SPECIAL_CASES: &[(&[&str], f64)] = &[
    (&["the", "shit"], 3.0),
    (&["the", "bomb"], 3.0),
    (&["bad", "ass"], 1.5),
    (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0),
    (&["kiss", "of", "death"], -1.5),
    (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
];

/// The multi-word entries of [`BOOSTERS`], as word pairs.
const MULTIWORD_BOOSTERS: &[([&str; 2], f64)] = &[
    (["just", "enough"], B_DECR),
    (["kind", "of"], B_DECR),
    (["sort", "of"], B_DECR),
];

/// The special case a word sequence makes, if any.
fn special_case(sequence: &[&str]) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(words, _)| *words == sequence)
        .map(|&(_, valence)| valence)
}

/// The four numbers, rounded as the reference rounds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarity {
    /// Negative proportion (3 decimals).
    pub neg: f64,
    /// Neutral proportion (3 decimals).
    pub neu: f64,
    /// Positive proportion (3 decimals).
    pub pos: f64,
    /// Compound score (4 decimals).
    pub compound: f64,
}

/// How Python's `sum()` adds the word valences: the one place where the
/// reference's result depends on the interpreter version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PythonSum {
    /// A plain left fold, as CPython up to 3.11 (which generated the parity corpus).
    #[default]
    Plain,
    /// Neumaier-compensated, as CPython 3.12 and later sum floats.
    Compensated,
}

impl PythonSum {
    fn sum(self, values: &[f64]) -> f64 {
        match self {
            PythonSum::Plain => values.iter().fold(0.0, |acc, v| acc + v),
            PythonSum::Compensated => {
                let (mut sum, mut c) = (0.0f64, 0.0f64);
                for &x in values {
                    let t = sum + x;
                    if sum.abs() >= x.abs() {
                        c += (sum - t) + x;
                    } else {
                        c += (x - t) + sum;
                    }
                    sum = t;
                }
                if c != 0.0 && c.is_finite() {
                    sum + c
                } else {
                    sum
                }
            }
        }
    }
}

/// The scorer; the lexicons are static tables ([`lexicon`]).
pub struct Vader {
    sum: PythonSum,
}

impl Default for Vader {
    fn default() -> Self {
        Self::new()
    }
}

/// One word of the text: lower-cased, and what the lexicons say of it.
struct Word<'a> {
    lower: Cow<'a, str>,
    valence: Option<f64>,
    upper: bool,
    /// Booster or dampener increment, when the word is one.
    boost: Option<f64>,
    /// `negated([word])`: in NEGATE, or containing "n't".
    negation: bool,
    /// Part of an idiom or multi-word booster.
    idiom: bool,
}

impl Vader {
    /// A scorer summing as CPython 3.11.
    pub fn new() -> Self {
        Self::with_sum(PythonSum::Plain)
    }

    /// A scorer summing valences as the given Python would.
    pub fn with_sum(sum: PythonSum) -> Self {
        Self { sum }
    }

    /// `SentimentIntensityAnalyzer.polarity_scores`.
    pub fn polarity_scores(&self, text: &str) -> Polarity {
        let text = self.replace_emoji(text);
        let text = py_strip(&text);
        let mut words: Vec<Word<'_>> = Vec::with_capacity(text.len() / 4 + 1);
        // ASCII text (most tweets): one byte-level pass lower-cases every
        // word into one buffer, so no word allocates.
        let lowered;
        if text.is_ascii() {
            let spans;
            (lowered, spans) = lower_ascii_words(text.as_bytes());
            for &(start, end, upper) in &spans {
                words.push(self.entry_word(Cow::Borrowed(&lowered[start..end]), upper));
            }
        } else {
            for token in text.split(py_isspace).filter(|w| !w.is_empty()) {
                words.push(self.word(token));
            }
        }
        let allcaps = words.iter().filter(|w| w.upper).count();
        let is_cap_diff = allcaps > 0 && allcaps < words.len();

        let mut sentiments: Vec<f64> = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            if word.boost.is_some()
                || (word.lower == "kind" && words.get(i + 1).is_some_and(|n| n.lower == "of"))
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.sentiment_valence(&words, i, is_cap_diff));
        }
        but_check(&words, &mut sentiments);
        score_valence(&sentiments, self.sum.sum(&sentiments), text)
    }

    /// One token of the split text, as `SentiText` and the lexicon see it.
    fn word<'t>(&self, token: &'t str) -> Word<'t> {
        let raw = strip_punc_if_word(token);
        let (lower, upper) = lower_and_isupper(raw);
        self.entry_word(lower, upper)
    }

    /// A word from its lower-cased form: one lookup for lexicon and rule lists.
    fn entry_word<'t>(&self, lower: Cow<'t, str>, upper: bool) -> Word<'t> {
        let entry = lexicon::word(&lower).copied().unwrap_or_default();
        let negation = entry.negation || lower.as_bytes().windows(3).any(|w| w == b"n't");
        Word {
            lower,
            valence: entry.valence,
            upper,
            boost: entry.boost,
            negation,
            idiom: entry.idiom,
        }
    }

    /// Replaces each emoji code point by its description, as the reference's
    /// character loop does, copying the text between emoji in bulk.
    fn replace_emoji<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if text.is_ascii() {
            return Cow::Borrowed(text);
        }
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut after_emoji = false;
        for (i, c) in text.char_indices() {
            if c.is_ascii() {
                after_emoji = false;
                continue;
            }
            let Some(description) = lexicon::emoji(c) else {
                after_emoji = false;
                continue;
            };
            let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
            out.push_str(&text[copied..i]);
            // `prev_space`: true at the start and after a space, false after an emoji.
            let prev_space = !after_emoji && (i == 0 || text.as_bytes()[i - 1] == b' ');
            if !prev_space {
                out.push(' ');
            }
            out.push_str(description);
            copied = i + c.len_utf8();
            after_emoji = true;
        }
        match out {
            Some(mut out) => {
                out.push_str(&text[copied..]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(text),
        }
    }

    fn sentiment_valence(&self, words: &[Word<'_>], i: usize, is_cap_diff: bool) -> f64 {
        let word = &words[i];
        let Some(base) = word.valence else {
            return 0.0;
        };
        let lower = |k: usize| words[k].lower.as_ref();
        let mut valence = base;
        if word.lower == "no" && i != words.len() - 1 && words[i + 1].valence.is_some() {
            valence = 0.0;
        }
        if (i > 0 && lower(i - 1) == "no")
            || (i > 1 && lower(i - 2) == "no")
            || (i > 2 && lower(i - 3) == "no" && matches!(lower(i - 1), "or" | "nor"))
        {
            valence = base * N_SCALAR;
        }
        if word.upper && is_cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start_i in 0..3 {
            if i > start_i && words[i - (start_i + 1)].valence.is_none() {
                let mut s = scalar_inc_dec(&words[i - (start_i + 1)], valence, is_cap_diff);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = self.negation_check(valence, words, start_i, i);
                if start_i == 2 {
                    valence = self.special_idioms_check(valence, words, i);
                }
            }
        }
        least_check(valence, words, i)
    }

    fn negation_check(&self, valence: f64, words: &[Word<'_>], start_i: usize, i: usize) -> f64 {
        let lower = |k: usize| words[k].lower.as_ref();
        match start_i {
            0 if words[i - 1].negation => valence * N_SCALAR,
            1 if lower(i - 2) == "never" && matches!(lower(i - 1), "so" | "this") => valence * 1.25,
            1 if lower(i - 2) == "without" && lower(i - 1) == "doubt" => valence,
            1 if words[i - 2].negation => valence * N_SCALAR,
            // Python: `a and (b or c) or (d or e)`.
            2 if (lower(i - 3) == "never" && matches!(lower(i - 2), "so" | "this"))
                || matches!(lower(i - 1), "so" | "this") =>
            {
                valence * 1.25
            }
            2 if lower(i - 3) == "without"
                && (lower(i - 2) == "doubt" || lower(i - 1) == "doubt") =>
            {
                valence
            }
            2 if words[i - 3].negation => valence * N_SCALAR,
            _ => valence,
        }
    }

    fn special_idioms_check(&self, mut valence: f64, words: &[Word<'_>], i: usize) -> f64 {
        let lower = |k: usize| words[k].lower.as_ref();
        // Every idiom and multi-word booster is made of these words: skip the
        // string building when none of the six words around `i` is one.
        let window = (i - 3)..(i + 3).min(words.len());
        if !words[window].iter().any(|w| w.idiom) {
            return valence;
        }
        let sequences: [&[&str]; 5] = [
            &[lower(i - 1), lower(i)],
            &[lower(i - 2), lower(i - 1), lower(i)],
            &[lower(i - 2), lower(i - 1)],
            &[lower(i - 3), lower(i - 2), lower(i - 1)],
            &[lower(i - 3), lower(i - 2)],
        ];
        if let Some(v) = sequences.iter().find_map(|seq| special_case(seq)) {
            valence = v;
        }
        if words.len() - 1 > i
            && let Some(v) = special_case(&[lower(i), lower(i + 1)])
        {
            valence = v;
        }
        if words.len() - 1 > i + 1
            && let Some(v) = special_case(&[lower(i), lower(i + 1), lower(i + 2)])
        {
            valence = v;
        }
        // The reference also looks the three words before up in BOOSTER_DICT,
        // but no booster has three words, so only the two pairs can match.
        for pair in [[lower(i - 3), lower(i - 2)], [lower(i - 2), lower(i - 1)]] {
            if let Some(&(_, b)) = MULTIWORD_BOOSTERS.iter().find(|(words, _)| *words == pair) {
                valence += b;
            }
        }
        valence
    }
}

fn scalar_inc_dec(word: &Word<'_>, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(boost) = word.boost else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -boost } else { boost };
    if word.upper && is_cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

fn least_check(valence: f64, words: &[Word<'_>], i: usize) -> f64 {
    let lower = |k: usize| words[k].lower.as_ref();
    if i > 1 && words[i - 1].valence.is_none() && lower(i - 1) == "least" {
        if lower(i - 2) != "at" && lower(i - 2) != "very" {
            return valence * N_SCALAR;
        }
    } else if i > 0 && words[i - 1].valence.is_none() && lower(i - 1) == "least" {
        return valence * N_SCALAR;
    }
    valence
}

/// `_but_check`, including its quirk: each value is looked up by equality and
/// the *first* equal element is the one rescaled.
fn but_check(words: &[Word<'_>], sentiments: &mut [f64]) {
    let Some(bi) = words.iter().position(|w| w.lower == "but") else {
        return;
    };
    for k in 0..sentiments.len() {
        let sentiment = sentiments[k];
        let si = sentiments.iter().position(|&s| s == sentiment).unwrap_or(k);
        if si < bi {
            sentiments[si] = sentiment * 0.5;
        } else if si > bi {
            sentiments[si] = sentiment * 1.5;
        }
    }
}

fn score_valence(sentiments: &[f64], sum: f64, text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    let mut sum_s = sum;
    let ep = (text.matches('!').count().min(4)) as f64 * 0.292;
    let qm_count = text.matches('?').count();
    let qm = match qm_count {
        0 | 1 => 0.0,
        2 | 3 => qm_count as f64 * 0.18,
        _ => 0.96,
    };
    let amplifier = ep + qm;
    if sum_s > 0.0 {
        sum_s += amplifier;
    } else if sum_s < 0.0 {
        sum_s -= amplifier;
    }
    let compound = normalize(sum_s);
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amplifier;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    Polarity {
        neg: py_round((neg_sum / total).abs(), 3),
        neu: py_round((f64::from(neu_count) / total).abs(), 3),
        pos: py_round((pos_sum / total).abs(), 3),
        compound: py_round(compound, 4),
    }
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// Python's `round(x, digits)`: the correctly rounded decimal, ties to even.
///
/// Fast path: away from a tie, rounding `x * 10^digits` (off by at most an
/// ulp) decides the same way as rounding the exact value, and dividing the
/// integer result by the exact power of ten is correctly rounded, as
/// Python's `strtod` of the decimal string is. Near a tie, format exactly.
fn py_round(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits);
    let y = x * scale;
    let distance_to_tie = (y - y.trunc()).abs() - 0.5;
    if y.abs() < 1e15 && distance_to_tie.abs() > 1e-6 {
        return y.round() / scale;
    }
    let digits = digits as usize;
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// Byte classes for the ASCII tokenizer.
const SPACE: u8 = 1;
const PUNCT: u8 = 2;
const CLASSES: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f) {
            SPACE
        } else if c.is_ascii_punctuation() {
            PUNCT
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Splits ASCII `text` as `str.split()` does, applies `_strip_punc_if_word`
/// and lower-cases every word into one buffer: returns the buffer and, per
/// word, its span and whether the word `isupper()`.
fn lower_ascii_words(text: &[u8]) -> (String, Vec<(usize, usize, bool)>) {
    let class = |b: u8| CLASSES[usize::from(b & 0x7f)];
    let mut lowered = Vec::with_capacity(text.len());
    let mut spans = Vec::with_capacity(text.len() / 4 + 1);
    let mut i = 0;
    while i < text.len() {
        while i < text.len() && class(text[i]) == SPACE {
            i += 1;
        }
        let start = i;
        while i < text.len() && class(text[i]) != SPACE {
            i += 1;
        }
        if start == i {
            break;
        }
        let token = &text[start..i];
        let (mut a, mut z) = (0, token.len());
        while a < z && class(token[a]) == PUNCT {
            a += 1;
        }
        while z > a && class(token[z - 1]) == PUNCT {
            z -= 1;
        }
        let word = if z - a <= 2 { token } else { &token[a..z] };
        let (mut upper, mut lower) = (false, false);
        let begin = lowered.len();
        for &b in word {
            upper |= b.is_ascii_uppercase();
            lower |= b.is_ascii_lowercase();
            lowered.push(b.to_ascii_lowercase());
        }
        spans.push((begin, lowered.len(), upper && !lower));
    }
    // Only ASCII bytes were copied.
    (String::from_utf8(lowered).unwrap_or_default(), spans)
}

/// Python's `str.isspace` for one character: Unicode White_Space plus the
/// information separators U+001C..U+001F.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` (no arguments).
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// `_strip_punc_if_word`: strip ASCII punctuation from both ends unless that
/// leaves two characters or fewer (an emoticon such as `:)`).
fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    // A UTF-8 character takes at most 4 bytes: over 8 bytes means over 2 characters.
    if stripped.len() <= 8 && stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

/// `(s.lower(), s.isupper())` in one pass for ASCII words.
fn lower_and_isupper(s: &str) -> (Cow<'_, str>, bool) {
    if s.is_ascii() {
        let (mut upper, mut lower) = (false, false);
        for b in s.bytes() {
            upper |= b.is_ascii_uppercase();
            lower |= b.is_ascii_lowercase();
        }
        let lowered = if upper {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        };
        (lowered, upper && !lower)
    } else {
        (py_lower(s), py_isupper(s))
    }
}

/// Python's `str.lower()`, borrowing when nothing changes.
fn py_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else if s.chars().any(|c| c.is_uppercase() || is_titlecase(c)) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Python's `str.isupper()`: no lower- or title-case character, and at least one upper-case one.
fn py_isupper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// The Unicode titlecase letters (general category Lt).
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{01C5}' | '\u{01C8}' | '\u{01CB}' | '\u{01F2}'
        | '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}' | '\u{1FA8}'..='\u{1FAF}'
        | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_string_semantics() {
        assert!(
            py_isupper("GREAT!") && !py_isupper("Great") && !py_isupper("!!!") && py_isupper("ÉTÉ")
        );
        assert!(!py_isupper("ǅ"), "titlecase is not upper");
        assert_eq!(py_lower("ΣΑΣ"), "σας", "final sigma");
        assert_eq!(strip_punc_if_word(":)"), ":)");
        assert_eq!(strip_punc_if_word("(great)!"), "great");
        assert_eq!(strip_punc_if_word("'ok'"), "'ok'");
        assert_eq!(py_strip("\u{1f} x \u{3000}"), "x");
        assert_eq!(
            py_round(0.2345, 3),
            0.234,
            "0.2345 is below the tie in binary"
        );
        assert_eq!(py_round(0.0005, 3), 0.001);
    }

    #[test]
    fn but_check_rescales_the_first_equal_value() {
        // 2.0 before "but" halves to 1.0; the later 1.0 then matches it first.
        let words: Vec<Word<'_>> = ["x", "but", "y", "z"]
            .iter()
            .map(|w| Word {
                lower: Cow::Borrowed(w),
                valence: None,
                upper: false,
                boost: None,
                negation: false,
                idiom: false,
            })
            .collect();
        let mut s = [2.0, 0.0, 1.0, 3.0];
        but_check(&words, &mut s);
        assert_eq!(s, [0.5, 0.0, 1.0, 4.5]);
    }
}
