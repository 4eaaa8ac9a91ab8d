//! Text every database can store.
//!
//! PostgreSQL refuses NUL in text (`invalid byte sequence for encoding "UTF8": 0x00`), and every column has
//! a width. Text the gateway records on its own — from a request (the model asked for) or an upstream
//! (model names of a synced catalog) — must never make a row unstorable, or one hostile request would stall
//! the rows written with it. [`storable`] makes any text fit: control characters are written out as
//! `\u{…}` escapes (visible in the request log, unlike a silent removal), then the text is cut at a
//! character boundary to the column's width. Text an operator types into the admin API is validated
//! instead, with a 400 naming the field (`gaia-orgs::validation`): there, changing it silently would be
//! worse than refusing it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` made storable in a column of `max_chars` characters: control characters (C0, DEL, C1; NUL among
/// them) escaped as `\u{…}`, then cut at a character boundary. Borrows when nothing changes.
pub fn storable(s: &str, max_chars: usize) -> Cow<'_, str> {
    // The common case — short printable ASCII (ids, model names) — is one vectorised pass over the bytes
    // and no allocation: a byte count is then the character count.
    if s.len() <= max_chars && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    let clean = !s.chars().any(char::is_control);
    if clean && s.len() <= max_chars {
        return Cow::Borrowed(s);
    }
    let escaped: Cow<'_, str> = if clean {
        Cow::Borrowed(s)
    } else {
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            if c.is_control() {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    };
    match escaped.char_indices().nth(max_chars) {
        Some((cut, _)) => Cow::Owned(escaped[..cut].to_owned()),
        None => escaped,
    }
}

/// [`storable`], owned.
pub fn storable_owned(s: &str, max_chars: usize) -> String {
    storable(s, max_chars).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_short_text_is_borrowed_unchanged() {
        assert!(matches!(storable("openai/gpt-4o", 256), Cow::Borrowed(_)));
        assert!(matches!(storable("团队 🚀", 5), Cow::Borrowed(_)));
    }

    #[test]
    fn nul_and_other_control_characters_are_escaped_visibly() {
        assert_eq!(storable("a\u{0}b", 64), "a\\u{0}b");
        assert_eq!(storable("x\ny\u{7f}\u{85}", 64), "x\\u{a}y\\u{7f}\\u{85}");
        assert!(
            !storable("\u{0}\u{1}\u{1f}", 64)
                .chars()
                .any(char::is_control)
        );
    }

    #[test]
    fn text_is_cut_at_a_character_boundary_to_the_width_in_characters() {
        let four_byte = "🚀".repeat(300);
        let cut = storable(&four_byte, 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.chars().all(|c| c == '🚀'));
        // Escapes count too: the result never passes the width.
        let nuls = "\u{0}".repeat(100);
        assert_eq!(storable(&nuls, 64).chars().count(), 64);
    }
}
