//! The wire format: server frames parsed into [`ServerMessage`]s, client messages encoded to frames.
//!
//! Payloads are never turned into a tree here. A [`JsonObject`] is validated JSON text, so a payload travels
//! from the socket to its subscriber as the bytes the server sent.
//!
//! ```
//! use pondsocket_proto::wire::{parse_frame, Body};
//! let frame = r#"{"action":"BROADCAST","event":"hi","channelName":"/a","requestId":"r1","payload":{"n":1}}"#;
//! let message = parse_frame(frame).next().unwrap().unwrap();
//! assert_eq!(message.event, "hi");
//! assert!(matches!(message.body, Body::Object(ref p) if p.as_str() == r#"{"n":1}"#));
//! ```

use std::borrow::Cow;
use std::fmt;

use super::json::{decode_string, elements, members, push_string, JsonError, Scanner};

/// A JSON object kept as its validated text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonObject(Box<str>);

impl JsonObject {
    /// Validates `text` as one JSON object.
    ///
    /// # Errors
    /// [`FrameErrorKind::NotJson`] or [`FrameErrorKind::TooDeep`] if it is not JSON, [`FrameErrorKind::NotAnObject`]
    /// if it is JSON of another type.
    pub fn parse(text: &str) -> Result<Self, FrameErrorKind> {
        let value = Scanner::new(text).document()?;
        Self::from_raw(value).ok_or(FrameErrorKind::NotAnObject)
    }

    /// The empty object `{}`.
    pub fn empty() -> Self {
        JsonObject("{}".into())
    }

    /// The object's JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Deserializes the object into a Rust value.
    ///
    /// # Errors
    /// When the object does not have the shape of `T`.
    #[cfg(feature = "serde")]
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.0)
    }

    /// The text of the top-level member `name`, if there is one.
    pub(crate) fn member(&self, name: &str) -> Option<&str> {
        members(&self.0).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    /// The top-level member `name` if it is a string.
    pub(crate) fn string_member(&self, name: &str) -> Option<String> {
        decode_string(self.member(name)?).ok().map(Cow::into_owned)
    }

    /// Wraps JSON text a JSON serializer wrote (so valid by construction), if it is an object.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the JS API's JSON.stringify
    pub fn from_serialized(text: String) -> Option<Self> {
        text.starts_with('{').then(|| JsonObject(text.into_boxed_str()))
    }

    /// Wraps the text of a value the scanner validated, if it is an object.
    pub(crate) fn from_raw(value: &str) -> Option<Self> {
        value.starts_with('{').then(|| JsonObject(value.into()))
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

/// Which presence change a `PRESENCE` message reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceKind {
    Join,
    Leave,
    Update,
}

impl PresenceKind {
    /// The event name on the wire: `JOIN`, `LEAVE` or `UPDATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            PresenceKind::Join => "JOIN",
            PresenceKind::Leave => "LEAVE",
            PresenceKind::Update => "UPDATE",
        }
    }
}

/// A payload object the host parsed and keeps itself (a JS value): the core passes this token on unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostPayload(pub u32);

/// The payload of a message or a reply as the core delivers it.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// JSON text the core parsed.
    Json(JsonObject),
    /// The host's own value, from [`Body::Host`].
    Host(HostPayload),
}

impl Payload {
    /// The payload's JSON text, unless the host kept the payload itself.
    pub fn as_json(&self) -> Option<&JsonObject> {
        match self {
            Payload::Json(object) => Some(object),
            Payload::Host(_) => None,
        }
    }
}

/// What a server message carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Any message but presence: its payload object.
    Object(JsonObject),
    /// Any message whose payload the core does not read (see [`payload_is_read`]), parsed by the host.
    Host(HostPayload),
    /// A `PRESENCE` message: everyone present now, and the one presence that changed.
    Presence { kind: PresenceKind, presence: Vec<JsonObject>, changed: JsonObject },
}

/// One message from the server; its names borrow from the frame where they need no unescaping.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerMessage<'a> {
    pub action: ServerAction,
    pub event: Cow<'a, str>,
    pub channel_name: Cow<'a, str>,
    pub request_id: Option<Cow<'a, str>>,
    pub body: Body,
}

impl Body {
    /// The payload as the core delivers it; `None` for presence.
    pub(crate) fn into_payload(self) -> Option<Payload> {
        match self {
            Body::Object(object) => Some(Payload::Json(object)),
            Body::Host(host) => Some(Payload::Host(host)),
            Body::Presence { .. } => None,
        }
    }

    /// The payload's text where the core reads it; `{}` for a host payload (which [`payload_is_read`] keeps from
    /// reaching the places that read).
    pub(crate) fn object(&self) -> Option<JsonObject> {
        match self {
            Body::Object(object) => Some(object.clone()),
            Body::Host(_) => Some(JsonObject::empty()),
            Body::Presence { .. } => None,
        }
    }
}

/// Whether the core reads the payload of a message with this action, event and channel: connection acceptance,
/// errors, refusals, evictions, presence and anything about the connection itself. A host that parsed such a
/// message must hand the core its text ([`super::ClientCore::handle_frame`]); any other message may come as a
/// [`Body::Host`] through [`super::ClientCore::handle_message`].
pub fn payload_is_read(action: ServerAction, event: &str, channel_name: &str) -> bool {
    match action {
        ServerAction::Broadcast => channel_name == GATEWAY,
        ServerAction::System => {
            channel_name == GATEWAY || matches!(event, "ACKNOWLEDGE" | "UNAUTHORIZED" | "NOT_FOUND" | "EVICTED")
        }
        ServerAction::Connect | ServerAction::Error | ServerAction::Presence => true,
    }
}

/// The routing fields of one message as the shell's JS helper packs them after `JSON.parse`: `1` if there is a
/// requestId (else `0`), then action, event, channelName and the requestId, separated by NULs. A NUL inside a field
/// makes one part too many, and `None` sends the frame the text way.
pub fn unpack_envelope(packed: &str) -> Option<(ServerAction, &str, &str, Option<&str>)> {
    let with_request_id = packed.get(..1)? == "1";
    // Short fields: a closure makes a plain loop, which beats memchr's set-up.
    #[allow(clippy::manual_pattern_char_comparison)]
    let mut parts = packed.get(1..)?.split(|c: char| c == '\0');
    let (action, event, channel_name) = (parts.next()?, parts.next()?, parts.next()?);
    let request_id = if with_request_id { Some(parts.next()?) } else { None };
    if parts.next().is_some() {
        return None;
    }
    Some((ServerAction::from_wire(action)?, event, channel_name, request_id))
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
    /// Nested deeper than [`super::json::MAX_DEPTH`] levels.
    TooDeep,
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

impl From<JsonError> for FrameErrorKind {
    fn from(error: JsonError) -> Self {
        match error {
            JsonError::TooDeep => FrameErrorKind::TooDeep,
            other => FrameErrorKind::NotJson(other.to_string()),
        }
    }
}

impl fmt::Display for FrameErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameErrorKind::Empty => f.write_str("empty frame"),
            FrameErrorKind::Binary => f.write_str("binary frame (the protocol is JSON text)"),
            FrameErrorKind::NotJson(reason) => write!(f, "not JSON: {reason}"),
            FrameErrorKind::TooDeep => f.write_str("JSON nested too deeply"),
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

const EXCERPT_CHARS: usize = 80;

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Splits a frame into its newline-separated objects and parses each.
///
/// A frame of only white space yields one [`FrameErrorKind::Empty`]; blank lines between objects are skipped.
/// Each bad object is its own error, so the good ones of the same frame still get through.
pub fn parse_frame(frame: &str) -> impl Iterator<Item = Result<ServerMessage<'_>, FrameError>> + '_ {
    let empty = frame.trim().is_empty();
    let empty_error = empty.then(|| FrameError { kind: FrameErrorKind::Empty, excerpt: String::new() });
    let lines = frame.split('\n').filter(move |line| !empty && !line.trim().is_empty());
    empty_error
        .into_iter()
        .map(Err)
        .chain(lines.map(|line| parse_message(line).map_err(|kind| FrameError { kind, excerpt: excerpt(line) })))
}

/// Parses one JSON object of a frame, in a single pass over its text.
///
/// # Errors
/// The first thing wrong with it, checked in the order: JSON, object, fields, action, payload.
pub fn parse_message(text: &str) -> Result<ServerMessage<'_>, FrameErrorKind> {
    const KEYS: [&str; 5] = ["action", "event", "channelName", "requestId", "payload"];
    let mut fields: [Option<&str>; 5] = [None; 5];
    let is_object = Scanner::new(text).object_document(|key, value| {
        if let Some(slot) = KEYS.iter().position(|k| *k == key) {
            if fields[slot].replace(value).is_some() {
                return Err(JsonError::DuplicateKey(KEYS[slot]));
            }
        }
        Ok(())
    })?;
    if !is_object {
        return Err(FrameErrorKind::NotAnObject);
    }
    // `null` counts as absent, as it would for an optional field.
    let [action, event, channel_name, request_id, payload] = fields.map(|f| f.filter(|v| *v != "null"));

    let action_text = required_string(action, "action")?;
    let event = required_string(event, "event")?;
    let channel_name = required_string(channel_name, "channelName")?;
    let request_id = request_id.map(|value| string(value, "requestId")).transpose()?;
    let payload = payload.ok_or(FrameErrorKind::MissingField("payload"))?;
    let action =
        ServerAction::from_wire(&action_text).ok_or_else(|| FrameErrorKind::UnknownAction(action_text.into_owned()))?;

    let body = if action == ServerAction::Presence {
        let kind = match &*event {
            "JOIN" => PresenceKind::Join,
            "LEAVE" => PresenceKind::Leave,
            "UPDATE" => PresenceKind::Update,
            _ => return Err(FrameErrorKind::UnknownPresenceEvent(event.into_owned())),
        };
        parse_presence(kind, payload)?
    } else {
        Body::Object(
            JsonObject::from_raw(payload)
                .ok_or(FrameErrorKind::WrongType { field: "payload", expected: "an object" })?,
        )
    };

    Ok(ServerMessage { action, event, channel_name, request_id, body })
}

fn parse_presence(kind: PresenceKind, payload: &str) -> Result<Body, FrameErrorKind> {
    if !payload.starts_with('{') {
        return Err(FrameErrorKind::WrongType { field: "payload", expected: "an object" });
    }
    let (mut list, mut changed) = (None, None);
    for (key, value) in members(payload) {
        match &*key {
            "presence" => list = list.or(Some(value)),
            "changed" => changed = changed.or(Some(value)),
            _ => {}
        }
    }
    let not_a_list = FrameErrorKind::BadPresence("`presence` must be an array of objects");
    let list = list.ok_or(FrameErrorKind::BadPresence("missing `presence`"))?;
    let changed = changed.ok_or(FrameErrorKind::BadPresence("missing `changed`"))?;
    if !list.starts_with('[') {
        return Err(not_a_list);
    }
    let presence =
        elements(list).into_iter().map(JsonObject::from_raw).collect::<Option<Vec<_>>>().ok_or(not_a_list)?;
    let changed = JsonObject::from_raw(changed).ok_or(FrameErrorKind::BadPresence("`changed` must be an object"))?;
    Ok(Body::Presence { kind, presence, changed })
}

fn required_string<'a>(value: Option<&'a str>, field: &'static str) -> Result<Cow<'a, str>, FrameErrorKind> {
    string(value.ok_or(FrameErrorKind::MissingField(field))?, field)
}

fn string<'a>(value: &'a str, field: &'static str) -> Result<Cow<'a, str>, FrameErrorKind> {
    if !value.starts_with('"') {
        return Err(FrameErrorKind::WrongType { field, expected: "a string" });
    }
    decode_string(value).map_err(|problem| FrameErrorKind::NotJson(format!("field `{field}`: {problem}")))
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

/// Encodes a client message as one JSON text frame.
pub(crate) fn encode_client_message(
    action: ClientAction,
    event: &str,
    channel_name: &str,
    request_id: &str,
    payload: &JsonObject,
) -> String {
    let mut frame = String::with_capacity(80 + event.len() + channel_name.len() + request_id.len() + payload.0.len());
    frame.push_str(r#"{"action":""#);
    frame.push_str(action.as_str());
    frame.push_str(r#"","event":"#);
    push_string(&mut frame, event);
    frame.push_str(r#","channelName":"#);
    push_string(&mut frame, channel_name);
    frame.push_str(r#","requestId":"#);
    push_string(&mut frame, request_id);
    frame.push_str(r#","payload":"#);
    frame.push_str(&payload.0);
    frame.push('}');
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_messages_are_valid_json_with_escapes() {
        let payload = JsonObject::parse(r#"{"a":[1,2]}"#).unwrap();
        let frame = encode_client_message(ClientAction::Broadcast, "we\"ird\n\u{1}", "/c", "id", &payload);
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["event"], "we\"ird\n\u{1}");
        assert_eq!(value["action"], "BROADCAST");
        assert_eq!(value["payload"]["a"][1], 2);
    }

    #[test]
    fn packed_envelopes_unpack_or_go_the_text_way() {
        let broadcast = Some((ServerAction::Broadcast, "e", "/c", None));
        assert_eq!(unpack_envelope("0BROADCAST\0e\0/c"), broadcast);
        assert_eq!(unpack_envelope("1SYSTEM\0e\0/c\0r1"), Some((ServerAction::System, "e", "/c", Some("r1"))));
        assert_eq!(unpack_envelope("1SYSTEM\0\0\0"), Some((ServerAction::System, "", "", Some(""))));
        for text_way in [
            "",
            "0",
            "0BROADCAST\0e",
            "0BROADCAST\0e\0/c\0r",
            "1BROADCAST\0e\0/c",
            "0PING\0e\0/c",
            "0BROADCAST\0a\0b\0/c",
            "1BROADCAST\0e\0/c\0r\0x",
            "é",
        ] {
            assert_eq!(unpack_envelope(text_way), None, "{text_way:?}");
        }
    }

    #[test]
    fn payloads_the_core_reads() {
        use ServerAction::*;
        for (action, event, channel, read) in [
            (Broadcast, "m", "/c", false),
            (System, "reply", "/c", false),
            (System, "EXIT_ACKNOWLEDGE", "/c", false),
            (Broadcast, "m", "GATEWAY", true),
            (System, "ACKNOWLEDGE", "/c", true),
            (System, "UNAUTHORIZED", "/c", true),
            (System, "NOT_FOUND", "/c", true),
            (System, "EVICTED", "/c", true),
            (Error, "x", "/c", true),
            (Presence, "JOIN", "/c", true),
            (Connect, "CONNECTION", "GATEWAY", true),
        ] {
            assert_eq!(payload_is_read(action, event, channel), read, "{action:?} {event} {channel}");
        }
    }

    #[test]
    fn excerpt_is_cut_on_a_char_boundary() {
        let long = "é".repeat(200);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
    }
}
