//! The `text/event-stream` parser for the SSE transport: bytes in, events out, as the HTML standard's "event stream
//! interpretation" reads them (a leading BOM, CR/LF/CRLF line ends, comments, multi-line `data`, `event`, `id` and
//! `retry` fields), whatever the chunks: split anywhere, even inside a UTF-8 character or between a CR and its LF.
//!
//! ```
//! use pondsocket_proto::sse::EventStreamParser;
//! let mut parser = EventStreamParser::default();
//! let mut events = Vec::new();
//! for chunk in ["event: CONNECTION\r\nda", "ta: {\"a\":1}\r\n\r\n"] {
//!     parser.feed(chunk.as_bytes(), |event| events.push((event.event.to_owned(), event.data.to_owned())));
//! }
//! assert_eq!(events, [("CONNECTION".to_owned(), "{\"a\":1}".to_owned())]);
//! ```

/// One dispatched event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event` field, or `"message"` when there was none.
    pub event: &'a str,
    /// The `data` fields, joined with `\n`.
    pub data: &'a str,
    /// The last `id` field seen on the stream (it carries over to later events).
    pub last_event_id: &'a str,
}

/// An event stream being read. Keeps at most one unfinished line and one unfinished event.
#[derive(Debug, Default)]
pub struct EventStreamParser {
    /// The bytes of the line not yet ended.
    line: Vec<u8>,
    /// The previous chunk ended with a CR: an LF at the start of this one belongs to it.
    after_cr: bool,
    /// A line has been read, so a BOM can no longer start the stream.
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    id: String,
    retry: Option<u64>,
}

impl EventStreamParser {
    /// Reads `chunk`, calling `each` for every event it completes.
    pub fn feed(&mut self, chunk: &[u8], mut each: impl FnMut(SseEvent<'_>)) {
        // Checked splits only: no index can panic (and bring its messages into a wasm build).
        let Some((&first, after_first)) = chunk.split_first() else { return };
        let mut rest = if self.after_cr && first == b'\n' { after_first } else { chunk };
        self.after_cr = false;
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let Some((text, tail)) = rest.split_at_checked(end) else { break };
            let Some((&terminator, mut tail)) = tail.split_first() else { break };
            if terminator == b'\r' {
                match tail.split_first() {
                    Some((b'\n', after_lf)) => tail = after_lf,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            self.line.extend_from_slice(text);
            rest = tail;
            let line = std::mem::take(&mut self.line);
            self.line_ended(&line, &mut each);
            // The buffer's capacity is kept for the next line.
            self.line = line;
            self.line.clear();
        }
        self.line.extend_from_slice(rest);
    }

    /// The `retry` field's value, the reconnection delay in milliseconds the server asked for, if it sent one.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    // Byte by byte, decoding only values: CR and LF never occur inside a UTF-8 sequence, so decoding a line's value
    // is decoding the stream, and field names are ASCII. (No `str` slicing: it would bring its panic messages.)
    fn line_ended(&mut self, mut line: &[u8], each: &mut impl FnMut(SseEvent<'_>)) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        let mut parts = line.splitn(2, |&b| b == b':');
        let field = parts.next().unwrap_or_default();
        let value = parts.next().map(|v| v.strip_prefix(b" ").unwrap_or(v)).unwrap_or_default();
        match field {
            b"" if line.is_empty() => self.dispatch(each),
            b"event" => {
                self.event.clear();
                self.event.push_str(&String::from_utf8_lossy(value));
            }
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
                self.has_data = true;
            }
            b"id" if !value.contains(&0) => {
                self.id.clear();
                self.id.push_str(&String::from_utf8_lossy(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')));
                self.retry = Some(ms);
            }
            // A comment (an empty field name), or a field the standard does not know.
            _ => {}
        }
    }

    fn dispatch(&mut self, each: &mut impl FnMut(SseEvent<'_>)) {
        if self.has_data {
            let event = if self.event.is_empty() { "message" } else { &self.event };
            each(SseEvent { event, data: &self.data, last_event_id: &self.id });
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
    }
}
