//! Query strings: `name=value` pairs joined by `&`, each decoded as a form
//! (see [`crate::percent`] for the rules and why they are strict).

use crate::percent::{self, DecodeError};

/// A query-string pair that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{name}`: {error}")]
pub struct QueryError {
    /// The parameter's name as sent (not decoded).
    pub name: String,
    /// What is wrong with it.
    pub error: DecodeError,
}

/// The decoded `(name, value)` pairs of `query`, in order. Empty pairs
/// (`a=1&&b=2`) are skipped; a name without `=` has an empty value.
pub fn pairs(query: &str) -> impl Iterator<Item = Result<(String, String), QueryError>> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let fail = |error| QueryError {
            name: name.to_owned(),
            error,
        };
        Ok((
            percent::decode_form(name).map_err(fail)?,
            percent::decode_form(value).map_err(fail)?,
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(query: &str) -> Result<Vec<(String, String)>, QueryError> {
        pairs(query).collect()
    }

    #[test]
    fn pairs_are_split_and_decoded() {
        assert_eq!(
            all("ops=grayscale%2Cblur%3A2&format=jpeg"),
            Ok(vec![
                ("ops".into(), "grayscale,blur:2".into()),
                ("format".into(), "jpeg".into())
            ])
        );
        assert_eq!(
            all("prefix=my+docs%2F&&flag&a=b=c"),
            Ok(vec![
                ("prefix".into(), "my docs/".into()),
                ("flag".into(), String::new()),
                ("a".into(), "b=c".into())
            ])
        );
        assert_eq!(all(""), Ok(vec![]));
        assert_eq!(
            all("sta%72t-after=x"),
            Ok(vec![("start-after".into(), "x".into())])
        );
    }

    #[test]
    fn a_broken_pair_names_the_parameter() {
        let error = all("ok=1&prefix=%FF").expect_err("not UTF-8");
        assert_eq!(
            error.to_string(),
            "query parameter `prefix`: it is not UTF-8 once percent-decoded"
        );
        let error = all("ops=blur%3").expect_err("broken escape");
        assert_eq!(error.name, "ops");
        assert_eq!(error.error, DecodeError::BrokenEscape(4));
    }
}
