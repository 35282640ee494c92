//! Between JS values and the client's Rust types: argument checks, options and payloads. Messages are put together
//! by concatenation: `core::fmt` stays out of the wasm.

use js_sys::{Array, Function, Object, Reflect, JSON};
use pondsocket_proto::{Options, MAX_DURATION_MS};
use pondsocket_web::host::{describe, string_from_js};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::errors::type_error;

fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if Array::is_array(value) {
        "an array".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

fn must_be(name: &str, what: &str, value: &JsValue) -> JsValue {
    type_error(&["`", name, "` must be ", what, ", got ", &type_name(value)].concat())
}

pub(super) fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| must_be(name, "a string", value))
}

pub(super) fn function_arg(value: &JsValue, name: &str) -> Result<Function, JsValue> {
    value.dyn_ref::<Function>().cloned().ok_or_else(|| must_be(name, "a function", value))
}

fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value) && !value.is_function()
}

/// A payload or params object as JSON text; `undefined` and `null` are `{}`.
pub(super) fn object_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok("{}".into());
    }
    if !is_plain_object(value) {
        return Err(must_be(name, "an object", value));
    }
    let text = JSON::stringify(value)
        .map_err(|e| type_error(&["`", name, "` cannot be serialized to JSON: ", &describe(&e)].concat()))?;
    // JSON.stringify writes valid JSON (lone surrogates escaped): only its type is left to check, since a `toJSON`
    // method may have turned the object into something else.
    let text = string_from_js(&text);
    if !text.starts_with('{') {
        return Err(type_error(&["`", name, "` does not serialize to a JSON object"].concat()));
    }
    Ok(text)
}

/// A new plain object with these properties.
pub(super) fn object(properties: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in properties {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}

/// The client's connection params as query-string pairs: strings as they are, numbers and booleans as text,
/// objects as JSON; `null` and `undefined` values are left out.
pub(super) fn query_params(value: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !is_plain_object(value) {
        return Err(must_be("params", "an object", value));
    }
    let mut pairs = Vec::new();
    for entry in Object::entries(value.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let item = entry.get(1);
        let text = if item.is_undefined() || item.is_null() {
            continue;
        } else if let Some(text) = item.as_string() {
            text
        } else if is_plain_object(&item) || Array::is_array(&item) {
            let json = JSON::stringify(&item)
                .map_err(|e| type_error(&["`params.", &key, "` cannot be serialized: ", &describe(&e)].concat()))?;
            json.as_string().unwrap_or_default()
        } else {
            js_sys::JsString::from(item).into()
        };
        pairs.push((key, text));
    }
    Ok(pairs)
}

/// A number as JS writes it.
fn number_text(n: f64) -> String {
    js_sys::Number::from(n).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

/// A duration option or argument in milliseconds: a positive finite number, rounded up to whole milliseconds.
fn duration(value: &JsValue, name: &str) -> Result<u64, JsValue> {
    let Some(ms) = value.as_f64() else {
        return Err(must_be(name, "a number of milliseconds", value));
    };
    if !ms.is_finite() || ms <= 0.0 || ms > MAX_DURATION_MS as f64 {
        let range = ["between 1 and ", &number_text(MAX_DURATION_MS as f64), " milliseconds"].concat();
        return Err(type_error(&["`", name, "` must be ", &range, ", got ", &number_text(ms)].concat()));
    }
    Ok(ms.ceil() as u64)
}

pub(super) fn optional_timeout(value: &JsValue) -> Result<Option<u64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    duration(value, "timeoutMs").map(Some)
}

fn whole_number(value: &JsValue, name: &str, min: i32) -> Result<f64, JsValue> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(u32::MAX) => Ok(n),
        _ => {
            let shown = value.as_f64().map_or_else(|| type_name(value), number_text);
            let what = ["a whole number from ", &number_text(f64::from(min))].concat();
            Err(type_error(&["`", name, "` must be ", &what, ", got ", &shown].concat()))
        }
    }
}

/// The constructor's `options`, checked: unknown names and values out of range are a `TypeError`.
pub(super) fn parse_options(value: &JsValue) -> Result<(Options, Option<Function>), JsValue> {
    let mut options = Options::default();
    let mut websocket = None;
    if value.is_undefined() || value.is_null() {
        return Ok((options, websocket));
    }
    if !is_plain_object(value) {
        return Err(must_be("options", "an object", value));
    }
    for entry in Object::entries(value.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let item = entry.get(1);
        if item.is_undefined() {
            continue;
        }
        match key.as_str() {
            "connectionTimeout" => options.connection_timeout = duration(&item, &key)?,
            "baseReconnectDelay" => options.base_reconnect_delay = duration(&item, &key)?,
            "maxReconnectDelay" => options.max_reconnect_delay = duration(&item, &key)?,
            "responseTimeout" => options.response_timeout = duration(&item, &key)?,
            "joinTimeout" => options.join_timeout = duration(&item, &key)?,
            "pingInterval" => options.ping_interval = if item.is_null() { None } else { Some(duration(&item, &key)?) },
            "maxReconnectAttempts" => {
                let n = whole_number(&item, &key, -1)?;
                options.max_reconnect_attempts = if n < 0.0 { None } else { Some(n as u32) };
            }
            "maxQueueSize" => options.max_queue_size = whole_number(&item, &key, 1)? as usize,
            "WebSocket" => websocket = Some(function_arg(&item, "options.WebSocket")?),
            other => {
                return Err(type_error(
                    &[
                        "unknown option `",
                        other,
                        "`; the options are connectionTimeout, baseReconnectDelay, maxReconnectDelay, \
                         maxReconnectAttempts, pingInterval, maxQueueSize, responseTimeout, joinTimeout and WebSocket",
                    ]
                    .concat(),
                ))
            }
        }
    }
    Ok((options, websocket))
}
