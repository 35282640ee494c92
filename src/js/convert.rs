//! Between JS values and the client's Rust types: argument checks, options and payloads. The constructor's
//! options and params are read in JS, which checks them and writes their messages; elsewhere messages are put
//! together by concatenation: `core::fmt` stays out of the wasm.

use js_sys::{Array, Function, Object, Reflect, JSON};
use pondsocket_proto::{Options, TransportChoice, MAX_DURATION_MS};
use pondsocket_web::host::{describe, string_from_js};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/js/host.js")]
extern "C" {
    /// The connection params as a flat array of query-string pairs.
    #[wasm_bindgen(js_name = queryParams, catch)]
    fn query_params(params: &JsValue) -> Result<Array, JsValue>;
    /// A params function as the web client calls it: giving a flat array, or a promise of one.
    #[wasm_bindgen(js_name = paramsSource)]
    fn params_source(params: &Function) -> Function;
    /// The endpoint argument as a list of strings.
    #[wasm_bindgen(js_name = endpointList, catch)]
    fn endpoint_list(endpoint: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(js_name = parseOptions, catch)]
    fn parse_options_js(options: &JsValue) -> Result<Array, JsValue>;
}

/// What the constructor's options say beyond the core's [`Options`]: how to reach the server.
pub(super) struct Connect {
    pub(super) websocket: Option<Function>,
    pub(super) with_credentials: bool,
    /// The `logger` option: the core logs only when there is one.
    pub(super) logger: Option<Function>,
    pub(super) presence_key: Option<Function>,
}

/// The constructor's `endpoint` (one URL or a list) and `params` (an object, or a function called before every
/// attempt), checked: the endpoints, the params they start with, and the function.
pub(super) fn parse_target(endpoint: &JsValue, params: &JsValue) -> Result<(Array, Array, Option<Function>), JsValue> {
    let endpoints = endpoint_list(endpoint)?;
    match params.dyn_ref::<Function>() {
        Some(function) => Ok((endpoints, Array::new(), Some(params_source(function)))),
        None => Ok((endpoints, query_params(params)?, None)),
    }
}

/// The constructor's `options`, checked: values out of range are a `TypeError`; unknown names are ignored.
pub(super) fn parse_options(value: &JsValue) -> Result<(Options, Connect), JsValue> {
    let given = parse_options_js(value)?;
    let mut options = Options::default();
    let number = |i: u32| given.get(i).as_f64();
    let duration = |i: u32, default: u64| number(i).map_or(default, |ms| ms as u64);
    options.connection_timeout = duration(0, options.connection_timeout);
    options.base_reconnect_delay = duration(1, options.base_reconnect_delay);
    options.max_reconnect_delay = duration(2, options.max_reconnect_delay);
    options.response_timeout = duration(3, options.response_timeout);
    options.join_timeout = duration(4, options.join_timeout);
    if let Some(ping) = number(5) {
        options.ping_interval = (ping > 0.0).then_some(ping as u64);
    }
    if let Some(attempts) = number(6) {
        options.max_reconnect_attempts = (attempts >= 0.0).then_some(attempts as u32);
    }
    if let Some(size) = number(7) {
        options.max_queue_size = size as usize;
    }
    options.transport = match number(9) {
        Some(1.0) => TransportChoice::Sse,
        Some(2.0) => TransportChoice::Auto,
        _ => TransportChoice::WebSocket,
    };
    let connect = Connect {
        websocket: given.get(8).dyn_into::<Function>().ok(),
        with_credentials: given.get(10).is_truthy(),
        logger: given.get(11).dyn_into::<Function>().ok(),
        presence_key: given.get(12).dyn_into::<Function>().ok(),
    };
    options.log = connect.logger.is_some();
    Ok((options, connect))
}

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

/// A number as JS writes it.
fn number_text(n: f64) -> String {
    js_sys::Number::from(n).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

/// A timeout argument (`name`): a positive finite number of milliseconds, rounded up; `undefined` and `null` are
/// none.
pub(super) fn optional_timeout(value: &JsValue, name: &str) -> Result<Option<u64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let Some(ms) = value.as_f64() else {
        return Err(must_be(name, "a number of milliseconds", value));
    };
    if !ms.is_finite() || ms <= 0.0 || ms > MAX_DURATION_MS as f64 {
        let range = ["between 1 and ", &number_text(MAX_DURATION_MS as f64), " milliseconds"].concat();
        return Err(type_error(&["`", name, "` must be ", &range, ", got ", &number_text(ms)].concat()));
    }
    Ok(Some(ms.ceil() as u64))
}
