//! What the shell needs from the JS host, browser or Node: a clock, entropy, the page's location, a console.

use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue);
}

/// Milliseconds on a monotonic clock (`performance.now()`, in browsers and Node alike).
pub(crate) fn now() -> u64 {
    performance_now() as u64
}

/// 32 bytes from `crypto.getRandomValues`, or from `Math.random` where there is no Web Crypto.
pub(crate) fn random_seed() -> [u8; 32] {
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
pub(crate) fn location_href() -> Option<String> {
    let location = Reflect::get(&js_sys::global(), &"location".into()).ok()?;
    if location.is_undefined() || location.is_null() {
        return None;
    }
    Reflect::get(&location, &"href".into()).ok()?.as_string()
}

/// Reports what cannot be reported anywhere else (an `onError` callback that throws).
pub(crate) fn report_to_console(message: &str, error: &JsValue) {
    console_error(message, error);
}
