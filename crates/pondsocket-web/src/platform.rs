//! What the shell needs from the JS host, browser or Node: a clock, entropy, the page's location, a console.

use js_sys::{Array, Function, JsString, Reflect, Uint8Array};
use pondsocket_proto::Instant;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = fillRandom)]
    fn fill_random(bytes: &mut [u8]);
    #[wasm_bindgen(js_name = pageHref)]
    fn page_href() -> Option<String>;
    /// A thrown JS value as text: its `message` if it has one, else the value itself.
    pub fn describe(error: &JsValue) -> String;
    /// A WebSocket to `url` from `constructor` or the global `WebSocket`, with binary frames as ArrayBuffers.
    #[wasm_bindgen(js_name = openWebSocket, catch)]
    pub(crate) fn open_websocket(constructor: Option<&Function>, url: &str) -> Result<web_sys::WebSocket, JsValue>;
    /// `message` without the query string of `url` (which may hold a token).
    #[wasm_bindgen(js_name = redactQuery)]
    pub(crate) fn redact_query(message: &str, url: &str) -> String;
    #[wasm_bindgen(js_name = resolveEndpoints, catch)]
    fn resolve_endpoints_js(endpoints: &Array, params: &Array, base: Option<String>) -> Result<Array, JsValue>;
    /// `url` with `params` (a flat array: key, value, ...) replacing or added to its query.
    #[wasm_bindgen(js_name = withParams, catch)]
    fn with_params_js(url: &str, params: &JsValue) -> Result<String, JsValue>;
    /// Calls the params function; its outcome goes to `done` or `fail` unless the returned cancel function is
    /// called first.
    #[wasm_bindgen(js_name = awaitParams)]
    pub(crate) fn await_params(source: &Function, done: &Function, fail: &Function) -> Function;
    /// Reports the page's events to `report`; the function returned stops it. `None` where there is no page.
    #[wasm_bindgen(js_name = watchPage)]
    pub(crate) fn watch_page(report: &Function) -> Option<Function>;
    /// A Server-Sent Events connection, read and written by the host (`openEventStream` in host.js).
    pub(crate) type EventStream;
    #[wasm_bindgen(js_name = openEventStream, catch)]
    pub(crate) fn open_event_stream(
        url: &str,
        with_credentials: bool,
        open: &Function,
        chunk: &Function,
        end: &Function,
    ) -> Result<EventStream, JsValue>;
    #[wasm_bindgen(method)]
    pub(crate) fn send(this: &EventStream, frame: &str, connection_id: Option<&str>);
    #[wasm_bindgen(method)]
    pub(crate) fn stop(this: &EventStream);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = setTimeout)]
    pub(crate) fn set_timeout(callback: &Function, delay_ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub(crate) fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue);
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, text: &JsString, into: &Uint8Array) -> JsValue;
}

/// Milliseconds on a monotonic clock (`performance.now()`, in browsers and Node alike).
pub(crate) fn now() -> Instant {
    Instant::from_millis(performance_now() as u64)
}

/// 32 bytes from `crypto.getRandomValues` (every browser, secure page or not, and Node), or from `Math.random`
/// where there is no Web Crypto.
pub(crate) fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    fill_random(&mut seed);
    seed
}

/// The WebSocket URL for each endpoint (an array of strings) with `params` (a flat array: key, value, ...) added to
/// its query, as the host's `URL` parses it; a relative endpoint is resolved against the page's location.
///
/// # Errors
/// Why an endpoint cannot be used, without its query string.
pub(crate) fn resolve_endpoints(endpoints: &Array, params: &Array) -> Result<Vec<String>, String> {
    let urls = resolve_endpoints_js(endpoints, params, page_href()).map_err(|thrown| describe(&thrown))?;
    Ok(urls.iter().map(|url| url.as_string().unwrap_or_default()).collect())
}

/// Strings as a JS array.
pub(crate) fn strings<S: AsRef<str>>(items: &[S]) -> Array {
    items.iter().map(|item| JsValue::from_str(item.as_ref())).collect()
}

/// `url` with the params a params function gave (a flat array: key, value, ...).
///
/// # Errors
/// What the host threw: the value is not an array of strings.
pub(crate) fn with_params(url: &str, params: &JsValue) -> Result<String, String> {
    if !Array::is_array(params) {
        return Err("the params function must give a flat array of keys and values".into());
    }
    with_params_js(url, params).map_err(|thrown| describe(&thrown))
}

/// Pairs as the flat array [`resolve_endpoint`] takes.
pub(crate) fn flat_pairs<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Array {
    let array = Array::new();
    for (key, value) in params {
        array.push(&key.as_ref().into());
        array.push(&value.as_ref().into());
    }
    array
}

/// Reports what cannot be reported anywhere else (an `onError` callback that throws).
pub fn report_to_console(message: &str, error: &JsValue) {
    console_error(message, error);
}

thread_local! {
    static ENCODER: TextEncoder = TextEncoder::new();
    // Property names read once per message: made JS strings once, not decoded out of wasm memory every time.
    static WRITTEN: JsValue = JsValue::from_str("written");
}

/// A JS string as a Rust `String`, encoded by the host's `TextEncoder.encodeInto` straight into wasm memory.
/// wasm-bindgen's own conversion copies ASCII one character at a time in JS, which dominated the cost of a
/// large frame.
pub fn string_from_js(text: &JsString) -> String {
    // UTF-16 to UTF-8 takes at most 3 bytes per code unit.
    let capacity = text.length() as usize * 3;
    let mut bytes: Vec<u8> = Vec::with_capacity(capacity);
    // SAFETY: the view covers the vector's spare capacity and is used before anything else can allocate (and so
    // grow, and detach, wasm memory); encodeInto writes `written` bytes of valid UTF-8 at its start.
    let written = unsafe {
        let view = Uint8Array::view_mut_raw(bytes.as_mut_ptr(), capacity);
        let result = ENCODER.with(|encoder| encoder.encode_into(text, &view));
        let written = WRITTEN.with(|key| Reflect::get(&result, key));
        written.ok().and_then(|w| w.as_f64()).unwrap_or(0.0) as usize
    };
    // SAFETY: encodeInto wrote `written` (<= capacity) initialized bytes, and its output is always valid UTF-8
    // (lone surrogates become U+FFFD).
    unsafe {
        bytes.set_len(written.min(capacity));
        String::from_utf8_unchecked(bytes)
    }
}
