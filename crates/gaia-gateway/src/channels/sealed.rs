//! Upstream credentials sealed at rest with `GAIA_SECRET_KEY`.
//!
//! XChaCha20-Poly1305 (the `chacha20poly1305` crate): a random 192-bit nonce per value, so nothing has to
//! be counted, and the channel id as associated data, so a sealed key copied onto another row does not
//! open. A sealed value is `v1.<key id>.<nonce>.<ciphertext>` (base64url); the key id — the first 8 hex
//! digits of the key's SHA-256 — says which key sealed it, so keys can be rotated: the current key seals,
//! it and the previous ones (`GAIA_SECRET_KEY_PREVIOUS`) open, and values sealed with a previous key are
//! sealed again with the current one when the instance starts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use gaia_core::GaiaError;
use sha2::Digest;

/// A 32-byte key and its id.
struct SecretKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SecretKey {
    fn parse(variable: &str, text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| format!("{variable}: {e}"))?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
                .map_err(|_| {
                    format!("{variable}: not 32 bytes in hex (64 digits) or base64 (e.g. `openssl rand -base64 32`)")
                })?
        };
        if bytes.len() != 32 {
            return Err(format!(
                "{variable}: {} bytes; it must be 32 (e.g. `openssl rand -base64 32`)",
                bytes.len()
            ));
        }
        let id = hex::encode(&sha2::Sha256::digest(&bytes)[..4]);
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
            .map_err(|_| format!("{variable}: not a usable key"))?;
        Ok(Self { id, cipher })
    }
}

/// Seals with the current key; opens with it or a previous one.
pub struct Sealer {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current.id)
            .finish()
    }
}

/// A stored credential that cannot be opened (sealed with a key this instance does not have, or tampered):
/// well-formed input cannot fix it, but setting the credential again does (422, naming `api_key`).
fn unreadable(why: &str) -> GaiaError {
    GaiaError::unprocessable(format!(
        "the channel's stored credential cannot be opened: {why}; set its api_key again"
    ))
    .with_param("api_key")
    .with_code("credential_unreadable")
}

impl Sealer {
    /// From `GAIA_SECRET_KEY` and the comma-separated `GAIA_SECRET_KEY_PREVIOUS`.
    pub fn new(current: &str, previous: &[&str]) -> Result<Self, String> {
        Ok(Self {
            current: SecretKey::parse("GAIA_SECRET_KEY", current)?,
            previous: previous
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| SecretKey::parse("GAIA_SECRET_KEY_PREVIOUS", p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// `secret` sealed for the row `row_id`.
    pub fn seal(&self, row_id: &str, secret: &str) -> Result<String, GaiaError> {
        let mut nonce = [0u8; 24];
        rand::Rng::fill(&mut rand::rng(), &mut nonce[..]);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: row_id.as_bytes(),
                },
            )
            .map_err(|_| GaiaError::internal("sealing a channel credential failed"))?;
        Ok(format!(
            "v1.{}.{}.{}",
            self.current.id,
            B64.encode(nonce),
            B64.encode(sealed)
        ))
    }

    /// The secret sealed for `row_id`, and whether it was sealed with a previous key (seal it again).
    pub fn open(&self, row_id: &str, sealed: &str) -> Result<(String, bool), GaiaError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(key_id), Some(nonce), Some(body), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(unreadable("not a v1 sealed value"));
        };
        let (key, stale) = if key_id == self.current.id {
            (&self.current, false)
        } else {
            let key = self
                .previous
                .iter()
                .find(|k| k.id == key_id)
                .ok_or_else(|| {
                    unreadable(&format!(
                        "sealed with key {key_id}, which is neither GAIA_SECRET_KEY nor in GAIA_SECRET_KEY_PREVIOUS"
                    ))
                })?;
            (key, true)
        };
        let nonce = B64.decode(nonce).map_err(|_| unreadable("bad nonce"))?;
        let body = B64.decode(body).map_err(|_| unreadable("bad ciphertext"))?;
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| unreadable("bad nonce"))?;
        let plain = key
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &body,
                    aad: row_id.as_bytes(),
                },
            )
            .map_err(|_| {
                unreadable("it does not authenticate (another row's value, or tampered)")
            })?;
        let secret = String::from_utf8(plain).map_err(|_| unreadable("not text"))?;
        Ok((secret, stale))
    }
}

/// What the API shows of a secret: its last four characters — none of a secret shorter than 12, where four
/// would be too large a share of it.
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "…".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0000000000000000000000000000000000000000000000000000000000000001";
    const B: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

    #[test]
    fn a_sealed_key_opens_only_for_its_row_and_hides_the_secret() {
        let s = Sealer::new(A, &[]).unwrap();
        let sealed = s.seal("row-1", "sk-live-abcdef").unwrap();
        assert!(!sealed.contains("sk-live"));
        assert_ne!(
            s.seal("row-1", "sk-live-abcdef").unwrap(),
            sealed,
            "random nonces"
        );
        assert_eq!(
            s.open("row-1", &sealed).unwrap(),
            ("sk-live-abcdef".into(), false)
        );
        assert!(s.open("row-2", &sealed).is_err(), "bound to its row");
        // One bit of the ciphertext flipped (changing its last base64 character could leave the bytes as
        // they were: it may be 'A' already, or carry only padding bits).
        let (head, body) = sealed.rsplit_once('.').unwrap();
        let mut bytes = B64.decode(body).unwrap();
        bytes[0] ^= 1;
        let tampered = format!("{head}.{}", B64.encode(bytes));
        assert!(s.open("row-1", &tampered).is_err());
    }

    #[test]
    fn rotation_opens_old_values_and_says_they_are_stale() {
        let old = Sealer::new(A, &[]).unwrap();
        let sealed = old.seal("r", "secret").unwrap();
        let new = Sealer::new(B, &[A]).unwrap();
        assert_eq!(new.open("r", &sealed).unwrap(), ("secret".into(), true));
        let resealed = new.seal("r", "secret").unwrap();
        assert_eq!(new.open("r", &resealed).unwrap(), ("secret".into(), false));
        // Without the old key, old values cannot be opened — and the error says which key sealed them.
        let err = Sealer::new(B, &[]).unwrap().open("r", &sealed).unwrap_err();
        assert!(err.message.contains("GAIA_SECRET_KEY_PREVIOUS"));
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(Sealer::new("short", &[]).is_err());
        assert!(Sealer::new(&"ab".repeat(31), &[]).is_err());
        let e = Sealer::new(A, &["nope"]).unwrap_err();
        assert!(e.starts_with("GAIA_SECRET_KEY_PREVIOUS"));
    }

    #[test]
    fn hints_show_the_last_four_characters() {
        assert_eq!(hint("sk-abcdefghij"), "…ghij");
        assert_eq!(hint("sk-abcdefgh"), "…");
        assert_eq!(hint("ab"), "…");
    }
}
