//! What the shell needs from the JS host, browser or Node: a clock, entropy, the page's location, a console.

use js_sys::{Function, JsString, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &Function, delay_ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue);
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, text: &JsString, into: &Uint8Array) -> JsValue;

}

/// Milliseconds on a monotonic clock (`performance.now()`, in browsers and Node alike).
pub fn now() -> u64 {
    performance_now() as u64
}

/// 32 bytes from `crypto.getRandomValues`, or from `Math.random` where there is no Web Crypto.
pub fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    let bytes = Uint8Array::new_with_length(32);
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).unwrap_or(JsValue::UNDEFINED);
    let filled = Reflect::get(&crypto, &"getRandomValues".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .is_some_and(|get_random_values| get_random_values.call1(&crypto, &bytes).is_ok());
    if filled {
        bytes.copy_to(&mut seed);
    } else {
        for byte in seed.iter_mut() {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    seed
}

/// The page's URL, for resolving a relative endpoint; `None` in Node and workers without one.
pub fn location_href() -> Option<String> {
    let location = Reflect::get(&js_sys::global(), &"location".into()).ok()?;
    if location.is_undefined() || location.is_null() {
        return None;
    }
    Reflect::get(&location, &"href".into()).ok()?.as_string()
}

/// A thrown JS value as text: its `message` if it has one, else the value itself.
pub fn describe(error: &JsValue) -> String {
    Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
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
