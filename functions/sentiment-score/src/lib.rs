//! VADER sentiment scoring of social-media texts, with parity to
//! vaderSentiment 3.3.2: plain Rust with no WASI in it, so the `sentiment`
//! function, the social-feed consumer and the native benchmark all score
//! with the very same code (and so the very same numbers).
//!
//! [`scoring`] is the API ([`scoring::Scorer`], labels, aggregates);
//! [`vader`] is the algorithm and [`lexicon`] its compile-time tables.

pub mod lexicon;
mod lexicon_hash;
pub mod rule_words;
pub mod scoring;
pub mod vader;
