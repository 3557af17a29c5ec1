//! Password rules and hashes: at least 8 characters, at most 1,024 bytes,
//! not one of the 10,000 most common passwords (case-insensitive, as
//! Django's `CommonPasswordValidator`); hashed with Argon2id at OWASP's
//! parameters (19 MiB, 2 iterations, parallelism 1), a fresh 16-byte salt
//! each, stored as a PHC string.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 8;
/// Most bytes a password may have (longer ones are refused before hashing).
pub const MAX_BYTES: usize = 1024;

const COMMON: &str = include_str!("common-passwords.txt");

/// Why a password is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Weak {
    /// Fewer than [`MIN_CHARS`].
    #[error("the password is too short: at least {MIN_CHARS} characters")]
    TooShort,
    /// More than [`MAX_BYTES`].
    #[error("the password is too long: at most {MAX_BYTES} bytes")]
    TooLong,
    /// On the list of common passwords.
    #[error("the password is one of the 10,000 most common passwords; choose another")]
    Common,
}

/// Whether `password` may be used.
pub fn check(password: &str) -> Result<(), Weak> {
    if password.len() > MAX_BYTES {
        return Err(Weak::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(Weak::TooShort);
    }
    let lower = password.to_lowercase();
    if COMMON.lines().any(|common| common == lower) {
        return Err(Weak::Common);
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's Argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> Result<String, String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether `password` matches the PHC string `stored` (constant-time
/// comparison inside argon2).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches, verified when the account does not exist,
/// so that an unknown name costs the same time as a wrong password.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$Y2xvdWRmbi1kZWNveS1zYWx0$yWcqlwk6Dm9zJ7fFJ1o0sC6kUYzYp8t1f8J3S0qJxKs";

/// Spends one verification on nothing (see [`DECOY`]).
pub fn verify_decoy(password: &str) {
    let _ = verify(password, DECOY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_refuse_short_long_and_common_passwords() {
        assert_eq!(check("short"), Err(Weak::TooShort));
        assert_eq!(check(&"x".repeat(MAX_BYTES + 1)), Err(Weak::TooLong));
        assert_eq!(check("password1"), Err(Weak::Common));
        assert_eq!(check("PassWord1"), Err(Weak::Common), "case-insensitive");
        assert_eq!(check("qwertyuiop"), Err(Weak::Common));
        assert_eq!(check("correct horse battery"), Ok(()));
        // Characters, not bytes: eight two-byte letters pass.
        assert_eq!(check("éééééééé"), Ok(()));
        assert_eq!(COMMON.lines().count(), 10_000);
    }

    #[test]
    fn a_hash_is_argon2id_at_owasp_parameters_salted_and_verifies_only_its_password() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterz", &a));
        assert!(!verify("correct horse battery", "not a hash"));
        assert!(
            PasswordHash::new(DECOY).is_ok(),
            "the decoy is a well-formed hash"
        );
        assert!(!verify("", DECOY));
    }
}
