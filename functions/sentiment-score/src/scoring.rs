//! VADER scoring, labels and aggregation: plain Rust, the same natively and in the component.

pub use crate::vader::Scores;
use crate::vader::Vader;
use serde::Serialize;

/// The classification of a compound score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// compound >= 0.05
    Positive,
    /// between the thresholds
    Neutral,
    /// compound <= -0.05
    Negative,
}

/// Scores texts. Building one is free (the lexicons are static tables); it
/// keeps its working buffers between texts, so reuse one for a batch.
pub struct Scorer {
    vader: Vader,
}

impl Default for Scorer {
    fn default() -> Self {
        Self::new()
    }
}

impl Scorer {
    /// A scorer with empty working buffers.
    pub fn new() -> Self {
        Self {
            vader: Vader::new(),
        }
    }

    /// Scores one text.
    pub fn score(&mut self, text: &str) -> Scores {
        self.vader.polarity_scores(text)
    }
}

/// VADER's usual thresholds: positive at compound >= 0.05, negative at <= -0.05.
pub fn classify(scores: &Scores) -> Label {
    if scores.compound >= 0.05 {
        Label::Positive
    } else if scores.compound <= -0.05 {
        Label::Negative
    } else {
        Label::Neutral
    }
}

/// Aggregate results over texts, built incrementally so a stream needs no buffering.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Number of texts.
    pub count: u64,
    /// Positive texts.
    pub positives: u64,
    /// Neutral texts.
    pub neutrals: u64,
    /// Negative texts.
    pub negatives: u64,
    /// Mean compound (0 for no texts).
    pub mean_compound: f64,
    /// Text with the highest compound (first on ties).
    pub most_positive: Option<String>,
    /// Text with the lowest compound (first on ties).
    pub most_negative: Option<String>,
    #[serde(skip)]
    sum: f64,
    #[serde(skip)]
    best: f64,
    #[serde(skip)]
    worst: f64,
}

impl Summary {
    /// Adds one scored text.
    pub fn add(&mut self, text: &str, scores: &Scores) {
        self.count += 1;
        match classify(scores) {
            Label::Positive => self.positives += 1,
            Label::Neutral => self.neutrals += 1,
            Label::Negative => self.negatives += 1,
        }
        self.sum += scores.compound;
        self.mean_compound = self.sum / self.count as f64;
        if self.most_positive.is_none() || scores.compound > self.best {
            self.best = scores.compound;
            self.most_positive = Some(text.to_owned());
        }
        if self.most_negative.is_none() || scores.compound < self.worst {
            self.worst = scores.compound;
            self.most_negative = Some(text.to_owned());
        }
    }
}

/// Scores and summarises `texts`.
pub fn aggregate<'a>(scorer: &mut Scorer, texts: impl IntoIterator<Item = &'a str>) -> Summary {
    let mut summary = Summary::default();
    for text in texts {
        summary.add(text, &scorer.score(text));
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_example_and_empty_text() {
        let mut scorer = Scorer::new();
        let s = scorer.score("VADER is smart, handsome, and funny.");
        assert_eq!(
            (s.neg, s.neu, s.pos, s.compound),
            (0.0, 0.254, 0.746, 0.8316)
        );
        let empty = scorer.score("");
        assert_eq!(
            (empty.neg, empty.neu, empty.pos, empty.compound),
            (0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn labels_follow_the_thresholds() {
        let at = |compound| {
            classify(&Scores {
                neg: 0.0,
                neu: 1.0,
                pos: 0.0,
                compound,
            })
        };
        assert_eq!(at(0.05), Label::Positive);
        assert_eq!(at(0.0499), Label::Neutral);
        assert_eq!(at(-0.0499), Label::Neutral);
        assert_eq!(at(-0.05), Label::Negative);
    }

    #[test]
    fn aggregate_counts_and_extremes() {
        let mut scorer = Scorer::new();
        let texts = [
            "I love this!",
            "This is terrible.",
            "It is a table.",
            "I LOVE this!!!",
        ];
        let s = aggregate(&mut scorer, texts);
        assert_eq!(
            (s.count, s.positives, s.neutrals, s.negatives),
            (4, 2, 1, 1)
        );
        assert_eq!(s.most_positive.as_deref(), Some("I LOVE this!!!"));
        assert_eq!(s.most_negative.as_deref(), Some("This is terrible."));
        let expected: f64 = texts.iter().map(|t| scorer.score(t).compound).sum::<f64>() / 4.0;
        assert!((s.mean_compound - expected).abs() < 1e-12);
        assert_eq!(aggregate(&mut scorer, []), Summary::default());
    }
}
