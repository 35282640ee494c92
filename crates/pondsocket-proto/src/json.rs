//! A JSON scanner: validates text in one pass and hands back where each value lies, decoding only strings.
//!
//! The client never needs a JSON tree: it reads a few routing fields and passes payloads on as text. Scanning
//! instead of building values keeps the wasm small and the work to a single pass over each frame.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// How deeply arrays and objects may nest, the message's own object included.
pub const MAX_DEPTH: usize = 128;

/// Why a text is not JSON the client accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// A syntax error: what was expected, and the character offset where it was not found.
    Syntax { expected: &'static str, at: usize },
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An object names this key twice where the client reads it.
    DuplicateKey(&'static str),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax { expected, at } => write!(f, "expected {expected} at character {}", at + 1),
            JsonError::TooDeep => f.write_str("nested too deeply"),
            JsonError::DuplicateKey(key) => write!(f, "duplicate key `{key}`"),
        }
    }
}

pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner { text, bytes: text.as_bytes(), pos: 0 }
    }

    fn error<T>(&self, expected: &'static str) -> Result<T, JsonError> {
        // Report a character offset, not a byte offset.
        let at = self.text.get(..self.pos).map_or(self.pos, |s| s.chars().count());
        Err(JsonError::Syntax { expected, at })
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8, expected: &'static str) -> Result<(), JsonError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            self.error(expected)
        }
    }

    /// The whole text as one value with nothing after it but white space.
    pub(crate) fn document(mut self) -> Result<&'a str, JsonError> {
        let range = self.value(0)?;
        self.finish()?;
        Ok(&self.text[range])
    }

    /// The whole text as one object, calling `member` with each key and the text of its value.
    ///
    /// # Errors
    /// A syntax error, excess depth, or what `member` returns. `Ok(false)` if the text is JSON but not an object.
    pub(crate) fn object_document(
        mut self,
        mut member: impl FnMut(Cow<'a, str>, &'a str) -> Result<(), JsonError>,
    ) -> Result<bool, JsonError> {
        self.skip_whitespace();
        if self.peek() != Some(b'{') {
            self.value(0)?;
            self.finish()?;
            return Ok(false);
        }
        self.object(1, &mut |key, range, text: &'a str| member(key, &text[range]))?;
        self.finish()?;
        Ok(true)
    }

    fn finish(&mut self) -> Result<(), JsonError> {
        self.skip_whitespace();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            self.error("the end of the text")
        }
    }

    /// Scans one value (after white space) at nesting `depth`, returning its byte range.
    fn value(&mut self, depth: usize) -> Result<Range<usize>, JsonError> {
        self.skip_whitespace();
        let start = self.pos;
        match self.peek() {
            Some(b'{') => self.object(depth + 1, &mut |_, _, _| Ok(()))?,
            Some(b'[') => self.array(depth + 1, &mut |_| Ok(()))?,
            Some(b'"') => self.string()?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            _ => return self.error("a value"),
        }
        Ok(start..self.pos)
    }

    fn object(
        &mut self,
        depth: usize,
        member: &mut dyn FnMut(Cow<'a, str>, Range<usize>, &'a str) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.eat(b'{', "`{`")?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            let key_start = self.pos;
            if self.peek() != Some(b'"') {
                return self.error("a string key");
            }
            self.string()?;
            let key = decode_string(&self.text[key_start..self.pos]).or_else(|_| self.error("a valid string key"))?;
            self.skip_whitespace();
            self.eat(b':', "`:`")?;
            let range = self.value(depth)?;
            member(key, range, self.text)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.error("`,` or `}`"),
            }
        }
    }

    fn array(
        &mut self,
        depth: usize,
        element: &mut dyn FnMut(Range<usize>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.eat(b'[', "`[`")?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let range = self.value(depth)?;
            element(range)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.error("`,` or `]`"),
            }
        }
    }

    fn string(&mut self) -> Result<(), JsonError> {
        self.eat(b'"', "`\"`")?;
        loop {
            self.skip_plain_string_bytes();
            match self.peek() {
                None => return self.error("the end of the string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
                        Some(b'u') => {
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return self.error("four hex digits after `\\u`");
                            }
                            self.pos += 5;
                        }
                        _ => return self.error("a valid escape"),
                    }
                }
                Some(0..=0x1f) => return self.error("no control character in a string"),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Skips string bytes that need no attention (not `"`, `\\` or a control character) eight at a time: payloads
    /// are mostly long strings, and this is where a large frame's scan spends its time.
    fn skip_plain_string_bytes(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            // A byte below 0x20, or equal to `"` or `\\`: some lane of these is zero, or has its high bit set.
            let special = x.wrapping_sub(ONES * 0x20) & !x & HIGHS
                | has_zero(x ^ (ONES * u64::from(b'"')))
                | has_zero(x ^ (ONES * u64::from(b'\\')));
            if special != 0 {
                return;
            }
            self.pos += 8;
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return self.error("a digit"),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return self.error("a digit after `.`");
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return self.error("a digit in the exponent");
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            self.error(word)
        }
    }
}

/// The members of an object the scanner already validated: each key with its value's text.
pub(crate) fn members(object: &str) -> Vec<(Cow<'_, str>, &str)> {
    let mut out = Vec::new();
    let mut scanner = Scanner::new(object);
    let _ = scanner.object(1, &mut |key, range, text| {
        out.push((key, &text[range]));
        Ok(())
    });
    out
}

/// The elements of an array the scanner already validated.
pub(crate) fn elements(array: &str) -> Vec<&str> {
    let mut ranges = Vec::new();
    let mut scanner = Scanner::new(array);
    let _ = scanner.array(1, &mut |range| {
        ranges.push(range);
        Ok(())
    });
    ranges.into_iter().map(|r| &array[r]).collect()
}

/// Decodes a JSON string literal (quotes included), borrowing when it has no escapes.
///
/// # Errors
/// A description of what is wrong: a lone surrogate, a bad escape, missing quotes.
pub(crate) fn decode_string(literal: &str) -> Result<Cow<'_, str>, &'static str> {
    let inner = literal.strip_prefix('"').and_then(|s| s.strip_suffix('"')).ok_or("not a string")?;
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let first = hex4(&mut chars)?;
                let code = match first {
                    0xd800..=0xdbff => {
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return Err("a lone surrogate in a string");
                        }
                        let second = hex4(&mut chars)?;
                        if !(0xdc00..=0xdfff).contains(&second) {
                            return Err("a lone surrogate in a string");
                        }
                        0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err("a lone surrogate in a string"),
                    code => code,
                };
                out.push(char::from_u32(code).ok_or("an invalid escape")?);
            }
            _ => return Err("an invalid escape"),
        }
    }
    Ok(Cow::Owned(out))
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, &'static str> {
    let mut value = 0;
    for _ in 0..4 {
        value = value * 16 + chars.next().and_then(|c| c.to_digit(16)).ok_or("an invalid \\u escape")?;
    }
    Ok(value)
}

/// A whole non-negative number below 2^32 (an HTTP-like status or code); `None` for anything else.
pub(crate) fn whole_number(literal: &str) -> Option<u32> {
    if literal.is_empty() || literal.len() > 10 || !literal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    literal.parse().ok()
}

/// Writes `text` as a JSON string literal.
pub(crate) fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> bool {
        Scanner::new(text).document().is_ok()
    }

    #[test]
    fn accepts_what_json_accepts() {
        for text in [
            "{}",
            "[]",
            "0",
            "-0",
            "1.5e-3",
            "-12E+4",
            "\"\"",
            "\"\\u00e9\\n\\/\"",
            "true",
            "false",
            "null",
            " { \"a\" : [ 1 , { \"b\" : null } ] } ",
            "[[[]]]",
            "\"\u{1f600}\"",
        ] {
            assert!(valid(text), "{text}");
        }
    }

    #[test]
    fn rejects_what_json_rejects() {
        for text in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "+1",
            "tru",
            "nul",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\nb\"",
            "[1 2]",
            "{\"a\" 1}",
            "{} {}",
            "NaN",
            "\"open",
        ] {
            assert!(!valid(text), "{text:?}");
        }
    }

    #[test]
    fn depth_is_limited() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(valid(&nested(MAX_DEPTH)));
        assert_eq!(Scanner::new(&nested(MAX_DEPTH + 1)).document(), Err(JsonError::TooDeep));
        assert_eq!(Scanner::new(&nested(100_000)).document(), Err(JsonError::TooDeep));
    }

    #[test]
    fn strings_decode_with_surrogate_pairs() {
        assert_eq!(decode_string(r#""a\"b\\c\u00e9\ud83d\ude00""#).unwrap(), "a\"b\\cé😀");
        assert!(matches!(decode_string(r#""plain""#), Ok(Cow::Borrowed("plain"))));
        assert!(decode_string(r#""\ud800""#).is_err());
        assert!(decode_string(r#""\ude00x""#).is_err());
    }

    #[test]
    fn members_and_elements_split_validated_text() {
        let members = members(r#"{"a":1,"b\u0021":{"c":[2]}}"#);
        assert_eq!(members, vec![(Cow::Borrowed("a"), "1"), (Cow::Owned("b!".to_owned()), r#"{"c":[2]}"#)]);
        assert_eq!(elements(r#"[ {"x":1} , 2 ]"#), vec![r#"{"x":1}"#, "2"]);
    }

    /// Differential: on random token soup, the scanner accepts exactly what serde_json accepts.
    #[test]
    fn agrees_with_serde_json() {
        const PIECES: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\"k\"",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "\"\\n\"",
            "\"\\q\"",
            "1",
            "-0",
            "2.5",
            "1e9",
            "01",
            "1.",
            "true",
            "null",
            "nul",
            "\"",
            "\\",
            "\u{7}",
            "é",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut agreed_valid = 0;
        for _ in 0..200_000 {
            let len = 1 + next(12);
            let text: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
            let ours = Scanner::new(&text).document().is_ok();
            // JSON's grammar has no limit on exponents (JSON.parse("1e999") is Infinity); serde_json refuses them
            // and stops there, so such a text says nothing either way.
            let theirs = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(_) => true,
                Err(e) if e.to_string().starts_with("number out of range") => continue,
                Err(_) => false,
            };
            assert_eq!(ours, theirs, "{text:?}");
            agreed_valid += usize::from(ours);
        }
        assert!(agreed_valid > 1_000, "the soup produced too few valid documents ({agreed_valid}) to mean much");
    }

    /// The eight-at-a-time skip stops for a quote, a backslash or a control character in any lane.
    #[test]
    fn long_strings_are_scanned_exactly() {
        for special in ["\\\"", "\\n", "\"", "\n", "\u{1f}", "é"] {
            for offset in 0..20 {
                let text = format!("\"{}{special}{}\"", "a".repeat(offset), "b".repeat(20 - offset));
                let ours = Scanner::new(&text).document().is_ok();
                let theirs = serde_json::from_str::<serde_json::Value>(&text).is_ok();
                assert_eq!(ours, theirs, "{text:?}");
            }
        }
    }

    #[test]
    fn strings_encode_to_valid_json() {
        let mut out = String::new();
        push_string(&mut out, "q\"\\\n\u{1}é");
        assert_eq!(out, r#""q\"\\\n\u0001é""#);
        assert_eq!(decode_string(&out).unwrap(), "q\"\\\n\u{1}é");
    }
}
