//! Vectors as OpenAI's `encoding_format: "base64"` writes them: the little-endian IEEE 754 `f32` bytes of
//! the vector in standard base64 (RFC 4648 alphabet, `=` padding), through the `base64` crate. Padding is
//! optional on the way in (some compatible servers leave it out); whitespace is not allowed.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard alphabet; writes padding, reads with or without it.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The vector's bytes (little-endian `f32`s) in padded standard base64.
pub(crate) fn encode_f32s(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    encode(&bytes)
}

/// The vector a base64 string of little-endian `f32`s holds, or `None` when it is not valid base64 or
/// its length is not a whole number of `f32`s.
pub(crate) fn decode_f32s(text: &str) -> Option<Vec<f32>> {
    let bytes = decode(text)?;
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

fn encode(bytes: &[u8]) -> String {
    ENGINE.encode(bytes)
}

fn decode(text: &str) -> Option<Vec<u8>> {
    ENGINE.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_encode_as_rfc_4648_says() {
        // RFC 4648, section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes(), "{encoded}");
        }
        // Padding is optional on the way in; every byte value survives.
        assert_eq!(decode("Zm9vYg").unwrap(), b"foob");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn malformed_base64_is_refused() {
        for bad in ["Zm9v!", "Z", "Zm9vY", "Zm 9v", "=Zm9", "Zm9v===="] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn vectors_round_trip_bit_exact() {
        let vector = [
            0.0f32,
            -0.0,
            1.0,
            -0.002_306_425_5,
            f32::MIN_POSITIVE,
            f32::MAX,
            f32::from_bits(1),
            f32::INFINITY,
            f32::NAN,
        ];
        let back = decode_f32s(&encode_f32s(&vector)).unwrap();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            vector.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        // 1.0f32 is 00 00 80 3f little-endian.
        assert_eq!(encode_f32s(&[1.0]), "AACAPw==");
        // Six bytes are not a whole number of f32s.
        assert_eq!(decode_f32s("Zm9vYmFy"), None);
    }
}
