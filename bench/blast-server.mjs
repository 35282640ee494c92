// The benchmark's server: just enough PondSocket for the three clients of scripts/bench.sh, and fast enough not to
// be what is measured. Node + the `ws` package (from $PONDSOCKET_TOOLS/node_modules, or BENCH_WS_MODULE).
//
//   node bench/blast-server.mjs [--port 0] [--root DIR] [--prebuild CHANNEL:COUNT:SIZE,...]
//
// Prints `LISTENING http://127.0.0.1:PORT` when ready. Serves static files from --root over HTTP (the benchmark
// page, pkg/, the peer's bundle), with COOP/COEP so that performance.now() is precise in the page, and WebSocket
// on any path. Frames are JSON text, keys in the order the Rust server uses (action, channelName, requestId,
// payload, event), one object per frame:
//   connect                      → CONNECT/CONNECTION on GATEWAY, payload {id, connectionId}
//   JOIN_CHANNEL                 → SYSTEM/ACKNOWLEDGE, the join's requestId
//   LEAVE_CHANNEL                → SYSTEM/EXIT_ACKNOWLEDGE, the leave's requestId
//   BROADCAST echo {…}           → SYSTEM/echo with the same payload and requestId (a reply)
//   BROADCAST blast {count,size} → `count` BROADCAST frames `m` on that channel, payload {i, ts, user, text} of
//                                  about `size` bytes of JSON, i = 0..count-1, written as fast as the socket takes
//                                  them (prebuilt raw WebSocket frames, paced by the socket's backpressure)
//   BROADCAST fanout {prefix,count} → one BROADCAST `f` to each channel prefix+0 … prefix+(count-1), payload {ch: i}
//   BROADCAST stats {}           → SYSTEM/stats {blasts, framesSent, sendMs, cpuMs}: the server's own time and CPU
//                                  spent writing blasts (also as JSON at GET /__stats)
//   anything else                → SYSTEM/NOT_FOUND {channel, event}, correlated
// The same over Server-Sent Events on /socket: GET with Accept: text/event-stream opens the stream (header
// x-connection-id), each frame one unnamed event (`data: <frame>`, so that an EventSource's onmessage hears it too),
// blasts prebuilt as events and paced by the response's backpressure; POST with X-Connection-ID carries a message
// (204), DELETE ends the stream.
import { randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(arg('port', '0'));
const root = resolve(arg('root', process.cwd()));
const prebuild = (arg('prebuild', '') || '').split(',').filter(Boolean);

const tools = process.env.PONDSOCKET_TOOLS || join(homedir(), '.cache/pondsocket-wasm-tools');
const wsPath = process.env.BENCH_WS_MODULE || join(tools, 'node_modules', 'ws');
const { WebSocketServer } = createRequire(import.meta.url)(wsPath);

// ---- frames ----------------------------------------------------------------------------------------------------

const frame = (action, channelName, requestId, payload, event) =>
  JSON.stringify({ action, channelName, requestId, payload, event });

const LOREM = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. ';

/** A broadcast payload of about `size` bytes of JSON: a small realistic object padded with text. */
function blastPayload(i, size) {
  const payload = { i, ts: 1_700_000_000_000 + i, user: { id: 'u-42', name: 'Ada' }, text: '' };
  const base = JSON.stringify(payload).length;
  const want = Math.max(0, size - base);
  payload.text = LOREM.repeat(Math.ceil(want / LOREM.length) + 1).slice(0, want);
  return payload;
}

/** A server-to-client (unmasked) WebSocket text frame around `body`. */
function rawTextFrame(body) {
  const n = body.length;
  let header;
  if (n < 126) {
    header = Buffer.from([0x81, n]);
  } else if (n < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81; header[1] = 126; header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81; header[1] = 127; header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, body]);
}

const CHUNK = 256 * 1024;
const blasts = new Map(); // "transport:channel:count:size" → { chunks: Buffer[], frames, bytes }

/** One frame as an SSE event. */
const sseEvent = (text) => `data: ${text}\n\n`;

/**
 * The whole blast as raw WebSocket frames (or SSE events), concatenated into chunks of about CHUNK bytes (whole
 * frames only).
 */
function buildBlast(channel, count, size, sse = false) {
  const key = `${sse ? 'sse' : 'ws'}:${channel}:${count}:${size}`;
  let blast = blasts.get(key);
  if (blast) return blast;
  const chunks = [];
  let pending = [];
  let pendingBytes = 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const text = frame('BROADCAST', channel, randomUUID(), blastPayload(i, size), 'm');
    const raw = sse ? Buffer.from(sseEvent(text)) : rawTextFrame(Buffer.from(text));
    pending.push(raw);
    pendingBytes += raw.length;
    bytes += raw.length;
    if (pendingBytes >= CHUNK) {
      chunks.push(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length) chunks.push(Buffer.concat(pending));
  blast = { chunks, frames: count, bytes, sample: count ? frame('BROADCAST', channel, 'x', blastPayload(0, size), 'm') : '' };
  blasts.set(key, blast);
  return blast;
}

for (const spec of prebuild) {
  const [channel, count, size] = spec.split(':');
  buildBlast(channel, Number(count), Number(size));
  buildBlast(channel, Number(count), Number(size), true);
}

// ---- sending with backpressure ----------------------------------------------------------------------------------

const stats = { blasts: 0, framesSent: 0, sendMs: 0, cpuMs: 0 };

/**
 * Writes the prebuilt frames straight to the TCP socket under `ws` (nothing else is being written on it while a
 * blast runs: the client waits for it), waiting for 'drain' whenever the socket's buffer is full.
 */
async function writeBlast(ws, blast) {
  // A WebSocket's TCP socket, or an SSE response (a writable stream too).
  const socket = ws._socket ?? ws.stream;
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const chunk of blast.chunks) {
    if (ws.readyState !== ws.OPEN) return;
    if (!socket.write(chunk)) {
      await new Promise((done) => {
        const finish = () => { socket.off('drain', finish); socket.off('close', finish); done(); };
        socket.on('drain', finish);
        socket.on('close', finish);
      });
    }
  }
  stats.blasts += 1;
  stats.framesSent += blast.frames;
  stats.sendMs += performance.now() - started;
  const used = process.cpuUsage(cpu);
  stats.cpuMs += (used.user + used.system) / 1000;
}

// ---- protocol ---------------------------------------------------------------------------------------------------

// Messages of one connection are handled one after another: a blast finishes writing before the next message
// (say, the echo that checks nothing more arrived) is answered, so its reply comes after every frame of the blast.
function handle(ws, message, send) {
  const { action, event, channelName, requestId, payload } = message;
  if (action === 'JOIN_CHANNEL') return send(frame('SYSTEM', channelName, requestId, {}, 'ACKNOWLEDGE'));
  if (action === 'LEAVE_CHANNEL') return send(frame('SYSTEM', channelName, requestId, {}, 'EXIT_ACKNOWLEDGE'));
  if (action !== 'BROADCAST') {
    return send(frame('ERROR', channelName ?? 'GATEWAY', requestId ?? '', { message: 'unknown action' }, 'INVALID_MESSAGE'));
  }
  switch (event) {
    case 'echo':
      return send(frame('SYSTEM', channelName, requestId, payload ?? {}, 'echo'));
    case 'blast': {
      const count = Math.max(0, Math.floor(Number(payload?.count) || 0));
      const size = Math.max(0, Math.floor(Number(payload?.size) || 0));
      return writeBlast(ws, buildBlast(channelName, count, size, ws.stream !== undefined));
    }
    case 'fanout': {
      const count = Math.max(0, Math.floor(Number(payload?.count) || 0));
      const prefix = String(payload?.prefix ?? '/fan/');
      for (let i = 0; i < count; i++) send(frame('BROADCAST', `${prefix}${i}`, randomUUID(), { ch: i }, 'f'));
      return undefined;
    }
    case 'stats':
      return send(frame('SYSTEM', channelName, requestId, { ...stats }, 'stats'));
    default:
      return send(frame('SYSTEM', channelName, requestId, { channel: channelName, event }, 'NOT_FOUND'));
  }
}

// ---- HTTP (static files) and WebSocket ----------------------------------------------------------------------------

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.cjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml',
};

const http = createServer((req, res) => {
  const headers = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cache-Control': 'no-store',
  };
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (path === '/socket') {
    sse(req, res);
    return;
  }
  if (path === '/__stats') {
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  const file = join(root, path);
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403, headers).end();
    return;
  }
  let info;
  try {
    info = statSync(file);
  } catch {
    res.writeHead(404, headers).end('not found');
    return;
  }
  if (!info.isFile()) {
    res.writeHead(404, headers).end('not found');
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
  createReadStream(file).pipe(res);
});

/**
 * One connection's messages, handled one at a time, in order (synchronously unless a blast is still being
 * written): returns what takes a message's text.
 */
function inbox(ws, send) {
  const backlog = [];
  let busy = false;
  const pump = () => {
    while (!busy && backlog.length) {
      const pending = handle(ws, backlog.shift(), send);
      if (pending) {
        busy = true;
        pending.then(() => { busy = false; pump(); }, (error) => console.error('blast-server:', error));
      }
    }
  };
  return (text) => {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        backlog.push(JSON.parse(line));
      } catch {
        send(frame('ERROR', 'GATEWAY', '', { message: 'not JSON' }, 'INVALID_MESSAGE'));
      }
    }
    pump();
  };
}

const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws._socket.setNoDelay(true);
  const send = (text) => ws.send(text);
  const receive = inbox(ws, send);
  ws.on('message', (data, isBinary) => {
    if (!isBinary) receive(data.toString());
  });
  ws.on('error', () => {});
  const id = randomUUID();
  send(frame('CONNECT', 'GATEWAY', randomUUID(), { id, connectionId: id }, 'CONNECTION'));
});

// SSE connections by id: { stream (the response), readyState, OPEN, receive }.
const streams = new Map();
function sse(req, res) {
  if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream')) {
    const id = randomUUID();
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'x-connection-id': id });
    res.socket?.setNoDelay(true);
    const conn = { stream: res, OPEN: 1, readyState: 1 };
    const send = (text) => { res.write(sseEvent(text)); };
    conn.receive = inbox(conn, send);
    streams.set(id, conn);
    res.on('close', () => { conn.readyState = 3; streams.delete(id); });
    send(frame('CONNECT', 'GATEWAY', randomUUID(), { id, connectionId: id }, 'CONNECTION'));
    return;
  }
  const conn = streams.get(req.headers['x-connection-id']);
  if (req.method === 'DELETE') {
    conn?.stream.end();
    res.writeHead(204).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    if (req.method !== 'POST' || conn === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(204).end();
    conn.receive(body);
  });
}

http.listen(port, '127.0.0.1', () => {
  console.log(`LISTENING http://127.0.0.1:${http.address().port}`);
});

const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  for (const conn of streams.values()) conn.stream.destroy();
  http.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
