//! Why an image could not be processed: one variant per HTTP outcome.

/// A size that exceeds a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Width × height.
    Pixels,
    /// Bytes of the encoded input.
    Bytes,
}

impl Measure {
    /// `pixels` or `bytes`.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Pixels => "pixels",
            Measure::Bytes => "bytes",
        }
    }
}

/// Why an image could not be processed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// The bytes are not in a supported format.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// The image is corrupt or truncated.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// The input, or an op's result, exceeds a limit.
    #[error("{context}: {actual} {} exceeds the limit of {limit}", what.name())]
    TooLarge {
        /// What was measured.
        what: Measure,
        /// The measured value.
        actual: u64,
        /// The limit it exceeds.
        limit: u64,
        /// What was too large (`image 100000x100000`, `resize:90000x90000:fill`).
        context: String,
    },
    /// An op's parameters are out of range or do not fit the image.
    #[error("{0}")]
    InvalidOp(String),
    /// The output options are invalid.
    #[error("{0}")]
    InvalidOutput(String),
    /// The encoder failed, or anything else.
    #[error("{0}")]
    Other(String),
}

impl FilterError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            FilterError::UnsupportedFormat(_) => 415,
            FilterError::InvalidImage(_)
            | FilterError::InvalidOp(_)
            | FilterError::InvalidOutput(_) => 400,
            FilterError::TooLarge { .. } => 413,
            FilterError::Other(_) => 500,
        }
    }
}
