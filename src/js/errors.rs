//! Errors as the JS objects users catch. Rust hands over the error's kind and fields; the messages are written in
//! JS, so that no formatting code reaches the wasm. Instances are of the package's classes (`ResponseTimeoutError`,
//! ...), which its entry module registers so that `instanceof` works; bad arguments are `TypeError`s.

use pondsocket_proto::{CancelReason, ChannelError, Error, FrameErrorKind};
use wasm_bindgen::prelude::*;

use super::codec::JsPayload;

#[wasm_bindgen(inline_js = r#"
let classes = {};
export function registerClasses(registered) { classes = registered; }
const channelError = (code, status, message) => code + ' (' + status + '): ' + message;
const REASONS = [
  () => 'the channel was left',
  (c, s, m) => 'the join was declined: ' + channelError(c, s, m),
  (r) => 'evicted from the channel: ' + r,
  () => 'the client disconnected',
  () => 'the connection was lost before the reply arrived',
  () => 'dropped from the full outbound queue',
  (c, s, m) => 'the channel does not exist on the server: ' + channelError(c, s, m),
  (c, s, m) => 'the server rejected it: ' + channelError(c, s, m),
];
const FRAME = [
  () => 'empty frame',
  () => 'binary frame (the protocol is JSON text)',
  (d) => 'not JSON: ' + d,
  () => 'not a JSON object',
  (d) => 'missing field `' + d + '`',
  (d, e) => 'field `' + d + '` is not ' + e,
  (d) => 'unknown action "' + d + '"',
  (d) => 'unknown presence event "' + d + '"',
  (d) => 'malformed presence payload: ' + d,
];
// [class, message, properties] for each kind of error.
const KINDS = [
  [TypeError, (a) => 'invalid endpoint: ' + a],
  [TypeError, (a, b) => 'invalid option `' + a + '`: ' + b],
  [TypeError, (a, b) => 'invalid argument `' + a + '`: ' + b],
  ['ChannelUnavailableError', (a, b) => 'channel "' + a + '" is ' + b + ': create a new channel to use it again',
    (a, b) => ({ channel: a, state: b })],
  ['ResponseTimeoutError', (a, b) => 'no response to "' + a + '" within ' + b + ' ms', (a, b) => ({ event: a, timeoutMs: b })],
  ['RequestCancelledError', (a, b, c, d, e) => 'request "' + a + '" cancelled: ' + REASONS[b](c, d, e),
    (a, b, c, d, e) => ({ event: a, reason: REASONS[b](c, d, e) })],
  ['MalformedFrameError', (a, b, c, d) => 'malformed frame: ' + FRAME[a](b, c) + (d ? ' in "' + d + '"' : '')],
  ['ServerError', (a, b, c) => 'server error ' + a + ' on "' + b + '": ' + JSON.stringify(c),
    (a, b, c) => ({ event: a, channel: b, payload: c })],
  ['ConnectionError', (a) => 'the server did not accept the connection within ' + a + ' ms'],
  ['ConnectionError', (a) => 'nothing from the server for ' + a + ' ms'],
  ['ConnectionError', (a, b) => 'connection closed (code ' + a + ')' + (b ? ': ' + b : ''), (a, b) => ({ code: a, reason: b })],
  ['ConnectionError', (a) => 'socket error: ' + a],
  ['ConnectionError', (a) => 'gave up reconnecting after ' + a + ' failed attempts; call connect() to try again'],
  ['CallbackError', (a) => 'a callback threw: ' + a],
  ['ConnectionError', (a) => 'WebSocket failed to connect ' + a + ' times in a row: moved to Server-Sent Events, '
    + 'which it keeps until disconnect()', () => ({ transport: 'sse' })],
];
// The JS client's shape for what a server said about a channel; `details` arrives as JSON text.
export function errorPayload(code, message, status, details) {
  const error = { code, message, status, statusCode: status };
  if (details !== undefined) error.details = JSON.parse(details);
  return error;
}
export function makeError(kind, a, b, c, d, e) {
  const [type, message, properties] = KINDS[kind];
  const text = message(a, b, c, d, e);
  if (type === TypeError) return new TypeError(text);
  const Class = classes[type];
  let error;
  if (Class) {
    error = new Class(text);
  } else {
    error = new Error(text);
    error.name = type;
  }
  if (properties) Object.assign(error, properties(a, b, c, d, e));
  return error;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = registerClasses)]
    fn register_classes(classes: JsValue);
    #[wasm_bindgen(js_name = errorPayload)]
    fn channel_error(code: &str, message: &str, status: u16, details: Option<&str>) -> JsValue;
    #[wasm_bindgen(js_name = makeError)]
    fn make_error(kind: u32, a: JsValue, b: JsValue, c: JsValue, d: JsValue, e: JsValue) -> JsValue;
}

/// Registers the package's error classes (`{ ResponseTimeoutError, ... }`); called once by the entry module.
#[wasm_bindgen(js_name = __registerErrorClasses, skip_typescript)]
pub fn register_error_classes(classes: JsValue) {
    if classes.is_object() {
        register_classes(classes);
    }
}

pub(super) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn number(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// An error as the JS object users catch.
pub(super) fn js_error(error: &Error<JsPayload>) -> JsValue {
    let none = JsValue::UNDEFINED;
    let (kind, a, b, c, d, e) = match error {
        Error::InvalidUrl(reason) => (0, text(reason), none.clone(), none.clone(), none.clone(), none),
        Error::InvalidOption { name, reason } => (1, text(name), text(reason), none.clone(), none.clone(), none),
        Error::InvalidArgument { name, reason } => (2, text(name), text(reason), none.clone(), none.clone(), none),
        Error::ChannelUnavailable { channel, state } => {
            (3, text(channel), text(state.as_str()), none.clone(), none.clone(), none)
        }
        Error::ResponseTimeout { event, timeout_ms } => {
            (4, text(event), number(*timeout_ms), none.clone(), none.clone(), none)
        }
        Error::RequestCancelled { event, reason } => {
            let (index, detail) = match reason {
                CancelReason::Left => (0, None),
                CancelReason::Declined(e) => (1, Some(e)),
                CancelReason::Evicted(reason) => {
                    return make_error(5, text(event), 2.into(), text(reason), none.clone(), none);
                }
                CancelReason::Disconnected => (3, None),
                CancelReason::ConnectionLost => (4, None),
                CancelReason::QueueOverflow => (5, None),
                CancelReason::NotFound(e) => (6, Some(e)),
                CancelReason::Rejected(e) => (7, Some(e)),
            };
            let (code, status, message) = match detail {
                Some(ChannelError { code, message, status, .. }) => (text(code), JsValue::from(*status), text(message)),
                None => (none.clone(), none.clone(), none),
            };
            (5, text(event), index.into(), code, status, message)
        }
        Error::MalformedFrame(frame) => {
            let (index, first, second) = match &frame.kind {
                FrameErrorKind::Empty => (0, none.clone(), none.clone()),
                FrameErrorKind::Binary => (1, none.clone(), none.clone()),
                FrameErrorKind::NotJson(reason) => (2, text(reason), none.clone()),
                FrameErrorKind::NotAnObject => (3, none.clone(), none.clone()),
                FrameErrorKind::MissingField(field) => (4, text(field), none.clone()),
                FrameErrorKind::WrongType { field, expected } => (5, text(field), text(expected)),
                FrameErrorKind::UnknownAction(action) => (6, text(action), none.clone()),
                FrameErrorKind::UnknownPresenceEvent(event) => (7, text(event), none.clone()),
                FrameErrorKind::BadPresence(problem) => (8, text(problem), none.clone()),
            };
            (6, JsValue::from(index), first, second, text(&frame.excerpt), none)
        }
        Error::Server { event, channel, payload } => {
            (7, text(event), text(channel), payload.0.clone(), none.clone(), none)
        }
        Error::ConnectionTimeout { timeout_ms } => {
            (8, number(*timeout_ms), none.clone(), none.clone(), none.clone(), none)
        }
        Error::LivenessTimeout { silent_ms } => (9, number(*silent_ms), none.clone(), none.clone(), none.clone(), none),
        Error::ConnectionClosed { code, reason } => {
            (10, JsValue::from(*code), text(reason), none.clone(), none.clone(), none)
        }
        Error::Socket(message) => (11, text(message), none.clone(), none.clone(), none.clone(), none),
        Error::ReconnectGaveUp { attempts } => {
            (12, JsValue::from(*attempts), none.clone(), none.clone(), none.clone(), none)
        }
        Error::Callback(message) => (13, text(message), none.clone(), none.clone(), none.clone(), none),
        Error::TransportFallback { failures } => {
            (14, JsValue::from(*failures), none.clone(), none.clone(), none.clone(), none)
        }
        _ => (11, text("unknown error"), none.clone(), none.clone(), none.clone(), none),
    };
    make_error(kind, a, b, c, d, e)
}

/// `{ code, message, status, statusCode, details? }`, the JS client's shape for channel errors.
pub(super) fn channel_error_to_js(error: &ChannelError) -> JsValue {
    // `details` is JSON text that JSON.stringify wrote (JsPayload::json), so it parses back.
    channel_error(&error.code, &error.message, error.status, error.details.as_deref())
}
