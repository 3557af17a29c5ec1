//! Secrets handed to clients (session cookies, API tokens, share links):
//! 32 random bytes from the platform (`wasi:random` in a component),
//! URL-safe base64, stored only as their SHA-256 so a leaked database
//! yields no usable credential.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A new secret with `prefix` (`cfn_` for API tokens, none elsewhere).
pub fn new(prefix: &str) -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// A new random id (16 bytes, hex): users, tokens, shares.
pub fn id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(component_http::hex(&bytes))
}

/// The stored form of `secret`: its SHA-256, hex.
pub fn digest(secret: &str) -> String {
    component_http::hex(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_distinct_and_stored_as_their_digest() {
        let a = new("cfn_").expect("token");
        let b = new("cfn_").expect("token");
        assert_ne!(a, b);
        assert!(a.starts_with("cfn_") && a.len() == 4 + 43, "{a}");
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(id().expect("id").len(), 32);
    }
}
