// What the web client needs from the JS host, browser or Node (imported by platform.rs): entropy, the page's location,
// a WebSocket and an SSE connection, the endpoint as the host's URL parses it, messages of thrown values.

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
// The endpoints (an array of strings) as URLs to open (resolveEndpoint).
export function resolveEndpoints(endpoints, params, base) {
  return endpoints.map((endpoint) => resolveEndpoint(endpoint, params, base));
}
// The endpoint as the URL to open: http(s) becomes ws(s), a relative one is resolved against `base`, the fragment
// goes, and the params are added (withParams). Throws a message that never repeats the query string, which may hold a
// token.
function resolveEndpoint(endpoint, params, base) {
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
  return withParams(scheme + '//' + url.host + url.pathname + url.search, params);
}
// `url` with each param (`params` is a flat array: key, value, key, value...) replacing one of the same name in its
// query, or added to it.
export function withParams(url, params) {
  const at = url.indexOf('?');
  const base = at < 0 ? url : url.slice(0, at);
  const search = at < 0 ? '' : url.slice(at + 1);
  const encoded = params.filter((_, i) => i % 2 === 0).map(encodeURIComponent);
  const kept = search.split('&').filter((pair) => pair !== '' && !encoded.includes(pair.split('=')[0]));
  const query = kept.concat(encoded.map((key, i) => key + '=' + encodeURIComponent(params[2 * i + 1]))).join('&');
  return base + (query === '' ? '' : '?' + query);
}
// Calls `source` (the params function; it returns the params as a flat array, or a promise of them) in a microtask
// of its own, never inside the caller, and gives its outcome to `done(pairs)` or `fail(message)`, unless the function
// returned is called first (the attempt was given up): then neither is called.
export function awaitParams(source, done, fail) {
  let live = true;
  Promise.resolve().then(() => source()).then(
    (pairs) => live && done(pairs),
    (error) => live && fail(describe(error)),
  );
  return () => { live = false; };
}
// What the page says of itself, as `report(kind)`: 0 offline, 1 online, 2 visible, 3 hidden, 4 focus, 5 into the
// back/forward cache, 6 back from it. The current visibility (and the network, if it is away) is reported at once.
// Returns the function that removes the listeners; undefined where there is no page (Node), which reports nothing.
export function watchPage(report) {
  const win = globalThis.window;
  const doc = globalThis.document;
  if (win === undefined || doc === undefined || typeof win.addEventListener !== 'function') return undefined;
  const listeners = [
    [win, 'offline', () => report(0)],
    [win, 'online', () => report(1)],
    [doc, 'visibilitychange', () => report(doc.visibilityState === 'hidden' ? 3 : 2)],
    [win, 'focus', () => report(4)],
    [win, 'pagehide', (event) => event.persisted && report(5)],
    [win, 'pageshow', (event) => event.persisted && report(6)],
  ];
  for (const [target, name, listener] of listeners) target.addEventListener(name, listener);
  report(doc.visibilityState === 'hidden' ? 3 : 2);
  if (globalThis.navigator?.onLine === false) report(0);
  return () => { for (const [target, name, listener] of listeners) target.removeEventListener(name, listener); };
}
