//! What the shell needs from the JS host, browser or Node: a clock, entropy, the page's location, a console.

use js_sys::{Array, Function, JsString, Reflect, Uint8Array};
use pondsocket_proto::Instant;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function fillRandom(bytes) {
  const crypto = globalThis.crypto;
  if (crypto && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
}
export function pageHref() {
  const location = globalThis.location;
  return location && typeof location.href === 'string' ? location.href : undefined;
}
export function describe(error) {
  if (error !== null && typeof error === 'object' && typeof error.message === 'string') return error.message;
  try { return String(error); } catch { return typeof error; }
}
// A WebSocket to `url` from `constructor` (the `WebSocket` option), the global one, or the class a host's loader at
// globalThis[Symbol.for('pondsocket.WebSocket')] gives (the npm package's Node entry loads `ws` there), receiving
// binary frames as ArrayBuffers; throws what the constructor threw, or why there is none.
export function openWebSocket(constructor, url) {
  let WebSocket = constructor ?? globalThis.WebSocket;
  const load = globalThis[Symbol.for('pondsocket.WebSocket')];
  if (typeof WebSocket !== 'function' && typeof load === 'function') {
    try { WebSocket = load(); } catch { WebSocket = undefined; }
  }
  if (typeof WebSocket !== 'function') {
    throw 'no global WebSocket and no `WebSocket` option' + (load ? ', and the `ws` package is not installed' : '')
      + ': install `ws` (npm install ws), pass the `WebSocket` option, or run Node 22+ (Node 20: --experimental-websocket)';
  }
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  return socket;
}
// A Server-Sent Events connection to `url`: `open()` once the server answered with an event stream, `chunk(bytes)`
// for each piece of it, and `end(why)` once, when the stream ends (`why` undefined) or fails, or a POST fails. The
// object returned sends frames, one POST at a time and in order, with the connection id of the server's
// x-connection-id header (or `id`, the one the server's CONNECTION event gave, where CORS hides the header); `stop`
// ends it all, with no callback after it, and tells the server with a DELETE (when it knows the connection's id).
export function openEventStream(url, withCredentials, open, chunk, end) {
  const signal = new AbortController();
  const credentials = withCredentials ? 'include' : 'same-origin';
  let live = true;
  let headerId;
  let knownId;
  let posting = Promise.resolve();
  const fail = (why) => {
    if (!live) return;
    live = false;
    signal.abort();
    end(why);
  };
  (async () => {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' }, credentials, cache: 'no-store', signal: signal.signal });
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      throw 'HTTP ' + response.status + (body ? ': ' + body.slice(0, 200) : '');
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream')) throw 'not an event stream (content-type "' + type + '")';
    headerId = response.headers.get('x-connection-id') ?? undefined;
    if (!live) return;
    open();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (!live) return;
      if (done) return fail(undefined);
      chunk(value);
    }
  })().catch((error) => fail(describe(error)));
  const post = async (frame, id) => {
    if (!live) return;
    knownId = id ?? knownId;
    const headers = { 'content-type': 'application/json', 'x-connection-id': headerId ?? id ?? '' };
    const response = await fetch(url, { method: 'POST', headers, body: frame, credentials, signal: signal.signal });
    if (!response.ok) throw 'a message POSTed to the server was answered HTTP ' + response.status;
  };
  return {
    send(frame, id) {
      posting = posting.then(() => post(frame, id)).catch((error) => fail('sending failed: ' + describe(error)));
    },
    stop() {
      if (!live) return;
      live = false;
      signal.abort();
      const connection = headerId ?? knownId;
      if (connection !== undefined) {
        fetch(url, { method: 'DELETE', headers: { 'x-connection-id': connection }, credentials }).catch(() => {});
      }
    },
  };
}
// `message` without the query string of `url`.
export function redactQuery(message, url) {
  const query = url.split('?')[1];
  return query ? message.split(query).join('\u2026') : message;
}
// The endpoint as the URL to open: http(s) becomes ws(s), a relative one is resolved against `base`, the fragment
// goes, and each param (`params` is a flat array: key, value, key, value...) replaces one of the same name in the
// query. Throws a message that never repeats the query string, which may hold a token.
export function resolveEndpoint(endpoint, params, base) {
  const text = endpoint.trim();
  const shown = JSON.stringify(text.split('?')[0]);
  if (text === '') throw 'the endpoint is empty';
  let url;
  try {
    url = base === undefined ? new URL(text) : new URL(text, base);
  } catch {
    throw /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text) || base !== undefined ? shown + ' is not a valid URL'
      : shown + ' has no scheme and there is no page location to resolve it against; use ws://, wss://, http:// or https://';
  }
  const scheme = { 'ws:': 'ws:', 'http:': 'ws:', 'wss:': 'wss:', 'https:': 'wss:' }[url.protocol];
  if (scheme === undefined) {
    throw 'unsupported scheme "' + url.protocol.slice(0, -1) + '": use ws://, wss://, http:// or https://';
  }
  if (url.hostname === '') throw shown + ' has no host';
  const encoded = params.filter((_, i) => i % 2 === 0).map(encodeURIComponent);
  const kept = url.search.slice(1).split('&').filter((pair) => pair !== '' && !encoded.includes(pair.split('=')[0]));
  const query = kept.concat(encoded.map((key, i) => key + '=' + encodeURIComponent(params[2 * i + 1]))).join('&');
  return scheme + '//' + url.host + url.pathname + (query === '' ? '' : '?' + query);
}
"#)]
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
    #[wasm_bindgen(js_name = resolveEndpoint, catch)]
    fn resolve_endpoint_js(endpoint: &str, params: &Array, base: Option<String>) -> Result<String, JsValue>;
    /// A Server-Sent Events connection, read and written by the host (see the JS above).
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

/// The WebSocket URL for `endpoint` with `params` (a flat array: key, value, ...) added to its query, as the
/// host's `URL` parses it; a relative endpoint is resolved against the page's location.
///
/// # Errors
/// Why the endpoint cannot be used, without its query string.
pub(crate) fn resolve_endpoint(endpoint: &str, params: &Array) -> Result<String, String> {
    resolve_endpoint_js(endpoint, params, page_href()).map_err(|thrown| describe(&thrown))
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
