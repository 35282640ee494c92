//! JSON payloads for Rust hosts: [`JsonObject`], an object kept as the text the server sent, and [`decode_frame`],
//! which turns a text frame into [`ServerMessage`]s with `serde_json`.
//!
//! ```
//! use pondsocket_proto::json::decode_frame;
//! use pondsocket_proto::wire::Body;
//! let frame = r#"{"action":"BROADCAST","event":"hi","channelName":"/a","requestId":"r1","payload":{"n":1}}"#;
//! let message = decode_frame(frame).next().unwrap().unwrap();
//! assert_eq!(message.event.name(), "hi");
//! assert!(matches!(message.body, Body::Payload(ref p) if p.as_str() == r#"{"n":1}"#));
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::payload::Payload;
use crate::wire::{FrameError, FrameErrorKind, ServerMessage};

/// A JSON object kept as its text.
#[derive(Clone)]
pub struct JsonObject(Box<RawValue>);

impl JsonObject {
    /// Parses `text` as one JSON object.
    ///
    /// # Errors
    /// [`FrameErrorKind::NotJson`] if it is not JSON, [`FrameErrorKind::NotAnObject`]
    /// if it is JSON of another type.
    pub fn parse(text: &str) -> Result<Self, FrameErrorKind> {
        let raw: Box<RawValue> = serde_json::from_str(text).map_err(|e| not_json(&e))?;
        Self::from_raw(raw).ok_or(FrameErrorKind::NotAnObject)
    }

    /// The empty object `{}`.
    pub fn empty() -> Self {
        JsonObject(RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| unreachable!("{{}} is JSON")))
    }

    /// The object's JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Whether the two objects hold the same JSON value, whatever the order of their members or their spacing.
    pub fn same_value(&self, other: &Self) -> bool {
        self == other
            || matches!(
                (self.deserialize::<serde_json::Value>(), other.deserialize::<serde_json::Value>()),
                (Ok(a), Ok(b)) if a == b
            )
    }

    /// Deserializes the object into a Rust value.
    ///
    /// # Errors
    /// When the object does not have the shape of `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.0.get())
    }

    /// The object that `value` serializes to.
    ///
    /// # Errors
    /// When `value` cannot be serialized, or is not an object.
    pub fn from_serialize<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, FrameErrorKind> {
        let raw = serde_json::value::to_raw_value(value).map_err(|e| FrameErrorKind::NotJson(e.to_string()))?;
        Self::from_raw(raw).ok_or(FrameErrorKind::NotAnObject)
    }

    fn from_raw(raw: Box<RawValue>) -> Option<Self> {
        raw.get().starts_with('{').then_some(JsonObject(raw))
    }

    fn members(&self) -> HashMap<Cow<'_, str>, &RawValue> {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }
}

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JsonObject {}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Payload for JsonObject {
    type List = Rc<[JsonObject]>;

    fn string(&self, key: &str) -> Option<String> {
        serde_json::from_str(self.members().get(key)?.get()).ok()
    }

    fn whole_number(&self, key: &str) -> Option<u32> {
        serde_json::from_str(self.members().get(key)?.get()).ok()
    }

    fn object(&self, key: &str) -> Option<Self> {
        let raw: &RawValue = self.members().get(key)?;
        Self::from_raw(raw.to_owned())
    }

    fn json(&self, key: &str) -> Option<String> {
        Some(self.members().get(key)?.get().to_owned())
    }
}

fn not_json(error: &serde_json::Error) -> FrameErrorKind {
    FrameErrorKind::NotJson(error.to_string())
}

const EXCERPT_CHARS: usize = 80;

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => [&text[..end], "…"].concat(),
        None => text.to_owned(),
    }
}

/// Splits a text frame into its newline-separated objects and decodes each.
///
/// A frame of only white space yields one [`FrameErrorKind::Empty`]; blank lines between objects are skipped.
/// Each bad object is its own error, so the good ones of the same frame still get through.
pub fn decode_frame(frame: &str) -> impl Iterator<Item = Result<ServerMessage<'_, JsonObject>, FrameError>> + '_ {
    let empty = frame.trim().is_empty();
    let empty_error = empty.then(|| FrameError { kind: FrameErrorKind::Empty, excerpt: String::new() });
    let lines = frame.split('\n').filter(move |line| !empty && !line.trim().is_empty());
    empty_error
        .into_iter()
        .map(Err)
        .chain(lines.map(|line| decode_message(line).map_err(|kind| FrameError { kind, excerpt: excerpt(line) })))
}

/// Decodes one JSON object of a frame.
///
/// # Errors
/// The first thing wrong with it, checked in the order: JSON, object, fields, action, payload.
pub fn decode_message(text: &str) -> Result<ServerMessage<'_, JsonObject>, FrameErrorKind> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| not_json(&e))?;
    if !raw.get().starts_with('{') {
        return Err(FrameErrorKind::NotAnObject);
    }
    let fields: HashMap<Cow<'_, str>, &RawValue> = serde_json::from_str(raw.get()).map_err(|e| not_json(&e))?;
    // `null` counts as absent, as in every PondSocket client.
    let field = |name: &str| fields.get(name).copied().filter(|v| v.get() != "null");
    let string = |name: &'static str| -> Result<Option<Cow<'_, str>>, FrameErrorKind> {
        let Some(value) = field(name) else { return Ok(None) };
        if !value.get().starts_with('"') {
            return Err(FrameErrorKind::WrongType { field: name, expected: "a string" });
        }
        let text: Cow<'_, str> = serde_json::from_str(value.get()).map_err(|e| not_json(&e))?;
        Ok(Some(text))
    };
    let required = |name: &'static str| string(name)?.ok_or(FrameErrorKind::MissingField(name));
    let action = required("action")?;
    let event = required("event")?;
    let channel_name = required("channelName")?;
    let request_id = string("requestId")?;
    let payload = field("payload").ok_or(FrameErrorKind::MissingField("payload"))?;
    let payload = JsonObject::from_raw(payload.to_owned())
        .ok_or(FrameErrorKind::WrongType { field: "payload", expected: "an object" })?;
    ServerMessage::from_envelope(&action, event, channel_name, request_id, payload, presence)
}

/// Splits a `PRESENCE` payload into everyone present and the presence that changed.
fn presence(payload: &JsonObject) -> Result<(Rc<[JsonObject]>, JsonObject), FrameErrorKind> {
    let members = payload.members();
    let list = members.get("presence").ok_or(FrameErrorKind::BadPresence("missing `presence`"))?;
    let changed = members.get("changed").ok_or(FrameErrorKind::BadPresence("missing `changed`"))?;
    let not_a_list = FrameErrorKind::BadPresence("`presence` must be an array of objects");
    let list: Vec<Box<RawValue>> = serde_json::from_str(list.get()).map_err(|_| not_a_list.clone())?;
    let list = list.into_iter().map(JsonObject::from_raw).collect::<Option<Vec<_>>>().ok_or(not_a_list)?;
    let changed = JsonObject::from_raw((*changed).to_owned())
        .ok_or(FrameErrorKind::BadPresence("`changed` must be an object"))?;
    Ok((list.into(), changed))
}
