//! API key format: `gaia_<lookup>_<secret>`.
//!
//! - `lookup` (12 lowercase alphanumerics) is public: it finds the stored row without scanning, and appears
//!   in hints and logs.
//! - `secret` (40 alphanumerics, ~238 bits) is never stored: only its SHA-256 is. A fast hash is right
//!   here because the secret is high-entropy random (no dictionary to brute-force), and verification on
//!   the hot path must cost microseconds. Comparison is constant-time.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every GaiaRouter key starts with this, so leaked keys are recognisable (e.g. by secret scanners).
pub const KEY_PREFIX: &str = "gaia_";
const LOOKUP_LEN: usize = 12;
const SECRET_LEN: usize = 40;

/// A freshly generated key: `full` is shown to its owner once, the rest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    pub full: String,
    pub lookup: String,
    pub secret_hash: String,
    pub hint: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("full", &"<redacted>")
            .field("lookup", &self.lookup)
            .field("hint", &self.hint)
            .finish()
    }
}

fn random_alnum(len: usize, lowercase: bool) -> String {
    let s: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    if lowercase { s.to_ascii_lowercase() } else { s }
}

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The non-secret hint shown in lists: prefix, lookup and the last four characters.
pub fn hint_for(lookup: &str, full: &str) -> String {
    let tail: String = full
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{KEY_PREFIX}{lookup}_…{tail}")
}

/// Generates a new key.
pub fn generate() -> GeneratedKey {
    let lookup = random_alnum(LOOKUP_LEN, true);
    let secret = random_alnum(SECRET_LEN, false);
    let full = format!("{KEY_PREFIX}{lookup}_{secret}");
    GeneratedKey {
        hint: hint_for(&lookup, &full),
        secret_hash: hash_secret(&secret),
        lookup,
        full,
    }
}

/// Splits a presented key into `(lookup, secret)`; `None` if it is not in GaiaRouter's format.
pub fn parse(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    let well_formed = lookup.len() == LOOKUP_LEN
        && secret.len() == SECRET_LEN
        && lookup.bytes().all(|b| b.is_ascii_alphanumeric())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some((lookup, secret))
}

/// Whether `secret` hashes to `stored_hash`, compared in constant time.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    // Hex-encoded on the stack, as `hash_secret` encodes it: this runs on every request.
    let mut computed = [0u8; 64];
    if hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut computed).is_err() {
        return false; // 32 bytes always fit 64 digits; never reached
    }
    computed[..].ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_matches_the_stored_hex_digest_exactly() {
        for secret in ["", "a", "s3cr3t-with-ünïcode", &"x".repeat(300)] {
            let stored = hash_secret(secret);
            assert!(verify_secret(secret, &stored), "{secret}");
            // Any other digest, a truncated one or a differently cased one is refused.
            let mut other = stored.clone().into_bytes();
            other[63] = if other[63] == b'0' { b'1' } else { b'0' };
            assert!(!verify_secret(secret, std::str::from_utf8(&other).unwrap()));
            assert!(!verify_secret(secret, &stored[..62]));
            assert!(!verify_secret(secret, &format!("{stored}0")));
            if stored.bytes().any(|b| b.is_ascii_lowercase()) {
                assert!(!verify_secret(secret, &stored.to_ascii_uppercase()));
            }
        }
    }

    #[test]
    fn generated_keys_parse_and_verify() {
        let key = generate();
        assert!(key.full.starts_with("gaia_"));
        let (lookup, secret) = parse(&key.full).unwrap();
        assert_eq!(lookup, key.lookup);
        assert!(verify_secret(secret, &key.secret_hash));
        assert!(!verify_secret("wrong", &key.secret_hash));
    }

    #[test]
    fn keys_are_unique_and_high_entropy() {
        let a = generate();
        let b = generate();
        assert_ne!(a.full, b.full);
        assert_ne!(a.lookup, b.lookup);
        assert_eq!(a.full.len(), KEY_PREFIX.len() + LOOKUP_LEN + 1 + SECRET_LEN);
    }

    #[test]
    fn hints_reveal_only_the_lookup_and_last_four() {
        let key = generate();
        let tail = &key.full[key.full.len() - 4..];
        assert!(key.hint.ends_with(tail));
        assert!(key.hint.contains(&key.lookup));
        assert!(
            !key.hint
                .contains(&key.full[KEY_PREFIX.len() + LOOKUP_LEN + 1..key.full.len() - 4])
        );
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        for bad in [
            "",
            "gaia_",
            "sk-abc",
            "gaia_short_x",
            "gaia_abcdefghijkl_tooshort",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let key = generate();
        assert!(!format!("{key:?}").contains(&key.full));
    }
}
