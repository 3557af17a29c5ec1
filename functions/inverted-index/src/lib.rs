//! The inverted index of the MapReduce case study, shared by the
//! `index-map` and `index-reduce` components and by their stream mode:
//! [`tokenize`] (words of a document), [`lines`] (the Hadoop Streaming line
//! protocol), [`map`] (documents to `word<TAB>doc<TAB>tf` pairs, combined per
//! document), [`reduce`] (sorted pairs to posting lists) and [`batch`] (whole
//! bodies, for the HTTP faces).

pub mod batch;
pub mod bytes;
pub mod line_stream;
pub mod lines;
pub mod map;
pub mod reduce;
pub mod tokenize;
pub mod word_bounds;
