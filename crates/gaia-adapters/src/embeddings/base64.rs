//! Vectors as OpenAI's `encoding_format: "base64"` writes them: the little-endian IEEE 754 `f32` bytes of
//! the vector in standard base64 (RFC 4648 alphabet, `=` padding). Written here because the workspace has
//! no base64 dependency and this crate depends on `serde` and `serde_json` only; both directions are a
//! few lines and bit-exact.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The vector's bytes (little-endian `f32`s) in padded standard base64.
pub(crate) fn encode_f32s(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    encode(&bytes)
}

/// The vector a base64 string of little-endian `f32`s holds, or `None` when it is not valid base64 or
/// its length is not a whole number of `f32`s. Padding is optional; whitespace is not allowed.
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
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    let value = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let data = text.as_bytes();
    let data = data
        .strip_suffix(b"==")
        .or_else(|| data.strip_suffix(b"="))
        .unwrap_or(data);
    // With its padding, the text must have been a whole number of 4-character groups.
    if data.len() != text.len() && !text.len().is_multiple_of(4) {
        return None;
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for group in data.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in group.iter().enumerate() {
            n |= sextet(c)? << (18 - 6 * i);
        }
        let [_, b0, b1, b2] = n.to_be_bytes();
        out.push(b0);
        if group.len() > 2 {
            out.push(b1);
        }
        if group.len() > 3 {
            out.push(b2);
        }
    }
    Some(out)
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
        for bad in ["Zm9v!", "Z", "Zm9vY", "Zg=", "Zm 9v", "=Zm9", "Zm9v===="] {
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
