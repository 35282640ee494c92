// The npm package's JS helpers, one module for the crate (one request for a page, not one per Rust file): what
// src/js/*.rs import. Each part says which file uses it.

// ---- Pending sendForResponse promises (mod.rs) ---------------------------------------------------------------------

const pending = new Map();
export function newPromise(key) {
  return new Promise((resolve, reject) => { pending.set(key, [resolve, reject]); });
}
export function settlePromise(key, ok, value) {
  const resolvers = pending.get(key);
  if (resolvers === undefined) return;
  pending.delete(key);
  resolvers[ok ? 0 : 1](value);
}

// ---- Arguments and options (convert.rs) ----------------------------------------------------------------------------

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const plain = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const message = (e) => (e !== null && typeof e === 'object' && typeof e.message === 'string' ? e.message : String(e));
// The connection params as a flat array of query-string pairs: strings as they are, objects and arrays as JSON,
// other values as text; null and undefined left out.
// Called before every connection attempt when `params` is a function: what it returns, or the promise's value.
export function paramsSource(params) {
  return async () => queryParams(await params());
}
// The endpoint argument: one URL or a non-empty list of them.
export function endpointList(endpoint) {
  const list = Array.isArray(endpoint) ? endpoint : [endpoint];
  if (list.length === 0) throw new TypeError('`endpoint` must be a URL or a non-empty array of URLs, got an empty array');
  list.forEach((url, i) => {
    if (typeof url !== 'string') {
      throw new TypeError('`endpoint' + (Array.isArray(endpoint) ? '[' + i + ']' : '') + '` must be a string, got ' + kind(url));
    }
  });
  return list;
}
export function queryParams(params) {
  if (params === undefined || params === null) return [];
  if (!plain(params)) throw new TypeError('`params` must be an object, got ' + kind(params));
  const pairs = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    let text = value;
    if (typeof value === 'object') {
      try { text = JSON.stringify(value); } catch (e) {
        throw new TypeError('`params.' + key + '` cannot be serialized: ' + message(e));
      }
    }
    pairs.push(key, String(text));
  }
  return pairs;
}
const NAMES = ['connectionTimeout', 'baseReconnectDelay', 'maxReconnectDelay', 'responseTimeout', 'joinTimeout',
  'pingInterval', 'maxReconnectAttempts', 'maxQueueSize', 'WebSocket', 'transport', 'withCredentials', 'logger',
  'presenceKey'];
const TRANSPORTS = ['websocket', 'sse', 'auto'];
const MAX = 2147483647;
// The constructor's options in the order of NAMES, checked; undefined where not given, 0 for a null pingInterval.
export function parseOptions(options) {
  const out = new Array(NAMES.length);
  if (options === undefined || options === null) return out;
  if (!plain(options)) throw new TypeError('`options` must be an object, got ' + kind(options));
  for (const [name, value] of Object.entries(options)) {
    const at = NAMES.indexOf(name);
    // Unknown names are ignored, as the JS client ignores them (its options differ between versions).
    if (at < 0 || value === undefined) continue;
    if (at === 5 && value === null) { out[at] = 0; continue; }
    if (at < 6) {
      if (typeof value !== 'number') throw new TypeError('`' + name + '` must be a number of milliseconds, got ' + kind(value));
      if (!(value > 0 && value <= MAX)) {
        throw new TypeError('`' + name + '` must be between 1 and ' + MAX + ' milliseconds, got ' + value);
      }
      out[at] = Math.ceil(value);
    } else if (at < 8) {
      const min = at === 6 ? -1 : 1;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 4294967295) {
        throw new TypeError('`' + name + '` must be a whole number from ' + min + ', got '
          + (typeof value === 'number' ? value : kind(value)));
      }
      out[at] = value;
    } else if (at === 8 || at >= 11) {
      if (typeof value !== 'function') throw new TypeError('`options.' + name + '` must be a function, got ' + kind(value));
      out[at] = value;
    } else if (at === 9) {
      out[at] = TRANSPORTS.indexOf(value);
      if (out[at] < 0) {
        throw new TypeError("`transport` must be 'websocket', 'sse' or 'auto', got "
          + (typeof value === 'string' ? JSON.stringify(value) : kind(value)));
      }
    } else if (at === 10) {
      if (typeof value !== 'boolean') throw new TypeError('`withCredentials` must be a boolean, got ' + kind(value));
      out[at] = value;
    }
  }
  return out;
}

// ---- Presence after a rejoin (codec.rs) ----------------------------------------------------------------------------

// Whether two JSON values are the same, whatever the order of their members.
const same = (a, b) => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
};
// `[arrived, departed]`: who is in `presence` and not in `previous`, and the reverse; the same by `key(entry)` when
// the app gives one (`presenceKey`), else by deep equality.
export function presenceDiff(previous, presence, key) {
  if (typeof key === 'function') {
    const keys = (list) => new Set(list.map((entry) => key(entry)));
    const before = keys(previous);
    const now = keys(presence);
    return [presence.filter((entry) => !before.has(key(entry))), previous.filter((entry) => !now.has(key(entry)))];
  }
  const missing = (from, other) => from.filter((entry) => !other.some((o) => same(o, entry)));
  return [missing(presence, previous), missing(previous, presence)];
}

// ---- The debug log (mod.rs) ----------------------------------------------------------------------------------------

// `logger(level, message, fields)`, with `fields` made of a flat array (name, value, ...) and, for a record about an
// error, its message under `error`.
export function callLogger(logger, level, message, flat, error) {
  const fields = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  if (error !== undefined) fields.error = error.message;
  logger(level, message, fields);
}

// ---- Errors as the objects users catch (errors.rs) -----------------------------------------------------------------

let classes = {};
export function registerClasses(registered) { classes = registered; }
const channelError = (code, status, message) => code + ' (' + status + '): ' + message;
const REASONS = [
  () => 'the channel was left',
  (c, s, m) => 'the join was declined: ' + channelError(c, s, m),
  (r) => 'evicted from the channel: ' + r,
  () => 'the client disconnected',
  () => 'the connection was lost before the reply arrived',
  () => 'dropped from the full outbound queue',
  (c, s, m) => 'the channel does not exist on the server: ' + channelError(c, s, m),
  (c, s, m) => 'the server rejected it: ' + channelError(c, s, m),
  () => 'aborted',
];
const FRAME = [
  () => 'empty frame',
  () => 'binary frame (the protocol is JSON text)',
  (d) => 'not JSON: ' + d,
  () => 'not a JSON object',
  (d) => 'missing field `' + d + '`',
  (d, e) => 'field `' + d + '` is not ' + e,
  (d) => 'unknown action "' + d + '"',
  (d) => 'unknown presence event "' + d + '"',
  (d) => 'malformed presence payload: ' + d,
];
// [class, message, properties] for each kind of error.
const KINDS = [
  [TypeError, (a) => 'invalid endpoint: ' + a],
  [TypeError, (a, b) => 'invalid option `' + a + '`: ' + b],
  [TypeError, (a, b) => 'invalid argument `' + a + '`: ' + b],
  ['ChannelUnavailableError', (a, b) => 'channel "' + a + '" is ' + b + ': create a new channel to use it again',
    (a, b) => ({ channel: a, state: b })],
  ['ResponseTimeoutError', (a, b) => 'no response to "' + a + '" within ' + b + ' ms', (a, b) => ({ event: a, timeoutMs: b })],
  ['RequestCancelledError', (a, b, c, d, e) => 'request "' + a + '" cancelled: ' + REASONS[b](c, d, e),
    (a, b, c, d, e) => ({ event: a, reason: REASONS[b](c, d, e) })],
  ['MalformedFrameError', (a, b, c, d) => 'malformed frame: ' + FRAME[a](b, c) + (d ? ' in "' + d + '"' : '')],
  ['ServerError', (a, b, c) => 'server error ' + a + ' on "' + b + '": ' + JSON.stringify(c),
    (a, b, c) => ({ event: a, channel: b, payload: c })],
  ['ConnectionError', (a) => 'the server did not accept the connection within ' + a + ' ms'],
  ['ConnectionError', (a) => 'nothing from the server for ' + a + ' ms'],
  ['ConnectionError', (a, b) => 'connection closed (code ' + a + ')' + (b ? ': ' + b : ''), (a, b) => ({ code: a, reason: b })],
  ['ConnectionError', (a) => 'socket error: ' + a],
  ['ConnectionError', (a) => 'gave up reconnecting after ' + a + ' failed attempts; call connect() to try again'],
  ['CallbackError', (a) => 'a callback threw: ' + a],
  ['ConnectionError', (a) => 'WebSocket failed to connect ' + a + ' times in a row: moved to Server-Sent Events, '
    + 'which it keeps until disconnect()', () => ({ transport: 'sse' })],
];
// The JS client's shape for what a server said about a channel; `details` arrives as JSON text.
export function errorPayload(code, message, status, details) {
  const error = { code, message, status, statusCode: status };
  if (details !== undefined) error.details = JSON.parse(details);
  return error;
}
export function makeError(kind, a, b, c, d, e) {
  const [type, message, properties] = KINDS[kind];
  const text = message(a, b, c, d, e);
  if (type === TypeError) return new TypeError(text);
  const Class = classes[type];
  let error;
  if (Class) {
    error = new Class(text);
  } else {
    error = new Error(text);
    error.name = type;
  }
  if (properties) Object.assign(error, properties(a, b, c, d, e));
  return error;
}

// ---- Frames: parsed once by JSON.parse, routing fields written into wasm memory (codec.rs) -------------------------

let payload, presence, changed, lines = null, at = 0, detail = '', excerpt = '', fields = null;
let memory, bytes, scratch = 0, room = 0;
const ACTIONS = ['CONNECT', 'SYSTEM', 'BROADCAST', 'ERROR', 'PRESENCE'];
const PRESENCE_KINDS = ['JOIN', 'LEAVE', 'UPDATE'];
export function useScratch(wasmMemory, start, size) {
  memory = wasmMemory;
  bytes = new Uint8Array(memory.buffer);
  scratch = start;
  room = size;
}
function put(text, start, end) {
  const n = text.length;
  if (start + n > end) return -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || c === 0) return -1;
    bytes[start + i] = c;
  }
  return start + n;
}
function header(value) {
  if (bytes.buffer !== memory.buffer) bytes = new Uint8Array(memory.buffer);
  bytes[scratch] = value | (lines !== null && at < lines.length ? 2 : 0);
}
// A negative code: what is wrong with the object `text`.
function fail(code, what, text) {
  detail = what;
  const trimmed = text.trim();
  const chars = Array.from(trimmed);
  excerpt = chars.length > 80 ? chars.slice(0, 80).join('') + '\u2026' : trimmed;
  header(0);
  return code;
}
// The code after the routing fields' room (little-endian i32), then the payload (undefined unless the code is >= -2).
function answer(code) {
  const at = scratch + room;
  bytes[at] = code & 0xff;
  bytes[at + 1] = (code >> 8) & 0xff;
  bytes[at + 2] = (code >> 16) & 0xff;
  bytes[at + 3] = (code >> 24) & 0xff;
  const p = payload;
  payload = undefined;
  return p;
}
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
// One parsed object: the bytes of routing fields written (ASCII that fits), -2 (take them one by one), or a failure.
function read(frame, text) {
  if (!isObject(frame)) return fail(-12, '', text);
  const values = [frame.action, frame.event, frame.channelName, frame.requestId];
  for (let i = 0; i < 4; i++) {
    const value = values[i];
    if (value === undefined || value === null) {
      if (i < 3) return fail(-13, i, text);
    } else if (typeof value !== 'string') {
      return fail(-14, i, text);
    }
  }
  const p = frame.payload;
  if (p === undefined || p === null) return fail(-13, 4, text);
  if (!isObject(p)) return fail(-14, 4, text);
  const action = values[0];
  if (!ACTIONS.includes(action)) return fail(-15, action, text);
  if (action === 'PRESENCE') {
    if (!PRESENCE_KINDS.includes(values[1])) return fail(-16, values[1], text);
    if (!('presence' in p)) return fail(-17, 0, text);
    if (!Array.isArray(p.presence) || !p.presence.every(isObject)) return fail(-17, 1, text);
    if (!('changed' in p)) return fail(-17, 2, text);
    if (!isObject(p.changed)) return fail(-17, 3, text);
    presence = p.presence;
    changed = p.changed;
  }
  payload = p;
  const withId = typeof values[3] === 'string';
  header(withId ? 1 : 0);
  const end = scratch + room;
  let next = scratch + 1;
  for (let i = 0; i < (withId ? 4 : 3) && next >= 0; i++) {
    if (i > 0) {
      if (next >= end) { next = -1; break; }
      bytes[next++] = 0;
    }
    next = put(values[i], next, end);
  }
  if (next >= 0) return next - scratch;
  fields = values;
  return -2;
}
function parseLine() {
  const text = lines[at++];
  let frame;
  try { frame = JSON.parse(text); } catch (error) { return fail(-11, String(error && error.message), text); }
  return read(frame, text);
}
// The first object of the frame `data` (a socket's MessageEvent.data); then `nextObject` for the others while the
// header's bit 1 is set.
export function parseFrame(data) {
  lines = null;
  if (typeof data !== 'string') return answer(fail(-18, '', ''));
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    if (data.trim() === '') return answer(fail(-10, '', ''));
    lines = data.split('\n').filter((line) => line.trim() !== '');
    at = 0;
    return answer(parseLine());
  }
  return answer(read(frame, data));
}
export function nextObject() { return answer(parseLine()); }
export function takePresence() { const p = [presence, changed]; presence = changed = undefined; return p; }
export function takeField(i) { const f = fields[i]; if (i === 3) fields = null; return f; }
export function takeDetail() { const d = detail; detail = ''; return d; }
export function takeExcerpt() { const e = excerpt; excerpt = ''; return e; }
