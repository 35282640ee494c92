//! Between JS values and the client's Rust types: argument checks, options, payloads, and errors as JS objects.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use pondsocket_proto::map::Map;
use pondsocket_proto::{ChannelError, Error, JsonObject, Options, MAX_DURATION_MS};
use pondsocket_web::describe;
use pondsocket_web::payload::serialize;

pub(super) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if Array::is_array(value) {
        "an array".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

pub(super) fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| type_error(&format!("`{name}` must be a string, got {}", type_name(value))))
}

pub(super) fn function_arg(value: &JsValue, name: &str) -> Result<Function, JsValue> {
    value
        .dyn_ref::<Function>()
        .cloned()
        .ok_or_else(|| type_error(&format!("`{name}` must be a function, got {}", type_name(value))))
}

fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value) && !value.is_function()
}

/// A payload or params object as JSON text; `undefined` and `null` are `{}`.
pub(super) fn object_arg(value: &JsValue, name: &str) -> Result<JsonObject, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(JsonObject::empty());
    }
    if !is_plain_object(value) {
        return Err(type_error(&format!("`{name}` must be an object, got {}", type_name(value))));
    }
    serialize(value)
        .map_err(|e| type_error(&format!("`{name}` cannot be serialized to JSON: {}", describe(&e))))?
        .ok_or_else(|| type_error(&format!("`{name}` does not serialize to a JSON object")))
}

pub(super) use pondsocket_web::payload::json_to_js as to_js;

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
        return Err(type_error(&format!("`params` must be an object, got {}", type_name(value))));
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
                .map_err(|e| type_error(&format!("`params.{key}` cannot be serialized: {}", describe(&e))))?;
            json.as_string().unwrap_or_default()
        } else {
            js_sys::JsString::from(item).into()
        };
        pairs.push((key, text));
    }
    Ok(pairs)
}

/// A duration option or argument in milliseconds: a positive finite number, rounded up to whole milliseconds.
fn duration(value: &JsValue, name: &str) -> Result<u64, JsValue> {
    let Some(ms) = value.as_f64() else {
        return Err(type_error(&format!("`{name}` must be a number of milliseconds, got {}", type_name(value))));
    };
    if !ms.is_finite() || ms <= 0.0 || ms > MAX_DURATION_MS as f64 {
        // JS formats the number: Rust's float formatting would cost the wasm more than 10 KB.
        let got = js_sys::Number::from(ms).to_string_with_radix(10).map(String::from).unwrap_or_default();
        return Err(type_error(&format!("`{name}` must be between 1 and {MAX_DURATION_MS} milliseconds, got {got}")));
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
        _ => Err(type_error(&format!("`{name}` must be a whole number from {min}, got {value:?}"))),
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
        return Err(type_error(&format!("`options` must be an object, got {}", type_name(value))));
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
                return Err(type_error(&format!(
                    "unknown option `{other}`; the options are connectionTimeout, baseReconnectDelay, \
                     maxReconnectDelay, maxReconnectAttempts, pingInterval, maxQueueSize, responseTimeout, \
                     joinTimeout and WebSocket"
                )))
            }
        }
    }
    options.validate().map_err(|e| js_error(&e))?;
    Ok((options, websocket))
}

thread_local! {
    /// The package's error classes by name, registered by its entry module so that `instanceof` works.
    static ERROR_CLASSES: RefCell<Map<String, Function>> = RefCell::new(Map::default());
}

/// Registers the package's error classes (`{ ResponseTimeoutError, ... }`); called once by the entry module.
#[wasm_bindgen(js_name = __registerErrorClasses, skip_typescript)]
pub fn register_error_classes(classes: JsValue) {
    if !classes.is_object() {
        return;
    }
    for entry in Object::entries(classes.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        if let (Some(name), Ok(class)) = (entry.get(0).as_string(), entry.get(1).dyn_into::<Function>()) {
            ERROR_CLASSES.with(|classes| classes.borrow_mut().insert(name, class));
        }
    }
}

/// An error as the JS object users catch: a `TypeError` for bad arguments, else an instance of the package's
/// class for it (`ResponseTimeoutError`, ...) with its details as properties.
pub(super) fn js_error(error: &Error) -> JsValue {
    let message = error.to_string();
    let name = js_name(error);
    if name == "TypeError" {
        return type_error(&message);
    }
    let registered = ERROR_CLASSES.with(|classes| classes.borrow().get(name).cloned());
    let object: JsValue = registered
        .and_then(|class| Reflect::construct(&class, &Array::of1(&message.clone().into())).ok())
        .unwrap_or_else(|| {
            let plain = js_sys::Error::new(&message);
            plain.set_name(name);
            plain.into()
        });
    let details: Vec<(&str, JsValue)> = match error {
        Error::ResponseTimeout { event, timeout_ms } => {
            vec![("event", event.into()), ("timeoutMs", (*timeout_ms as f64).into())]
        }
        Error::RequestCancelled { event, reason } => {
            vec![("event", event.into()), ("reason", reason.to_string().into())]
        }
        Error::ChannelUnavailable { channel, state } => {
            vec![("channel", channel.into()), ("state", state.as_str().into())]
        }
        Error::Server { event, channel, payload } => {
            vec![("event", event.into()), ("channel", channel.into()), ("payload", to_js(payload))]
        }
        Error::ConnectionClosed { code, reason } => vec![("code", (*code).into()), ("reason", reason.into())],
        _ => Vec::new(),
    };
    for (key, value) in details {
        let _ = Reflect::set(&object, &key.into(), &value);
    }
    object
}

/// `{ code, message, status }`, the JS client's shape for channel errors.
pub(super) fn channel_error_to_js(error: &ChannelError) -> JsValue {
    object(&[
        ("code", error.code.as_str().into()),
        ("message", error.message.as_str().into()),
        ("status", error.status.into()),
    ])
}

/// The name of the JS error class `error` becomes.
fn js_name(error: &Error) -> &'static str {
    match error {
        Error::ResponseTimeout { .. } => "ResponseTimeoutError",
        Error::InvalidOption { .. } | Error::InvalidArgument { .. } | Error::InvalidUrl(_) => "TypeError",
        Error::RequestCancelled { .. } => "RequestCancelledError",
        Error::ChannelUnavailable { .. } => "ChannelUnavailableError",
        Error::MalformedFrame(_) => "MalformedFrameError",
        Error::Server { .. } => "ServerError",
        Error::Callback(_) => "CallbackError",
        _ => "ConnectionError",
    }
}
