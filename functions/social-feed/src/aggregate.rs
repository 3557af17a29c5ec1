//! Running aggregates per keyword and per minute: what the consumer folds
//! each scored tweet into and what the dashboard merges and reports.
//!
//! Compound scores are VADER's, rounded to 4 decimals, so their sum is kept
//! exactly as an integer of ten-thousandths: the mean does not depend on
//! the order the tweets arrived in, and equals the sentiment function's
//! scores averaged by hand.

use crate::feed::FeedTweet;
use sentiment_score::scoring::{Label, Scores, classify};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tweet at one end of a keyword's scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extreme {
    /// The tweet's id.
    pub id: String,
    /// Its text.
    pub text: String,
    /// Its author, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Its compound score.
    pub compound: f64,
}

/// One keyword's aggregates over a span of time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Tweets.
    pub count: u64,
    /// Sum of their compound scores, in ten-thousandths.
    pub compound_e4: i64,
    /// Tweets labelled positive (compound ≥ 0.05).
    pub positive: u64,
    /// Tweets labelled neutral.
    pub neutral: u64,
    /// Tweets labelled negative (compound ≤ −0.05).
    pub negative: u64,
    /// The highest compound score (ties: the smallest id).
    pub most_positive: Option<Extreme>,
    /// The lowest compound score (ties: the smallest id).
    pub most_negative: Option<Extreme>,
}

impl Stats {
    /// Folds one scored tweet in.
    pub fn fold(&mut self, tweet: &FeedTweet, scores: &Scores) {
        let one = Self {
            count: 1,
            compound_e4: (scores.compound * 10_000.0).round() as i64,
            positive: u64::from(classify(scores) == Label::Positive),
            neutral: u64::from(classify(scores) == Label::Neutral),
            negative: u64::from(classify(scores) == Label::Negative),
            most_positive: Some(Extreme {
                id: tweet.id.clone(),
                text: tweet.text.clone(),
                user: tweet.user.clone(),
                compound: scores.compound,
            }),
            most_negative: None,
        };
        let extreme = one.most_positive.clone();
        self.merge(&Self {
            most_negative: extreme,
            ..one
        });
    }

    /// Adds `other`'s tweets to these.
    pub fn merge(&mut self, other: &Self) {
        self.count += other.count;
        self.compound_e4 += other.compound_e4;
        self.positive += other.positive;
        self.neutral += other.neutral;
        self.negative += other.negative;
        let wins = |new: &Extreme, old: &Extreme, higher: bool| {
            if new.compound == old.compound {
                new.id < old.id
            } else {
                (new.compound > old.compound) == higher
            }
        };
        for (mine, theirs, higher) in [
            (&mut self.most_positive, &other.most_positive, true),
            (&mut self.most_negative, &other.most_negative, false),
        ] {
            if let Some(new) = theirs
                && mine.as_ref().is_none_or(|old| wins(new, old, higher))
            {
                *mine = Some(new.clone());
            }
        }
    }

    /// The mean compound score (0 with no tweets).
    pub fn mean_compound(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.compound_e4 as f64 / self.count as f64 / 10_000.0
        }
    }

    /// The aggregates as the dashboard reports them.
    pub fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "count": self.count,
            "mean_compound": self.mean_compound(),
            "positive": self.positive,
            "neutral": self.neutral,
            "negative": self.negative,
            "most_positive": self.most_positive,
            "most_negative": self.most_negative,
        })
    }
}

/// One stored record: a minute's (or shard's) aggregates by keyword.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// By keyword.
    pub keywords: BTreeMap<String, Stats>,
}

impl Bucket {
    /// Reads a stored record (`None`: absent, an empty bucket).
    pub fn parse(bytes: Option<&[u8]>) -> Result<Self, serde_json::Error> {
        bytes.map_or(Ok(Self::default()), serde_json::from_slice)
    }

    /// The record to store.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a bucket serializes")
    }

    /// Folds a scored tweet into each keyword it mentions.
    pub fn fold(&mut self, tweet: &FeedTweet, scores: &Scores) {
        for keyword in &tweet.keywords {
            self.keywords
                .entry(keyword.clone())
                .or_default()
                .fold(tweet, scores);
        }
    }

    /// Adds another bucket's tweets.
    pub fn merge(&mut self, other: &Self) {
        for (keyword, stats) in &other.keywords {
            self.keywords
                .entry(keyword.clone())
                .or_default()
                .merge(stats);
        }
    }
}

/// The dashboard's JSON: per minute (oldest first) and in total over those
/// minutes, for each keyword asked for.
pub fn dashboard(keywords: &[&str], minutes: &[(i64, Bucket)]) -> serde_json::Value {
    let mut totals = Bucket::default();
    let per_minute: Vec<serde_json::Value> = minutes
        .iter()
        .map(|(minute, bucket)| {
            totals.merge(bucket);
            let by_keyword: serde_json::Map<String, serde_json::Value> = keywords
                .iter()
                .filter_map(|k| {
                    bucket
                        .keywords
                        .get(*k)
                        .map(|s| ((*k).to_owned(), s.report()))
                })
                .collect();
            serde_json::json!({ "minute": crate::time::format(*minute), "keywords": by_keyword })
        })
        .collect();
    let totals: serde_json::Map<String, serde_json::Value> = keywords
        .iter()
        .map(|k| {
            let stats = totals.keywords.get(*k).cloned().unwrap_or_default();
            ((*k).to_owned(), stats.report())
        })
        .collect();
    serde_json::json!({ "keywords": keywords, "minutes": per_minute, "totals": totals })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_score::scoring::Scorer;

    fn tweet(id: &str, text: &str, keywords: &[&str]) -> FeedTweet {
        FeedTweet {
            id: id.into(),
            text: text.into(),
            user: None,
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            time: 0,
        }
    }

    #[test]
    fn folds_and_merges_in_any_order_to_the_same_totals() {
        let tweets = [
            tweet("1", "I love rust, it is great", &["rust"]),
            tweet("2", "rust and wasm are terrible", &["rust", "wasm"]),
            tweet("3", "wasm exists", &["wasm"]),
            tweet("4", "I love rust, it is great", &["rust"]),
        ];
        let mut scorer = Scorer::new();
        let mut forward = Bucket::default();
        for t in &tweets {
            forward.fold(t, &scorer.score(&t.text));
        }
        let mut halves = [Bucket::default(), Bucket::default()];
        for (i, t) in tweets.iter().enumerate().rev() {
            halves[i % 2].fold(t, &scorer.score(&t.text));
        }
        let mut merged = Bucket::default();
        merged.merge(&halves[1]);
        merged.merge(&halves[0]);
        assert_eq!(merged, forward);
        let rust = &forward.keywords["rust"];
        assert_eq!((rust.count, rust.positive, rust.negative), (3, 2, 1));
        let most = rust.most_positive.as_ref().expect("most positive");
        assert_eq!(most.id, "1", "a tie keeps the smallest id");
        let scores: Vec<f64> = ["I love rust, it is great", "rust and wasm are terrible"]
            .iter()
            .map(|t| scorer.score(t).compound)
            .collect();
        let expected = ((scores[0] * 1e4).round() * 2.0 + (scores[1] * 1e4).round()) / 3.0 / 1e4;
        assert_eq!(rust.mean_compound(), expected);
        assert_eq!(
            Bucket::parse(Some(&forward.to_json())).expect("parse"),
            forward
        );
    }

    #[test]
    fn the_dashboard_reports_every_asked_keyword() {
        let mut bucket = Bucket::default();
        bucket.fold(&tweet("1", "good", &["rust"]), &Scorer::new().score("good"));
        let view = dashboard(&["rust", "wasm"], &[(60, bucket)]);
        assert_eq!(view["minutes"][0]["minute"], "1970-01-01T00:01:00Z");
        assert_eq!(view["minutes"][0]["keywords"]["rust"]["count"], 1);
        assert_eq!(view["totals"]["wasm"]["count"], 0);
        assert!(view["minutes"][0]["keywords"].get("wasm").is_none());
    }
}
