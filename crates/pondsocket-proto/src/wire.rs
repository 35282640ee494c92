//! The wire format: what a server message is once the host parsed it, how a rejected one is described, and how a
//! client message is written.
//!
//! The core parses no JSON: the host does (`JSON.parse` in a browser, `serde_json` for Rust payloads, see
//! [`crate::json`]) and hands over [`ServerMessage`]s whose payload stays in the host's form ([`Payload`]). Event
//! names are turned into a [`ServerEvent`] once, here, so that routing matches on an enum and never on strings.

use std::borrow::Cow;
use std::fmt;

use crate::payload::Payload;

/// The `action` of a server message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerAction {
    Connect,
    System,
    Broadcast,
    Error,
    Presence,
}

impl ServerAction {
    /// The action of that name on the wire (`CONNECT`, `SYSTEM`, `BROADCAST`, `ERROR`, `PRESENCE`).
    pub fn from_wire(text: &str) -> Option<Self> {
        Some(match text {
            "CONNECT" => ServerAction::Connect,
            "SYSTEM" => ServerAction::System,
            "BROADCAST" => ServerAction::Broadcast,
            "ERROR" => ServerAction::Error,
            "PRESENCE" => ServerAction::Presence,
            _ => return None,
        })
    }
}

/// The `event` of a server message: the names the protocol gives a meaning, or any other (a handler's reply, a
/// broadcast). A name is only a name: a reply called `ACKNOWLEDGE` still answers its request, since requests are
/// matched by requestId first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent<'a> {
    Acknowledge,
    Unauthorized,
    NotFound,
    Evicted,
    ExitAcknowledge,
    Other(Cow<'a, str>),
}

impl<'a> ServerEvent<'a> {
    /// Parses an event name.
    pub fn parse(name: impl Into<Cow<'a, str>>) -> Self {
        let name = name.into();
        match &*name {
            "ACKNOWLEDGE" => ServerEvent::Acknowledge,
            "UNAUTHORIZED" => ServerEvent::Unauthorized,
            "NOT_FOUND" => ServerEvent::NotFound,
            "EVICTED" => ServerEvent::Evicted,
            "EXIT_ACKNOWLEDGE" => ServerEvent::ExitAcknowledge,
            _ => ServerEvent::Other(name),
        }
    }

    /// The name as it was on the wire.
    pub fn name(&self) -> &str {
        match self {
            ServerEvent::Acknowledge => "ACKNOWLEDGE",
            ServerEvent::Unauthorized => "UNAUTHORIZED",
            ServerEvent::NotFound => "NOT_FOUND",
            ServerEvent::Evicted => "EVICTED",
            ServerEvent::ExitAcknowledge => "EXIT_ACKNOWLEDGE",
            ServerEvent::Other(name) => name,
        }
    }

    /// The name as an owned string.
    pub fn into_owned(self) -> String {
        match self {
            ServerEvent::Other(name) => name.into_owned(),
            known => known.name().to_owned(),
        }
    }
}

/// Which presence change a `PRESENCE` message reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceKind {
    Join,
    Leave,
    Update,
}

impl PresenceKind {
    /// The kind of that event name: `JOIN`, `LEAVE` or `UPDATE`.
    pub fn from_wire(text: &str) -> Option<Self> {
        Some(match text {
            "JOIN" => PresenceKind::Join,
            "LEAVE" => PresenceKind::Leave,
            "UPDATE" => PresenceKind::Update,
            _ => return None,
        })
    }

    /// The event name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            PresenceKind::Join => "JOIN",
            PresenceKind::Leave => "LEAVE",
            PresenceKind::Update => "UPDATE",
        }
    }
}

/// What a server message carries, as the host parsed it.
#[derive(Clone, Debug, PartialEq)]
pub enum Body<P: Payload> {
    /// Any message but presence: its payload object.
    Payload(P),
    /// A `PRESENCE` message: everyone present now, and the one presence that changed.
    Presence { kind: PresenceKind, presence: P::List, changed: P },
}

/// One message from the server; its names may borrow from the host's buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerMessage<'a, P: Payload> {
    pub action: ServerAction,
    pub event: ServerEvent<'a>,
    pub channel_name: Cow<'a, str>,
    pub request_id: Option<Cow<'a, str>>,
    pub body: Body<P>,
}

impl<'a, P: Payload> ServerMessage<'a, P> {
    /// A message from its envelope's fields as the host read them, checked the way every host checks them: a known
    /// action, and for `PRESENCE` a known presence event (`presence` then splits the payload, or says what is wrong).
    ///
    /// # Errors
    /// [`FrameErrorKind::UnknownAction`], [`FrameErrorKind::UnknownPresenceEvent`], or what `presence` returned.
    pub fn from_envelope(
        action: &str,
        event: impl Into<Cow<'a, str>>,
        channel_name: impl Into<Cow<'a, str>>,
        request_id: Option<Cow<'a, str>>,
        payload: P,
        presence: impl FnOnce(&P) -> Result<(P::List, P), FrameErrorKind>,
    ) -> Result<Self, FrameErrorKind> {
        let action = ServerAction::from_wire(action).ok_or_else(|| FrameErrorKind::UnknownAction(action.into()))?;
        let event = event.into();
        let body = if action == ServerAction::Presence {
            let kind = PresenceKind::from_wire(&event)
                .ok_or_else(|| FrameErrorKind::UnknownPresenceEvent(event.clone().into_owned()))?;
            let (list, changed) = presence(&payload)?;
            Body::Presence { kind, presence: list, changed }
        } else {
            Body::Payload(payload)
        };
        Ok(ServerMessage {
            action,
            event: ServerEvent::parse(event),
            channel_name: channel_name.into(),
            request_id,
            body,
        })
    }
}

/// The channel name of messages about the connection itself.
pub(crate) const GATEWAY: &str = "GATEWAY";

/// Why one object of a frame was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameErrorKind {
    /// The frame held nothing but white space.
    Empty,
    /// A binary frame: the protocol is text only.
    Binary,
    /// Not valid JSON; the parser's message.
    NotJson(String),
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A required field is absent or `null`.
    MissingField(&'static str),
    /// A field has the wrong JSON type.
    WrongType { field: &'static str, expected: &'static str },
    /// An `action` this client does not know.
    UnknownAction(String),
    /// A `PRESENCE` message whose event is not `JOIN`, `LEAVE` or `UPDATE`.
    UnknownPresenceEvent(String),
    /// A `PRESENCE` payload that is not `{presence: [object...], changed: object}`.
    BadPresence(&'static str),
}

impl fmt::Display for FrameErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameErrorKind::Empty => f.write_str("empty frame"),
            FrameErrorKind::Binary => f.write_str("binary frame (the protocol is JSON text)"),
            FrameErrorKind::NotJson(reason) => write!(f, "not JSON: {reason}"),
            FrameErrorKind::NotAnObject => f.write_str("not a JSON object"),
            FrameErrorKind::MissingField(field) => write!(f, "missing field `{field}`"),
            FrameErrorKind::WrongType { field, expected } => write!(f, "field `{field}` is not {expected}"),
            FrameErrorKind::UnknownAction(action) => write!(f, "unknown action \"{action}\""),
            FrameErrorKind::UnknownPresenceEvent(event) => write!(f, "unknown presence event \"{event}\""),
            FrameErrorKind::BadPresence(reason) => write!(f, "malformed presence payload: {reason}"),
        }
    }
}

/// One rejected object of a frame, with the start of its text for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    pub kind: FrameErrorKind,
    pub excerpt: String,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.excerpt.is_empty() {
            write!(f, "malformed frame: {}", self.kind)
        } else {
            write!(f, "malformed frame: {} in \"{}\"", self.kind, self.excerpt)
        }
    }
}

/// The `action` of a client message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAction {
    JoinChannel,
    LeaveChannel,
    Broadcast,
}

impl ClientAction {
    fn as_str(self) -> &'static str {
        match self {
            ClientAction::JoinChannel => "JOIN_CHANNEL",
            ClientAction::LeaveChannel => "LEAVE_CHANNEL",
            ClientAction::Broadcast => "BROADCAST",
        }
    }
}

/// Encodes a client message as one JSON text frame; `payload` is the JSON text of an object, as the host's
/// serializer wrote it.
pub(crate) fn encode_client_message(
    action: ClientAction,
    event: &str,
    channel_name: &str,
    request_id: &str,
    payload: &str,
) -> String {
    let mut frame = String::with_capacity(80 + event.len() + channel_name.len() + request_id.len() + payload.len());
    frame.push_str(r#"{"action":""#);
    frame.push_str(action.as_str());
    frame.push_str(r#"","event":"#);
    push_string(&mut frame, event);
    frame.push_str(r#","channelName":"#);
    push_string(&mut frame, channel_name);
    frame.push_str(r#","requestId":"#);
    push_string(&mut frame, request_id);
    frame.push_str(r#","payload":"#);
    frame.push_str(payload);
    frame.push('}');
    frame
}

/// Writes `text` as a JSON string literal.
fn push_string(out: &mut String, text: &str) {
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

/// `n` in decimal, without `core::fmt` (which the npm build leaves out).
pub(crate) fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| d as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_messages_are_valid_json_with_escapes() {
        let frame = encode_client_message(ClientAction::Broadcast, "we\"ird\n\u{1}", "/c", "id", r#"{"a":[1,2]}"#);
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["event"], "we\"ird\n\u{1}");
        assert_eq!(value["action"], "BROADCAST");
        assert_eq!(value["payload"]["a"][1], 2);
    }

    #[test]
    fn event_names_parse_once_and_keep_their_text() {
        for name in ["ACKNOWLEDGE", "UNAUTHORIZED", "NOT_FOUND", "EVICTED", "EXIT_ACKNOWLEDGE", "reply", ""] {
            assert_eq!(ServerEvent::parse(name).name(), name);
        }
        assert_eq!(ServerEvent::parse("ACKNOWLEDGE"), ServerEvent::Acknowledge);
        assert_eq!(ServerEvent::parse("acknowledge"), ServerEvent::Other("acknowledge".into()));
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 408, 30_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
