//! The inverted index of the MapReduce case study, shared by the
//! `index-map` and `index-reduce` components and by their stream mode:
//! [`tokenize`] (words of a document), [`lines`] (the Hadoop Streaming line
//! protocol), [`map`] (documents to `word<TAB>doc<TAB>tf…` lines, combined
//! across a window of documents), [`reduce`] (sorted pairs to posting lists),
//! [`batch`] (whole bodies, for the HTTP faces), [`line_stream`] (a phase fed
//! chunks of a stream) and, outside wasm, [`chunk_io`] (stream I/O on threads
//! of its own).

pub mod batch;
pub mod bytes;
#[cfg(not(target_family = "wasm"))]
pub mod chunk_io;
pub mod line_stream;
pub mod lines;
pub mod map;
pub mod reduce;
#[cfg(test)]
mod test_rng;
pub mod tokenize;
pub mod word_bounds;
