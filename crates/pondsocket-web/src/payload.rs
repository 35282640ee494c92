//! What subscribers are handed: a payload as the JSON text the core parsed, or as the JS value JS parsed.
//!
//! A client made from JS parses each frame with `JSON.parse` and routes on the envelope's fields, so its listeners
//! get the very object JS built; a Rust client hands the core the frame's text and its listeners get that text.
//! Either listener works with either client: [`Delivered`] converts on demand.

use std::borrow::Cow;

use js_sys::JSON;
use wasm_bindgen::prelude::*;

use super::platform::string_from_js;
use pondsocket_proto::JsonObject;

/// A payload on its way to a listener.
#[derive(Clone, Copy)]
pub enum Delivered<'a> {
    Json(&'a JsonObject),
    Js(&'a JsValue),
}

impl<'a> Delivered<'a> {
    /// The payload as a JS object.
    pub fn to_js(self) -> JsValue {
        match self {
            Delivered::Json(object) => json_to_js(object),
            Delivered::Js(value) => value.clone(),
        }
    }

    /// The payload as JSON text.
    pub fn to_json(self) -> Cow<'a, JsonObject> {
        match self {
            Delivered::Json(object) => Cow::Borrowed(object),
            Delivered::Js(value) => Cow::Owned(js_to_json(value)),
        }
    }
}

/// A JSON object as a JS object.
pub fn json_to_js(object: &JsonObject) -> JsValue {
    // The text was validated as a JSON object on its way in, so JSON.parse cannot fail on it.
    JSON::parse(object.as_str()).unwrap_or_else(|_| js_sys::Object::new().into())
}

/// A JS object that came out of `JSON.parse` as JSON text again.
fn js_to_json(value: &JsValue) -> JsonObject {
    serialize(value).ok().flatten().unwrap_or_else(JsonObject::empty)
}

/// A JS value as JSON text by `JSON.stringify`; `Ok(None)` if that is not an object (a `toJSON` method may have
/// turned it into something else).
///
/// # Errors
/// What `JSON.stringify` threw (a cycle, a BigInt).
pub fn serialize(value: &JsValue) -> Result<Option<JsonObject>, JsValue> {
    let text = JSON::stringify(value)?;
    // JSON.stringify writes valid JSON (lone surrogates escaped): only its type is left to check.
    Ok(JsonObject::from_serialized(string_from_js(&text)))
}
