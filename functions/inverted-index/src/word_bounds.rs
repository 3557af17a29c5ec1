//! Unicode word boundaries (UAX #29), fast on mostly-ASCII text.
//!
//! Restricted to ASCII, the word-break rules reduce to a handful of byte
//! classes, so ASCII stretches are split without tables; stretches holding
//! other characters go to `unicode-segmentation`. The text is cut between
//! the two only after a space followed by an ASCII character other than a
//! space: no rule joins across that point (WB3d joins spaces, WB4 attaches
//! Extend/Format/ZWJ, and WB6-WB16 need a letter, digit or regional
//! indicator on the left). [`split`] yields exactly the segments of
//! `split_word_bounds` (checked by differential tests over random text),
//! several times faster on the English-heavy text of the benchmark corpus.

use unicode_segmentation::UnicodeSegmentation;

/// The word-break property of an ASCII byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `A-Z`, `a-z` (ALetter).
    Letter,
    /// `0-9` (Numeric).
    Digit,
    /// `_` (ExtendNumLet).
    Underscore,
    /// `:` (MidLetter).
    MidLetter,
    /// `.` and `'` (MidNumLet, Single_Quote).
    MidNumLet,
    /// `,` and `;` (MidNum).
    MidNum,
    /// ` ` (WSegSpace).
    Space,
    /// `\r` (CR).
    Cr,
    /// `\n` (LF).
    Lf,
    /// Everything else, one segment per byte.
    Other,
}

/// [`Class`] of every ASCII byte.
static CLASSES: [Class; 128] = {
    let mut table = [Class::Other; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = classify(b as u8);
        b += 1;
    }
    table
};

#[inline(always)]
fn class(b: u8) -> Class {
    CLASSES[(b & 0x7f) as usize]
}

const fn classify(b: u8) -> Class {
    match b {
        b'A'..=b'Z' | b'a'..=b'z' => Class::Letter,
        b'0'..=b'9' => Class::Digit,
        b'_' => Class::Underscore,
        b':' => Class::MidLetter,
        b'.' | b'\'' => Class::MidNumLet,
        b',' | b';' => Class::MidNum,
        b' ' => Class::Space,
        b'\r' => Class::Cr,
        b'\n' => Class::Lf,
        _ => Class::Other,
    }
}

#[inline(always)]
fn joins_words(c: Class) -> bool {
    matches!(c, Class::Letter | Class::Digit | Class::Underscore)
}

/// Length of the segment starting at `start` (`start < bytes.len()`).
fn segment_len(bytes: &[u8], start: usize) -> usize {
    let first = class(bytes[start]);
    let mut end = start + 1;
    match first {
        // WB5, WB8-WB10, WB13a/b join letters, digits and `_`; WB6/7 join
        // letters across `:`, `.` and `'`; WB11/12 join digits across `,`,
        // `;`, `.` and `'`.
        Class::Letter | Class::Digit | Class::Underscore => {
            let mut previous = first;
            while end < bytes.len() {
                let current = class(bytes[end]);
                if joins_words(current) {
                    previous = current;
                    end += 1;
                    continue;
                }
                let Some(&after) = bytes.get(end + 1) else {
                    break;
                };
                let after = class(after);
                let letters = previous == Class::Letter
                    && after == Class::Letter
                    && matches!(current, Class::MidLetter | Class::MidNumLet);
                let digits = previous == Class::Digit
                    && after == Class::Digit
                    && matches!(current, Class::MidNum | Class::MidNumLet);
                if !(letters || digits) {
                    break;
                }
                previous = after;
                end += 2;
            }
        }
        // WB3d: horizontal space stays together.
        Class::Space => {
            while end < bytes.len() && bytes[end] == b' ' {
                end += 1;
            }
        }
        // WB3: CR × LF.
        Class::Cr if bytes.get(end) == Some(&b'\n') => end += 1,
        _ => {}
    }
    end - start
}

/// Whether no word boundary rule can join across offset `i` of `bytes`: a
/// space before it and an ASCII character other than a space at it.
fn is_cut(bytes: &[u8], i: usize) -> bool {
    i > 0 && bytes[i - 1] == b' ' && bytes[i] != b' ' && bytes[i].is_ascii()
}

/// The word-bound segments of `text`, as
/// `unicode_segmentation::UnicodeSegmentation::split_word_bounds` gives them.
pub fn split(text: &str) -> Split<'_> {
    Split {
        text,
        rest: 0,
        stretch: Stretch::Ascii { at: 0, end: 0 },
    }
}

/// Iterator returned by [`split`].
#[derive(Debug, Clone)]
pub struct Split<'t> {
    text: &'t str,
    /// Where the next stretch starts.
    rest: usize,
    stretch: Stretch<'t>,
}

/// The stretch being split: ASCII from `at` (the next segment) up to `end`,
/// or by `unicode-segmentation`.
#[derive(Debug, Clone)]
enum Stretch<'t> {
    Ascii { at: usize, end: usize },
    Other(unicode_segmentation::UWordBounds<'t>),
}

impl<'t> Split<'t> {
    /// Starts the stretch at `self.rest`: ASCII up to the last cut before the
    /// next non-ASCII character, or else up to the first cut after it.
    fn next_stretch(&mut self) {
        let bytes = self.text.as_bytes();
        let start = self.rest;
        let Some(first_other) = bytes[start..].iter().position(|b| !b.is_ascii()) else {
            self.rest = bytes.len();
            self.stretch = Stretch::Ascii {
                at: start,
                end: bytes.len(),
            };
            return;
        };
        let first_other = start + first_other;
        if let Some(cut) = (start + 1..first_other).rev().find(|&i| is_cut(bytes, i)) {
            self.rest = cut;
            self.stretch = Stretch::Ascii {
                at: start,
                end: cut,
            };
            return;
        }
        let end = (first_other + 1..bytes.len())
            .find(|&i| is_cut(bytes, i))
            .unwrap_or(bytes.len());
        self.rest = end;
        // Cuts sit before ASCII bytes: char boundaries.
        self.stretch = Stretch::Other(self.text[start..end].split_word_bounds());
    }
}

impl<'t> Iterator for Split<'t> {
    type Item = &'t str;

    #[inline]
    fn next(&mut self) -> Option<&'t str> {
        loop {
            match &mut self.stretch {
                Stretch::Ascii { at, end } if *at < *end => {
                    let start = *at;
                    // Segments never cross a cut, so the stretch's end bounds them.
                    let len = segment_len(&self.text.as_bytes()[..*end], start);
                    *at += len;
                    // ASCII: every byte offset is a char boundary.
                    return Some(&self.text[start..start + len]);
                }
                Stretch::Other(segments) => {
                    if let Some(segment) = segments.next() {
                        return Some(segment);
                    }
                }
                Stretch::Ascii { .. } => {}
            }
            if self.rest >= self.text.len() {
                return None;
            }
            self.next_stretch();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn check(text: &str) {
        let fast: Vec<&str> = split(text).collect();
        let reference: Vec<&str> = text.split_word_bounds().collect();
        assert_eq!(fast, reference, "segments of {text:?}");
    }

    #[test]
    fn known_cases() {
        for text in [
            "",
            "Don't panic!",
            "e-mail state-of-the-art",
            "3.14 1,000,000 1;2 a1.2 1.a a.1 a:b 1:2 a'b 1'2",
            "_a a_ __ a__b 1_2 _.a a._",
            "end.  Next\r\nline\n\n\r\r\t\tx",
            "http://example.com/a_b?c=d&e=f#g",
            "a.b.c 'quoted' \"double\" trailing. .leading",
            "café Über e\u{301} x \u{301}y  \u{200d}z a\u{ad}b 東京タワー 🇫🇷🇩🇪 don’t",
        ] {
            check(text);
        }
    }

    #[test]
    fn matches_unicode_segmentation_on_random_ascii() {
        // Biased towards the bytes the rules treat specially.
        const TRICKY: &[u8] = b"aZ09_:.',; \r\n\t-\"!?/@#x";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            let text = rng.text(12, |r| {
                if r.is_multiple_of(4) {
                    char::from((r >> 8) as u8 & 0x7f)
                } else {
                    char::from(TRICKY[(r >> 8) as usize % TRICKY.len()])
                }
            });
            check(&text);
        }
    }

    #[test]
    fn matches_unicode_segmentation_on_random_mixed_text() {
        // ASCII with spaces, plus characters that attach to, join or break around them.
        const ASCII: &[u8] = b"aZ09_:.', \r\n-";
        const OTHER: &[char] = &[
            'é', '\u{301}', '\u{200d}', '\u{ad}', '\u{2019}', '\u{a0}', '\u{3000}', '東', 'タ',
            'ー', '🇫', '🇷', '😀', 'א', '\u{5f4}', '\u{200b}', 'д', '٣',
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let text = rng.text(14, |r| match r % 5 {
                0 => OTHER[(r >> 8) as usize % OTHER.len()],
                1 => ' ',
                _ => char::from(ASCII[(r >> 8) as usize % ASCII.len()]),
            });
            check(&text);
        }
    }
}
