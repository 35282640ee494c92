//! Frames parsed by `JSON.parse`, payloads kept as the JS objects it made: the npm package's [`Codec`].
//!
//! One call per frame parses it, checks the envelope (field types, action, presence shape), writes the routing
//! fields and a result code straight into a buffer in wasm memory, and returns the payload, which stays the JS
//! object that listeners get as is. Asking for `action`, `event`, `channelName` and `requestId` one by one would
//! take a dozen crossings per message; as it is, a message costs one. A frame of several newline-separated objects
//! is split and each object read the same way; what is wrong with a malformed object (or a frame that is not text)
//! comes back as a code, so the wasm carries no JSON parser and no message text.

use std::borrow::Cow;
use std::cell::UnsafeCell;

use js_sys::{Array, Function, Reflect};
use pondsocket_proto::{FrameError, FrameErrorKind, Payload, ServerMessage};
use pondsocket_web::{Codec, Decoded};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = useScratch)]
    fn use_scratch(memory: &JsValue, at: *mut u8, size: usize);
    #[wasm_bindgen(js_name = parseFrame)]
    fn parse_frame(data: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = nextObject)]
    fn next_object() -> JsValue;
    #[wasm_bindgen(js_name = takePresence)]
    fn take_presence() -> Array;
    #[wasm_bindgen(js_name = takeField)]
    fn take_field(index: u32) -> Option<String>;
    #[wasm_bindgen(js_name = takeDetail)]
    fn take_detail() -> JsValue;
    #[wasm_bindgen(js_name = takeExcerpt)]
    fn take_excerpt() -> String;
    /// `[arrived, departed]` between two presence lists.
    #[wasm_bindgen(js_name = presenceDiff)]
    fn presence_diff(previous: &JsValue, presence: &JsValue, key: Option<&Function>) -> Array;
}

const SCRATCH_BYTES: usize = 512;
/// The helper's result code, a little-endian i32 in the buffer's last bytes; the routing fields go before it.
const CODE_AT: usize = SCRATCH_BYTES - 4;
/// Header bits: the message has a requestId; more objects of the frame follow.
const WITH_ID: u8 = 1;
const MORE: u8 = 2;

/// Written by the JS helper between calls, read by Rust right after: never both at once.
struct Scratch(UnsafeCell<[u8; SCRATCH_BYTES]>);

thread_local! {
    static SCRATCH: Box<Scratch> = {
        let scratch = Box::new(Scratch(UnsafeCell::new([0; SCRATCH_BYTES])));
        use_scratch(&wasm_bindgen::memory(), scratch.0.get().cast(), CODE_AT);
        scratch
    };
}

/// A payload object as `JSON.parse` made it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JsPayload(pub(crate) JsValue);

/// A presence list (a JS array of objects).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JsList(pub(crate) JsValue);

impl Default for JsList {
    fn default() -> Self {
        JsList(Array::new().into())
    }
}

impl Payload for JsPayload {
    type List = JsList;

    fn string(&self, key: &str) -> Option<String> {
        Reflect::get(&self.0, &key.into()).ok()?.as_string()
    }

    fn whole_number(&self, key: &str) -> Option<u32> {
        let n = Reflect::get(&self.0, &key.into()).ok()?.as_f64()?;
        (n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0).then_some(n as u32)
    }

    fn object(&self, key: &str) -> Option<Self> {
        let value = Reflect::get(&self.0, &key.into()).ok()?;
        (value.is_object() && !Array::is_array(&value)).then_some(JsPayload(value))
    }

    fn json(&self, key: &str) -> Option<String> {
        let value = Reflect::get(&self.0, &key.into()).ok().filter(|v| !v.is_undefined())?;
        js_sys::JSON::stringify(&value).ok()?.as_string()
    }
}

/// The npm package's codec.
pub(crate) struct JsCodec;

impl Codec for JsCodec {
    type Payload = JsPayload;

    fn decode(data: &JsValue, each: &mut dyn FnMut(Decoded<'_, JsPayload>)) {
        SCRATCH.with(|scratch| {
            let mut payload = parse_frame(data);
            loop {
                // SAFETY: the helper has returned; nothing writes the buffer until its next call, after `each`.
                let buffer: &[u8; SCRATCH_BYTES] = unsafe { &*scratch.0.get() };
                let header = buffer[0];
                each(message(buffer, payload));
                if header & MORE == 0 {
                    break;
                }
                payload = next_object();
            }
        });
    }

    fn presence_diff(previous: &JsList, presence: &JsList, key: Option<&Function>) -> (Vec<JsPayload>, Vec<JsPayload>) {
        let both = presence_diff(&previous.0, &presence.0, key);
        let side = |i: u32| Array::from(&both.get(i)).iter().map(JsPayload).collect();
        (side(0), side(1))
    }
}

/// The message the helper's answer describes: its code and fields in `buffer`, and the payload it returned.
fn message(buffer: &[u8; SCRATCH_BYTES], payload: JsValue) -> Decoded<'_, JsPayload> {
    let code = i32::from_le_bytes([buffer[CODE_AT], buffer[CODE_AT + 1], buffer[CODE_AT + 2], buffer[CODE_AT + 3]]);
    let with_id = buffer[0] & WITH_ID != 0;
    let mut fields: [Cow<'_, str>; 4] = Default::default();
    match code {
        -2 => {
            for (i, field) in fields.iter_mut().enumerate().take(if with_id { 4 } else { 3 }) {
                *field = take_field(i as u32).unwrap_or_default().into();
            }
        }
        written if written >= 0 => {
            let written = usize::try_from(written).unwrap_or(0).clamp(1, CODE_AT);
            for (field, part) in fields.iter_mut().zip(buffer[1..written].split(|&byte| byte == 0)) {
                // SAFETY: the helper writes ASCII (1 to 0x7f) only, and NULs between the fields: UTF-8 throughout.
                *field = Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(part) });
            }
        }
        failure => return Err(frame_error(failure)),
    }
    let [action, event, channel_name, request_id] = fields;
    let request_id = with_id.then_some(request_id);
    let payload = JsPayload(payload);
    ServerMessage::from_envelope(&action, event, channel_name, request_id, payload, |_| {
        let pair = take_presence();
        Ok((JsList(pair.get(0)), JsPayload(pair.get(1))))
    })
    .map_err(|kind| FrameError { kind, excerpt: String::new() })
}

const FIELDS: [&str; 5] = ["action", "event", "channelName", "requestId", "payload"];
const PRESENCE_PROBLEMS: [&str; 4] = [
    "missing `presence`",
    "`presence` must be an array of objects",
    "missing `changed`",
    "`changed` must be an object",
];

fn frame_error(code: i32) -> FrameError {
    let detail = take_detail();
    let index = detail.as_f64().unwrap_or(0.0) as usize;
    let text = || detail.as_string().unwrap_or_default();
    let kind = match code {
        -10 => FrameErrorKind::Empty,
        -11 => FrameErrorKind::NotJson(text()),
        -13 => FrameErrorKind::MissingField(FIELDS[index.min(4)]),
        -14 => FrameErrorKind::WrongType {
            field: FIELDS[index.min(4)],
            expected: if index == 4 { "an object" } else { "a string" },
        },
        -15 => FrameErrorKind::UnknownAction(text()),
        -16 => FrameErrorKind::UnknownPresenceEvent(text()),
        -17 => FrameErrorKind::BadPresence(PRESENCE_PROBLEMS[index.min(3)]),
        -18 => FrameErrorKind::Binary,
        _ => FrameErrorKind::NotAnObject,
    };
    FrameError { kind, excerpt: take_excerpt() }
}
