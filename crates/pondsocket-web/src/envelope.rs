//! A frame's envelope read in JS: one call parses the frame, checks the field types, and writes the routing fields
//! straight into a buffer in wasm memory; the payload stays a JS object.
//!
//! Asking for `action`, `event`, `channelName` and `requestId` one by one would take a dozen calls across the
//! boundary per message, and handing them over as a string a malloc and a copy loop more. Fields that are not all
//! ASCII, or too long for the buffer, come as one packed string instead. The layout, either way, is what
//! [`unpack_envelope`](pondsocket_proto::wire::unpack_envelope) reads.

use std::cell::UnsafeCell;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let payload, packed, memory, bytes, scratch = 0, room = 0;
export function useScratch(wasmMemory, at, size) {
  memory = wasmMemory;
  bytes = new Uint8Array(memory.buffer);
  scratch = at;
  room = size;
}
// ASCII only, within the buffer: where the next byte goes, or -1.
function put(text, at, end) {
  const n = text.length;
  if (at + n > end) return -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    bytes[at + i] = c;
  }
  return at + n;
}
// The number of bytes written to the buffer; -2: the fields are in `packed`; -1: take the text path.
export function parseEnvelope(data) {
  if (typeof data !== 'string') return -1;
  let frame;
  try { frame = JSON.parse(data); } catch { return -1; }
  if (typeof frame !== 'object' || frame === null) return -1;
  const { action, event, channelName, requestId } = frame;
  const p = frame.payload;
  if (typeof action !== 'string' || typeof event !== 'string' || typeof channelName !== 'string'
    || typeof p !== 'object' || p === null || Array.isArray(p)) return -1;
  const withId = typeof requestId === 'string';
  if (!withId && requestId !== undefined && requestId !== null) return -1;
  payload = p;
  if (bytes.buffer !== memory.buffer) bytes = new Uint8Array(memory.buffer);
  const end = scratch + room;
  bytes[scratch] = withId ? 0x31 : 0x30;
  let at = put(action, scratch + 1, end);
  if (at >= 0 && at < end) { bytes[at] = 0; at = put(event, at + 1, end); }
  if (at >= 0 && at < end) { bytes[at] = 0; at = put(channelName, at + 1, end); }
  if (withId && at >= 0 && at < end) { bytes[at] = 0; at = put(requestId, at + 1, end); }
  if (at >= 0) return at - scratch;
  packed = (withId ? '1' : '0') + action + '\0' + event + '\0' + channelName + (withId ? '\0' + requestId : '');
  return -2;
}
export function takePacked() {
  const p = packed;
  packed = undefined;
  return p;
}
export function takePayload() {
  const p = payload;
  payload = undefined;
  return p;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = useScratch)]
    fn use_scratch(memory: &JsValue, at: *mut u8, size: usize);
    #[wasm_bindgen(js_name = parseEnvelope)]
    fn parse_envelope(data: &JsValue) -> i32;
    #[wasm_bindgen(js_name = takePacked)]
    fn take_packed() -> String;
    /// The payload of the frame [`read`] last accepted, once.
    #[wasm_bindgen(js_name = takePayload)]
    pub fn take_payload() -> JsValue;
}

const SCRATCH_BYTES: usize = 512;

/// Written by the JS helper between calls, read by Rust right after: never both at once.
struct Scratch(UnsafeCell<[u8; SCRATCH_BYTES]>);

thread_local! {
    static SCRATCH: Box<Scratch> = {
        let scratch = Box::new(Scratch(UnsafeCell::new([0; SCRATCH_BYTES])));
        use_scratch(&wasm_bindgen::memory(), scratch.0.get().cast(), SCRATCH_BYTES);
        scratch
    };
}

/// Parses the frame `data` in JS and calls `route` with its packed routing fields; `None` if it is not one JSON
/// object with string fields and an object payload (the text path reports what is wrong with it).
pub fn read<T>(data: &JsValue, route: impl FnOnce(&str) -> Option<T>) -> Option<T> {
    SCRATCH.with(|scratch| match parse_envelope(data) {
        -1 => None,
        -2 => route(&take_packed()),
        written => {
            let written = usize::try_from(written).ok()?.min(SCRATCH_BYTES);
            // SAFETY: the helper has returned; nothing writes the buffer until the next call, after `route`.
            let buffer: &[u8; SCRATCH_BYTES] = unsafe { &*scratch.0.get() };
            route(std::str::from_utf8(&buffer[..written]).ok()?)
        }
    })
}
