//! Differential test: our scorer against `vader-parity`, an independent
//! port held to vaderSentiment 3.3.2 on CPython 3.14 (hence compensated
//! `sum()`), on 30,000 generated texts dense in the rules' triggers
//! (negations, boosters, "but", "least", "no", idioms, caps, emoji,
//! punctuation, other scripts).

use sentiment_score::vader::{PythonSum, Vader};
use vader_parity::SentimentIntensityAnalyzer;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

#[test]
fn agrees_with_vader_parity_on_generated_texts() {
    let lexicon: Vec<&str> = include_str!("../data/vader_lexicon.txt")
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    let emoji: Vec<&str> = include_str!("../data/emoji_utf8_lexicon.txt")
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    let triggers = [
        "not",
        "never",
        "no",
        "nor",
        "or",
        "but",
        "BUT",
        "least",
        "at",
        "very",
        "VERY",
        "so",
        "this",
        "without",
        "doubt",
        "kind",
        "of",
        "kinda",
        "sort",
        "just",
        "enough",
        "isn't",
        "don't",
        "the",
        "shit",
        "bomb",
        "yeah",
        "right",
        "kiss",
        "death",
        "to",
        "die",
        "for",
        "bad",
        "ass",
        "bus",
        "stop",
        "beating",
        "heart",
        "extremely",
        "barely",
        "uber",
        "FRIGGIN",
        "cannot",
        "nothing",
    ];
    let others = [
        "phone",
        "Ünïcödé",
        "привет",
        "東京",
        "ΣΑΣ",
        "ǅemal",
        "ok",
        "I",
        "it",
        "was",
        "😀😀",
        ":)",
        ":-(",
        "<3",
        "#win",
        "@you",
    ];
    let punct = [
        "", "", "", ".", ",", "!", "!!", "?", "???", "!?", "...", "'", "\"",
    ];
    let vp = SentimentIntensityAnalyzer::new();
    let mut ours = Vader::with_sum(PythonSum::Compensated);
    let mut rng = Lcg(7);
    let mut mismatches = Vec::new();
    for _ in 0..30_000 {
        let mut text = String::new();
        for _ in 0..(1 + rng.next() % 12) {
            let word = match rng.next() % 10 {
                0..=3 => rng.pick(&lexicon).to_owned(),
                4..=6 => rng.pick(&triggers).to_owned(),
                7 => rng.pick(&emoji).to_owned(),
                _ => rng.pick(&others).to_owned(),
            };
            let word = if rng.next().is_multiple_of(7) {
                word.to_uppercase()
            } else {
                word
            };
            text.push_str(&word);
            text.push_str(rng.pick(&punct));
            text.push(if rng.next().is_multiple_of(13) {
                '\t'
            } else {
                ' '
            });
        }
        let a = ours.polarity_scores(&text);
        let b = vp.polarity_scores(&text);
        if (a.neg, a.neu, a.pos, a.compound) != (b.neg, b.neu, b.pos, b.compound) {
            mismatches.push(format!("{text:?}: ours {a:?}, vader-parity {b:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}
