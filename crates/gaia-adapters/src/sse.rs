//! An incremental server-sent-events parser.
//!
//! Upstream bodies arrive as arbitrary byte chunks: a chunk may end in the middle of a line, between the
//! `\r` and `\n` of a line break, or inside a multi-byte UTF-8 character. The parser keeps the unfinished
//! line as bytes and only decodes complete lines (line breaks are ASCII, so a complete line never splits a
//! character), which makes the output independent of where the chunks were cut.
//!
//! It follows the WHATWG event-stream rules that matter to LLM providers: `\n`, `\r\n` and `\r` line
//! breaks, `:` comment lines (keep-alives), multi-line `data:` joined with `\n`, an optional single space
//! after the colon, a leading BOM, and no dispatch for events without data. `id:` and `retry:` are ignored:
//! provider streams cannot be resumed.
//!
//! Memory is bounded: a line or event larger than [`SseParser::max_event_bytes`] is an error, so a broken
//! or hostile upstream cannot make the gateway buffer without limit.

use std::borrow::Cow;

use gaia_core::GaiaError;

/// 16 MiB: far above any real provider event (a large tool-call argument chunk is kilobytes).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// An event with data and an optional name (handy in tests and encoders).
    pub fn new(event: Option<&str>, data: impl Into<String>) -> Self {
        Self {
            event: event.map(str::to_owned),
            data: data.into(),
        }
    }

    /// The event type, `message` when unnamed (as browsers report it).
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// The parser: feed it chunks with [`push`](Self::push), then call [`finish`](Self::finish) at the end.
#[derive(Debug, Clone)]
pub struct SseParser {
    max_event_bytes: usize,
    /// The current, unterminated line.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a leading `\n` in the next chunk belongs to that line break.
    skip_lf: bool,
    /// Whether the first line (which may carry a BOM) has been seen.
    seen_first_line: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that rejects events (and lines) larger than `max_event_bytes`.
    pub fn with_max_event_bytes(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            line: Vec::new(),
            skip_lf: false,
            seen_first_line: false,
            event: None,
            data: String::new(),
            has_data: false,
        }
    }

    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// Feeds one chunk and returns the events it completed (often none, sometimes several).
    ///
    /// A line that lies wholly inside `chunk` is read where it is; only a line cut by the chunk's end is
    /// copied, to be completed by the next chunk.
    ///
    /// After an error the parser has discarded its buffers; the stream should be abandoned.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, GaiaError> {
        let mut events = Vec::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.skip_lf {
                self.skip_lf = false;
                if let Some((b'\n', tail)) = rest.split_first() {
                    rest = tail;
                    continue;
                }
            }
            let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.extend_line(rest)?;
                break;
            };
            let (line, tail) = rest.split_at(pos);
            self.skip_lf = tail.first() == Some(&b'\r');
            rest = tail.get(1..).unwrap_or_default();
            let event = if self.line.is_empty() {
                self.check_size(line.len())?;
                self.end_line(line)?
            } else {
                self.extend_line(line)?;
                let mut pending = std::mem::take(&mut self.line);
                let event = self.end_line(&pending);
                // Reuse the allocation for the next cut line.
                pending.clear();
                self.line = pending;
                event?
            };
            if let Some(event) = event {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Ends the stream, dispatching a last event whose terminating blank line never came.
    ///
    /// The spec drops such an event; we keep it because some servers close the connection right after
    /// the final `data:` line, and losing the final chunk (often the usage) is worse than being lenient.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, GaiaError> {
        self.skip_lf = false;
        let pending = if self.line.is_empty() {
            None
        } else {
            let line = std::mem::take(&mut self.line);
            self.end_line(&line)?
        };
        Ok(pending.or_else(|| self.dispatch()))
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), GaiaError> {
        self.check_size(bytes.len())?;
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Refuses `more` bytes of line when the unfinished line and event would outgrow the bound.
    fn check_size(&mut self, more: usize) -> Result<(), GaiaError> {
        if self.line.len() + more + self.data.len() > self.max_event_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn too_large(&mut self) -> GaiaError {
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
        self.event = None;
        GaiaError::upstream(format!(
            "upstream sent a server-sent event larger than {} bytes",
            self.max_event_bytes
        ))
        .with_code("upstream_event_too_large")
    }

    /// Interprets a completed line (without its line break); returns an event when the line was the blank
    /// dispatching one.
    fn end_line(&mut self, mut bytes: &[u8]) -> Result<Option<SseEvent>, GaiaError> {
        if !self.seen_first_line {
            self.seen_first_line = true;
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if bytes.is_empty() {
            return Ok(self.dispatch());
        }
        let (field, value) = match memchr::memchr(b':', bytes) {
            Some(0) => return Ok(None), // a comment
            Some(colon) => {
                let value = &bytes[colon + 1..];
                (&bytes[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (bytes, &b""[..]),
        };
        match field {
            b"data" => {
                // Valid UTF-8 (every real stream) is copied as it is; anything else is mended, not refused.
                let value = match std::str::from_utf8(value) {
                    Ok(value) => Cow::Borrowed(value),
                    Err(_) => String::from_utf8_lossy(value),
                };
                if self.data.len() + value.len() + 1 > self.max_event_bytes {
                    return Err(self.too_large());
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            _ => {} // id, retry and unknown fields
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(parser.push(chunk).unwrap());
        }
        events.extend(parser.finish().unwrap());
        events
    }

    #[test]
    fn named_events_and_data_are_parsed() {
        let events =
            parse_all(&[b"event: message_start\ndata: {\"a\":1}\n\nevent: ping\ndata: {}\n\n"]);
        assert_eq!(
            events,
            vec![
                SseEvent::new(Some("message_start"), "{\"a\":1}"),
                SseEvent::new(Some("ping"), "{}"),
            ]
        );
        assert_eq!(events[0].event_type(), "message_start");
    }

    #[test]
    fn crlf_and_lone_cr_line_breaks_are_accepted() {
        let events = parse_all(&[b"data: one\r\n\r\ndata: two\r\rdata: three\n\n"]);
        let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["one", "two", "three"]);
        assert_eq!(events[0].event_type(), "message");
    }

    #[test]
    fn comments_are_skipped_and_multi_line_data_is_joined() {
        let events = parse_all(&[b": keep-alive\ndata: a\ndata:b\ndata:  c\n\n"]);
        assert_eq!(events, vec![SseEvent::new(None, "a\nb\n c")]);
    }

    #[test]
    fn events_without_data_are_not_dispatched_and_do_not_leak_their_name() {
        let events = parse_all(&[b"event: lonely\n\ndata: x\n\n"]);
        assert_eq!(events, vec![SseEvent::new(None, "x")]);
    }

    #[test]
    fn an_empty_data_field_dispatches_an_empty_event() {
        assert_eq!(parse_all(&[b"data:\n\n"]), vec![SseEvent::new(None, "")]);
    }

    #[test]
    fn a_leading_bom_is_ignored() {
        let events = parse_all(&[b"\xEF\xBB", b"\xBFdata: x\n\n"]);
        assert_eq!(events, vec![SseEvent::new(None, "x")]);
    }

    #[test]
    fn invalid_utf8_is_mended_whether_the_line_is_whole_or_cut() {
        let whole = parse_all(&[b"event: d\xFFx\ndata: a\xFFb\n\n"]);
        let cut = parse_all(&[b"event: d\xFF", b"x\ndata: a\xFF", b"b\n\n"]);
        assert_eq!(whole, vec![SseEvent::new(Some("d\u{FFFD}x"), "a\u{FFFD}b")]);
        assert_eq!(cut, whole);
        // A field without a colon has an empty value; a field name that is not valid UTF-8 is unknown.
        assert_eq!(
            parse_all(&[b"data\nda\xFFta: no\n\n"]),
            vec![SseEvent::new(None, "")]
        );
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_line_break() {
        let events = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(events, vec![SseEvent::new(None, "a\nb")]);
    }

    #[test]
    fn multi_byte_characters_split_across_chunks_survive() {
        let text = "data: héllo 世界 🎉\n\n".as_bytes();
        let mut chunks: Vec<&[u8]> = Vec::new();
        for i in 0..text.len() {
            chunks.push(&text[i..i + 1]);
        }
        assert_eq!(
            parse_all(&chunks),
            vec![SseEvent::new(None, "héllo 世界 🎉")]
        );
    }

    #[test]
    fn a_final_event_without_a_blank_line_is_dispatched_at_finish() {
        assert_eq!(
            parse_all(&[b"data: last"]),
            vec![SseEvent::new(None, "last")]
        );
        assert_eq!(
            parse_all(&[b"data: last\n"]),
            vec![SseEvent::new(None, "last")]
        );
        assert!(parse_all(&[b": only a comment"]).is_empty());
    }

    #[test]
    fn oversized_events_are_errors_not_unbounded_buffers() {
        let mut parser = SseParser::with_max_event_bytes(16);
        let err = parser.push(b"data: 0123456789abcdef").unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (502, "upstream_event_too_large")
        );

        let mut parser = SseParser::with_max_event_bytes(16);
        parser.push(b"data: 0123456789\n").unwrap();
        assert!(parser.push(b"data: 0123456789\n").is_err());

        let mut parser = SseParser::with_max_event_bytes(16);
        parser.push(b"data: small\n\n").unwrap();
        assert_eq!(parser.max_event_bytes(), 16);
    }

    #[test]
    fn the_parser_discards_an_oversized_event_and_resumes_at_the_next_line() {
        let mut parser = SseParser::with_max_event_bytes(8);
        assert!(parser.push(b"data: far too long\n").is_err());
        assert_eq!(
            parser.push(b"\ndata: ok\n\n").unwrap(),
            vec![SseEvent::new(None, "ok")]
        );
    }

    const TRANSCRIPT: &str = "event: message_start\r\ndata: {\"type\":\"message_start\",\"text\":\"héllo\"}\r\n\r\n\
        : ping\n\
        event: content_block_delta\ndata: {\"t\":\"世界\"}\n\n\
        data: line one\rdata: line two 🎉\r\r\
        event: message_stop\ndata: {}\n\n\
        data: [DONE]\n\n";

    fn split_at_positions(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
        cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts {
            chunks.push(&bytes[start..cut]);
            start = cut;
        }
        chunks.push(&bytes[start..]);
        chunks
    }

    proptest! {
        #[test]
        fn splitting_a_transcript_anywhere_yields_the_same_events(
            cuts in proptest::collection::vec(0usize..10_000, 0..40)
        ) {
            let whole = parse_all(&[TRANSCRIPT.as_bytes()]);
            prop_assert_eq!(whole.len(), 5);
            let chunks = split_at_positions(TRANSCRIPT.as_bytes(), cuts);
            prop_assert_eq!(parse_all(&chunks), whole);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_respect_the_bound(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)
        ) {
            let mut parser = SseParser::with_max_event_bytes(256);
            for chunk in &chunks {
                if let Ok(events) = parser.push(chunk) {
                    for event in events {
                        prop_assert!(event.data.len() <= 256);
                    }
                }
            }
            let _ = parser.finish();
        }
    }
}
