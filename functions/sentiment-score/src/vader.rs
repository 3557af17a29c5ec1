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

use crate::lexicon::{self, Entry, Keyword};
use crate::rule_words::B_DECR;
use serde::Serialize;
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

/// The multi-word entries of [`BOOSTERS`](crate::rule_words::BOOSTERS), as word pairs.
const MULTIWORD_BOOSTERS: &[([&str; 2], f64)] = &[
    (["just", "enough"], B_DECR),
    (["kind", "of"], B_DECR),
    (["sort", "of"], B_DECR),
];

/// The special case a word sequence makes, if any.
fn special_case(sequence: &[&[u8]]) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(words, _)| {
            words
                .iter()
                .map(|w| w.as_bytes())
                .eq(sequence.iter().copied())
        })
        .map(|&(_, valence)| valence)
}

/// VADER's four numbers for one text, rounded as the reference rounds them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Negative proportion (3 decimals).
    pub neg: f64,
    /// Neutral proportion (3 decimals).
    pub neu: f64,
    /// Positive proportion (3 decimals).
    pub pos: f64,
    /// Normalised compound score in [-1, 1] (4 decimals).
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

/// `sum()` of floats as CPython 3.12+ computes it: Neumaier-compensated.
/// (The plain left fold of 3.11 and before is summed in [`score_valence`]'s
/// pass over the valences.)
fn compensated_sum(values: &[f64]) -> f64 {
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

/// The scorer; the lexicons are static tables ([`lexicon`]). It keeps its
/// working buffers between texts, so scoring a batch allocates once, not
/// four times per text.
#[derive(Default)]
pub struct Vader {
    sum: PythonSum,
    /// The text being scored, ASCII-lower-cased, then the words whose
    /// Python lower-casing differs from that ([`split_words`]).
    lowered: Vec<u8>,
    /// Its words, as spans of `lowered`.
    words: Vec<Word>,
    /// One valence per word.
    sentiments: Vec<f64>,
}

/// One word of the text: its span in the lower-cased buffer, and what the
/// lexicons say of it.
#[derive(Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    entry: &'static Entry,
    upper: bool,
    /// `negated([word])`: in NEGATE, or containing "n't".
    negation: bool,
}

impl Word {
    fn valence(&self) -> Option<f64> {
        self.entry.valence
    }

    fn is(&self, keyword: Keyword) -> bool {
        self.entry.keyword == keyword
    }
}

impl Vader {
    /// A scorer summing as CPython 3.11.
    pub fn new() -> Self {
        Self::with_sum(PythonSum::Plain)
    }

    /// A scorer summing valences as the given Python would.
    pub fn with_sum(sum: PythonSum) -> Self {
        Self {
            sum,
            ..Self::default()
        }
    }

    /// `SentimentIntensityAnalyzer.polarity_scores`.
    pub fn polarity_scores(&mut self, text: &str) -> Scores {
        // ASCII text (most tweets) has no emoji to replace.
        let ascii = is_ascii(text.as_bytes());
        let text = if ascii {
            Cow::Borrowed(text)
        } else {
            replace_emoji(text)
        };
        let text = py_strip(&text);
        let (lowered, words, sentiments) =
            (&mut self.lowered, &mut self.words, &mut self.sentiments);
        let allcaps = split_words(text, lowered, words);
        let is_cap_diff = allcaps > 0 && allcaps < words.len();

        sentiments.clear();
        let mut but = None;
        for (i, word) in words.iter().enumerate() {
            if but.is_none() && word.is(Keyword::But) {
                but = Some(i);
            }
            let kind_of =
                word.is(Keyword::Kind) && words.get(i + 1).is_some_and(|n| n.is(Keyword::Of));
            let valence = if word.valence().is_none() || word.entry.boost.is_some() || kind_of {
                0.0
            } else {
                sentiment_valence(lowered, words, i, is_cap_diff)
            };
            sentiments.push(valence);
        }
        if let Some(but) = but {
            but_check(but, sentiments);
        }
        score_valence(sentiments, self.sum, text)
    }
}

/// Replaces each emoji code point by its description, as the reference's
/// character loop does, copying the text between emoji in bulk. (The caller
/// skips ASCII text, which has none.)
fn replace_emoji<'t>(text: &'t str) -> Cow<'t, str> {
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

fn sentiment_valence(lowered: &[u8], words: &[Word], i: usize, is_cap_diff: bool) -> f64 {
    let word = &words[i];
    let Some(base) = word.valence() else {
        return 0.0;
    };
    let is = |k: usize, keyword: Keyword| words[k].is(keyword);
    let mut valence = base;
    if word.is(Keyword::No) && i != words.len() - 1 && words[i + 1].valence().is_some() {
        valence = 0.0;
    }
    if (i > 0 && is(i - 1, Keyword::No))
        || (i > 1 && is(i - 2, Keyword::No))
        || (i > 2 && is(i - 3, Keyword::No) && (is(i - 1, Keyword::Or) || is(i - 1, Keyword::Nor)))
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
        if i > start_i && words[i - (start_i + 1)].valence().is_none() {
            let mut s = scalar_inc_dec(&words[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, words, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, lowered, words, i);
            }
        }
    }
    least_check(valence, words, i)
}

fn negation_check(valence: f64, words: &[Word], start_i: usize, i: usize) -> f64 {
    let is = |k: usize, keyword: Keyword| words[k].is(keyword);
    let so_or_this = |k: usize| is(k, Keyword::So) || is(k, Keyword::This);
    match start_i {
        0 if words[i - 1].negation => valence * N_SCALAR,
        1 if is(i - 2, Keyword::Never) && so_or_this(i - 1) => valence * 1.25,
        1 if is(i - 2, Keyword::Without) && is(i - 1, Keyword::Doubt) => valence,
        1 if words[i - 2].negation => valence * N_SCALAR,
        // Python: `a and (b or c) or (d or e)`.
        2 if (is(i - 3, Keyword::Never) && so_or_this(i - 2)) || so_or_this(i - 1) => {
            valence * 1.25
        }
        2 if is(i - 3, Keyword::Without)
            && (is(i - 2, Keyword::Doubt) || is(i - 1, Keyword::Doubt)) =>
        {
            valence
        }
        2 if words[i - 3].negation => valence * N_SCALAR,
        _ => valence,
    }
}

fn special_idioms_check(mut valence: f64, lowered: &[u8], words: &[Word], i: usize) -> f64 {
    let lower = |k: usize| &lowered[words[k].start..words[k].end];
    // Every idiom and multi-word booster is made of these words: skip the
    // string building when none of the six words around `i` is one.
    let window = (i - 3)..(i + 3).min(words.len());
    if !words[window].iter().any(|w| w.entry.idiom) {
        return valence;
    }
    let sequences: [&[&[u8]]; 5] = [
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
        if let Some(&(_, b)) = MULTIWORD_BOOSTERS
            .iter()
            .find(|(words, _)| words[0].as_bytes() == pair[0] && words[1].as_bytes() == pair[1])
        {
            valence += b;
        }
    }
    valence
}

fn scalar_inc_dec(word: &Word, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(boost) = word.entry.boost else {
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

fn least_check(valence: f64, words: &[Word], i: usize) -> f64 {
    let is = |k: usize, keyword: Keyword| words[k].is(keyword);
    if i > 1 && words[i - 1].valence().is_none() && is(i - 1, Keyword::Least) {
        if !is(i - 2, Keyword::At) && !is(i - 2, Keyword::Very) {
            return valence * N_SCALAR;
        }
    } else if i > 0 && words[i - 1].valence().is_none() && is(i - 1, Keyword::Least) {
        return valence * N_SCALAR;
    }
    valence
}

/// `_but_check`, including its quirk: each value is looked up by equality and
/// the *first* equal element is the one rescaled.
fn but_check(bi: usize, sentiments: &mut [f64]) {
    for k in 0..sentiments.len() {
        let sentiment = sentiments[k];
        // Most words have no valence. Rescaling a zero leaves a zero (at most
        // the sign of some zero changes, which no result depends on: zeros
        // count as neutral and the sum starts from +0.0), so skip the search.
        if sentiment == 0.0 {
            continue;
        }
        let si = sentiments.iter().position(|&s| s == sentiment).unwrap_or(k);
        if si < bi {
            sentiments[si] = sentiment * 0.5;
        } else if si > bi {
            sentiments[si] = sentiment * 1.5;
        }
    }
}

fn score_valence(sentiments: &[f64], sum: PythonSum, text: &str) -> Scores {
    if sentiments.is_empty() {
        return Scores {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    let (mut plain_sum, mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0.0, 0u32);
    for &s in sentiments {
        plain_sum += s;
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
    let mut sum_s = match sum {
        PythonSum::Plain => plain_sum,
        PythonSum::Compensated => compensated_sum(sentiments),
    };
    let (exclamations, qm_count) = count_exclamations_and_questions(text.as_bytes());
    let ep = (exclamations.min(4)) as f64 * 0.292;
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
    if pos_sum > neg_sum.abs() {
        pos_sum += amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amplifier;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    Scores {
        neg: py_round((neg_sum / total).abs(), 3),
        neu: py_round((f64::from(neu_count) / total).abs(), 3),
        pos: py_round((pos_sum / total).abs(), 3),
        compound: py_round(compound, 4),
    }
}

/// The `!` and `?` in `text`, in one pass without early exits (it vectorizes).
fn count_exclamations_and_questions(text: &[u8]) -> (usize, usize) {
    text.iter().fold((0, 0), |(e, q), &b| {
        (e + usize::from(b == b'!'), q + usize::from(b == b'?'))
    })
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
fn py_round(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    // Exact powers of ten; `digits` is 3 or 4 here.
    const SCALES: [f64; 5] = [1.0, 10.0, 100.0, 1e3, 1e4];
    let scale = SCALES[digits];
    let y = x * scale;
    let distance_to_tie = (y - y.trunc()).abs() - 0.5;
    if y.abs() < 1e15 && distance_to_tie.abs() > 1e-6 {
        // Away from a tie every rounding mode agrees; ties-to-even is one
        // instruction in wasm (`f64.nearest`), half-away-from-zero a libm call.
        return y.round_ties_even() / scale;
    }
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// The word `lowered[start..end]`, looked up once in the lexicon and rule lists.
#[inline(always)]
fn word(lowered: &[u8], start: usize, end: usize, upper: bool, apostrophe: bool) -> Word {
    let lower = &lowered[start..end];
    let entry = lexicon::word(lower).unwrap_or(&lexicon::UNKNOWN);
    // "n't" needs an apostrophe, which the tokenizer has already looked for.
    let negation = entry.negation || (apostrophe && lower.windows(3).any(|w| w == b"n't"));
    Word {
        start,
        end,
        entry,
        upper,
        negation,
    }
}

/// `str.isascii()`, without an early exit, so it vectorizes (also to wasm SIMD128).
fn is_ascii(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |acc, &b| acc | b) < 0x80
}

/// Byte classes for the tokenizer, as bit flags.
const SPACE: u8 = 1;
const PUNCT: u8 = 2;
const UPPER: u8 = 4;
const LOWER: u8 = 8;
const APOSTROPHE: u8 = 16;
/// Any byte of a multi-byte character.
const NON_ASCII: u8 = 32;
/// A lead byte that may start a non-ASCII space: every White_Space code
/// point above U+007F (U+0085, U+00A0, U+1680, U+2000..U+205F, U+3000)
/// starts with 0xC2, 0xE1, 0xE2 or 0xE3.
const MAYBE_SPACE: u8 = 64;
const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f) {
            SPACE
        } else if c == b'\'' {
            PUNCT | APOSTROPHE
        } else if c.is_ascii_punctuation() {
            PUNCT
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_lowercase() {
            LOWER
        } else if matches!(c, 0xc2 | 0xe1 | 0xe2 | 0xe3) {
            NON_ASCII | MAYBE_SPACE
        } else if c >= 0x80 {
            NON_ASCII
        } else {
            0
        };
        b += 1;
    }
    table
};

/// The length of the space character at `text[i..]`, if it is one
/// (`py_isspace`); `i` is on a character boundary.
fn space_at(text: &str, i: usize) -> Option<usize> {
    let class = CLASSES[usize::from(text.as_bytes()[i])];
    if class & SPACE != 0 {
        return Some(1);
    }
    if class & MAYBE_SPACE == 0 {
        return None;
    }
    let c = text[i..].chars().next()?;
    py_isspace(c).then(|| c.len_utf8())
}

/// `str.split()`, `_strip_punc_if_word`, `lower()` and `isupper()` over
/// the bytes of `text`, in one pass. The whole text is ASCII-lower-cased
/// into `lowered` at once, so most words are spans of it; a word with an
/// upper-case non-ASCII character is lower-cased as Python does and
/// appended after it. Returns how many words are upper-case.
fn split_words(text: &str, lowered: &mut Vec<u8>, words: &mut Vec<Word>) -> usize {
    let bytes = text.as_bytes();
    let class = |i: usize| CLASSES[usize::from(bytes[i])];
    // Copied and lower-cased in one vectorized pass (no `memory.copy` call).
    lowered.clear();
    lowered.extend(bytes.iter().map(u8::to_ascii_lowercase));
    words.clear();
    let mut upper_words = 0;
    let mut i = 0;
    while i < bytes.len() {
        if class(i) & (SPACE | MAYBE_SPACE) != 0
            && let Some(len) = space_at(text, i)
        {
            i += len;
            continue;
        }
        let token = i;
        let mut flags = 0;
        while i < bytes.len() {
            let c = class(i);
            if c & (SPACE | MAYBE_SPACE) != 0 && space_at(text, i).is_some() {
                break;
            }
            flags |= c;
            i += 1;
        }
        let (mut start, mut end) = (token, i);
        if flags & PUNCT != 0 {
            // ASCII punctuation is one byte that no multi-byte character
            // contains, so trimming bytes trims characters.
            while start < end && class(start) & PUNCT != 0 {
                start += 1;
            }
            while end > start && class(end - 1) & PUNCT != 0 {
                end -= 1;
            }
            // Characters are the bytes that do not continue one (10xxxxxx).
            let chars = bytes[start..end]
                .iter()
                .filter(|&&b| b & 0xc0 != 0x80)
                .count();
            if chars <= 2 {
                (start, end) = (token, i);
            }
        }
        let apostrophe = flags & APOSTROPHE != 0;
        if flags & NON_ASCII == 0 {
            let upper = flags & UPPER != 0 && flags & LOWER == 0;
            upper_words += usize::from(upper);
            words.push(word(lowered, start, end, upper, apostrophe));
            continue;
        }
        let raw = &text[start..end];
        let upper = py_isupper(raw);
        upper_words += usize::from(upper);
        match py_lower(raw) {
            // Nothing upper-case: the ASCII-lower-cased span is the word.
            Cow::Borrowed(_) => words.push(word(lowered, start, end, upper, apostrophe)),
            Cow::Owned(lower) => {
                let at = lowered.len();
                lowered.extend_from_slice(lower.as_bytes());
                words.push(word(lowered, at, lowered.len(), upper, apostrophe));
            }
        }
    }
    upper_words
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
        let mut s = [2.0, 0.0, 1.0, 3.0];
        but_check(1, &mut s);
        assert_eq!(s, [0.5, 0.0, 1.0, 4.5]);
    }

    /// The words `split_words` makes of `text`: lower-cased, with `isupper()`.
    fn split(text: &str) -> Vec<(String, bool)> {
        let (mut lowered, mut words) = (Vec::new(), Vec::new());
        split_words(text, &mut lowered, &mut words);
        words
            .iter()
            .map(|w| {
                (
                    String::from_utf8_lossy(&lowered[w.start..w.end]).into_owned(),
                    w.upper,
                )
            })
            .collect()
    }

    #[test]
    fn split_words_follows_python() {
        let words = |text| -> Vec<String> { split(text).into_iter().map(|(w, _)| w).collect() };
        // _strip_punc_if_word: emoticons (two characters or fewer) keep their punctuation.
        assert_eq!(
            words(":) (great)! 'ok' :-)"),
            [":)", "great", "'ok'", ":-)"]
        );
        assert_eq!(words("(é)! «ÉTÉ» ?!"), ["(é)!", "«été»", "?!"]);
        // Unicode spaces split; a zero-width space (not White_Space) does not.
        assert_eq!(
            words("a\u{3000}b\u{a0}c\u{85}d\u{2009}e x\u{200b}y"),
            ["a", "b", "c", "d", "e", "x\u{200b}y"]
        );
        assert_eq!(words("\u{1c}a\u{1f}\u{1}b"), ["a", "\u{1}b"]);
        // Upper-case non-ASCII words are lower-cased as Python does, final sigma included.
        assert_eq!(
            split("ΣΑΣ Café GREAT Great"),
            [
                ("σας".to_owned(), true),
                ("café".to_owned(), false),
                ("great".to_owned(), true),
                ("great".to_owned(), false),
            ]
        );
        // Non-ASCII letters count for isupper(): "ÉTÉ" is upper, "éTÉ" is not.
        assert_eq!(
            split("ÉTÉ éTÉ"),
            [("été".to_owned(), true), ("été".to_owned(), false)]
        );
    }

    #[test]
    fn every_non_ascii_space_starts_with_a_flagged_lead_byte() {
        for c in (0x80..=0x10ffff).filter_map(char::from_u32) {
            if py_isspace(c) {
                let mut utf8 = [0u8; 4];
                let lead = c.encode_utf8(&mut utf8).as_bytes()[0];
                assert!(CLASSES[usize::from(lead)] & MAYBE_SPACE != 0, "{c:?}");
            }
        }
    }

    /// What `split_words` must give, written as the reference reads:
    /// `str.split()`, `strip(string.punctuation)` unless that leaves two
    /// characters or fewer, `lower()`, `isupper()`.
    fn reference_split(text: &str) -> Vec<(String, bool)> {
        text.split(py_isspace)
            .filter(|t| !t.is_empty())
            .map(|token| {
                let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
                let word = if stripped.chars().count() <= 2 {
                    token
                } else {
                    stripped
                };
                (py_lower(word).into_owned(), py_isupper(word))
            })
            .collect()
    }

    #[test]
    fn split_words_equals_the_reference_on_random_texts() {
        // Characters around every boundary the byte-level tokenizer draws.
        let alphabet: Vec<char> = "aZé'!.:-) \t\n\u{b}\u{1c}\u{1}\u{7f}\u{85}\u{a0}\u{2009}\u{3000}\u{200b}ΣΑσÉǅ😀\u{200d}\u{fe0f}न"
            .chars()
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..100_000 {
            let len = next(40);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            assert_eq!(split(&text), reference_split(&text), "{text:?}");
        }
    }
}
