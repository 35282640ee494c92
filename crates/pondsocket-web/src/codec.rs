//! How a host turns socket frames into server messages: the [`Codec`] a client is built with.
//!
//! The core parses no JSON. A Rust application uses [`JsonCodec`] (feature `serde`, on by default): frames are
//! decoded with `serde_json` and payloads arrive as [`JsonObject`](pondsocket_proto::JsonObject) text. The npm
//! package brings a codec of its own that parses with `JSON.parse` and hands listeners the JS objects.

use pondsocket_proto::{FrameError, Payload, ServerMessage};
use wasm_bindgen::JsValue;

/// One message of a frame, or what was wrong with it.
pub type Decoded<'a, P> = Result<ServerMessage<'a, P>, FrameError>;

/// Decodes the frames of a socket into messages for the core.
pub trait Codec: 'static {
    /// What listeners are handed.
    type Payload: Payload + 'static;

    /// Decodes one frame (`data` is the socket's `MessageEvent.data`), calling `each` with every message or error
    /// in it, in order. A frame that is not text (binary frames arrive as `ArrayBuffer`s) is one error,
    /// [`FrameErrorKind::Binary`](pondsocket_proto::FrameErrorKind::Binary): the protocol has none.
    fn decode(data: &JsValue, each: &mut dyn FnMut(Decoded<'_, Self::Payload>));

    /// Who is in `presence` and not in `previous` (arrived), and the reverse (departed): by the JS `key` function's
    /// value for each entry where the host gives one, else by deep equality.
    fn presence_diff(
        previous: &<Self::Payload as Payload>::List,
        presence: &<Self::Payload as Payload>::List,
        key: Option<&js_sys::Function>,
    ) -> (Vec<Self::Payload>, Vec<Self::Payload>);
}

/// Frames decoded by `serde_json`; payloads are [`JsonObject`](pondsocket_proto::JsonObject)s.
#[cfg(feature = "serde")]
pub struct JsonCodec;

#[cfg(feature = "serde")]
impl Codec for JsonCodec {
    type Payload = pondsocket_proto::JsonObject;

    fn decode(data: &JsValue, each: &mut dyn FnMut(Decoded<'_, Self::Payload>)) {
        let Some(text) = data.dyn_ref::<js_sys::JsString>() else {
            let kind = pondsocket_proto::FrameErrorKind::Binary;
            return each(Err(pondsocket_proto::FrameError { kind, excerpt: String::new() }));
        };
        let text = crate::platform::string_from_js(text);
        for message in pondsocket_proto::json::decode_frame(&text) {
            each(message);
        }
    }

    fn presence_diff(
        previous: &<Self::Payload as Payload>::List,
        presence: &<Self::Payload as Payload>::List,
        _key: Option<&js_sys::Function>,
    ) -> (Vec<Self::Payload>, Vec<Self::Payload>) {
        let missing = |from: &[pondsocket_proto::JsonObject], other: &[pondsocket_proto::JsonObject]| {
            from.iter().filter(|p| !other.iter().any(|o| o.same_value(p))).cloned().collect()
        };
        (missing(presence, previous), missing(previous, presence))
    }
}

#[cfg(feature = "serde")]
use wasm_bindgen::JsCast;
