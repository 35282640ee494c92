//! Errors as the JS objects users catch. Rust hands over the error's kind and fields; the messages are written in
//! JS, so that no formatting code reaches the wasm. Instances are of the package's classes (`ResponseTimeoutError`,
//! ...), which its entry module registers so that `instanceof` works; bad arguments are `TypeError`s.

use pondsocket_proto::{CancelReason, ChannelError, Error, FrameErrorKind};
use wasm_bindgen::prelude::*;

use super::codec::JsPayload;

#[wasm_bindgen(module = "/src/js/host.js")]
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
                CancelReason::Aborted => (8, None),
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
