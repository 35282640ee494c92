// A scripted PondSocket server that misbehaves on demand, for what a real server will not do: malformed frames,
// binary and invalid UTF-8 frames, stray protocol events, silence.
//
//   node tests/support/hostile-server.mjs      (needs the `ws` package: scripts/setup.sh installs it)
//   prints: HOSTILE http://127.0.0.1:P BLACKHOLE http://127.0.0.1:Q
//
// ws://127.0.0.1:P/socket?token=good        a minimal well-behaved server, plus the `raw` event below
// ws://127.0.0.1:P/socket?mode=silent       accepts the WebSocket and never sends CONNECTION
// ws://127.0.0.1:P/socket?token=bad         closes at once (a declined connection)
// http://127.0.0.1:Q                        accepts TCP and never answers the handshake
//
// Well-behaved part: CONNECTION on connect; JOIN_CHANNEL → ACKNOWLEDGE (UNAUTHORIZED for /private/*, and with a
// string code, a statusCode and details for /detailed/*, NOT_FOUND for /nope/*, nothing for /silent/*), with a PRESENCE JOIN; LEAVE_CHANNEL → EXIT_ACKNOWLEDGE; `echo` → reply;
// `reply-as` → a reply named `payload.event` (any name, system ones included).
// The `raw` event sends `payload.frames` verbatim as text frames (`{text}`), binary frames (`{binary: base64}`) or
// text frames of raw bytes that need not be UTF-8 (`{textBytes: base64}`), then replies `raw-done` to the request,
// so the client knows every frame before the reply has been delivered.
// Over SSE (http://127.0.0.1:P/socket, the same contract): frames are events (`data` lines); `raw` also takes
// `{sse}` (written to the stream as it is) and `{sseBytes: base64}`; `end-connection` ends the stream (or closes
// the WebSocket); `forget` makes the server forget the connection, so that its next POST is answered 404; `cookie`
// replies `{cookie}`, the Cookie header the connection was opened with.
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const tools = process.env.PONDSOCKET_TOOLS ?? join(process.env.HOME, '.cache/pondsocket-wasm-tools');
const { WebSocketServer } = createRequire(join(tools, 'node_modules/'))('ws');

// Over SSE (GET with Accept: text/event-stream; POST and DELETE with X-Connection-ID), the connections by id.
const streams = new Map();
const http = createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (url.pathname !== '/socket') return response.writeHead(404).end();
  // CORS, for the browser suites' pages on other origins (as tests/server-python/app.py sets it up).
  const origin = request.headers.origin;
  if (origin !== undefined) {
    response.setHeader('access-control-allow-origin', origin);
    response.setHeader('access-control-allow-credentials', 'true');
    response.setHeader('access-control-expose-headers', 'x-connection-id');
    if (request.method === 'OPTIONS') {
      response.setHeader('access-control-allow-methods', 'GET, POST, DELETE');
      response.setHeader('access-control-allow-headers', 'content-type, x-connection-id');
      return response.writeHead(204).end();
    }
  }
  if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/event-stream')) {
    return openStream(url.searchParams, response, request.headers.cookie);
  }
  const stream = streams.get(request.headers['x-connection-id']);
  if (request.method === 'DELETE') {
    stream?.end();
    return response.writeHead(204).end();
  }
  if (request.method !== 'POST') return response.writeHead(405).end();
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    // A connection the server forgot (or never had): 404, as pondsocket-asgi answers.
    if (stream === undefined) return response.writeHead(404).end('unknown connection');
    response.writeHead(204).end();
    stream.receive(body);
  });
});
const wss = new WebSocketServer({ server: http, path: '/socket', maxPayload: 64 << 20 });

const reply = (peer, channelName, event, requestId, payload = {}) =>
  peer.send(JSON.stringify({ action: 'SYSTEM', event, channelName, requestId, payload }));

wss.on('connection', (socket, request) => {
  const query = new URL(request.url, 'http://x').searchParams;
  if (query.get('mode') === 'silent') return;
  if (query.get('token') !== 'good') {
    socket.close(4003, 'declined');
    return;
  }
  const peer = {
    id: Math.random().toString(36).slice(2),
    cookie: request.headers.cookie,
    send: (text) => socket.send(text),
    raw: (frame) => {
      if ('text' in frame) socket.send(frame.text);
      else if ('binary' in frame) socket.send(Buffer.from(frame.binary, 'base64'), { binary: true });
      else if ('textBytes' in frame) socket.send(Buffer.from(frame.textBytes, 'base64'), { binary: false });
    },
    end: () => socket.terminate(),
    forget: () => {},
  };
  connected(peer);
  socket.on('message', (data, isBinary) => {
    if (!isBinary) handle(peer, data.toString());
  });
});

function openStream(query, response, cookie) {
  if (query.get('token') !== 'good') return response.writeHead(401, { 'content-type': 'text/plain' }).end('bad token');
  const id = Math.random().toString(36).slice(2);
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-connection-id': id });
  response.flushHeaders();
  if (query.get('mode') === 'silent') return;
  // Each frame is one event; a text with line breaks goes as several data lines, which the client joins again.
  const event = (text) => `event: message\n${text.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`;
  const peer = {
    id,
    cookie,
    send: (text) => response.write(event(text)),
    // `{text}` as one event, `{sse}` written to the stream as it is (any field, any line end), `{sseBytes: base64}`
    // raw bytes (not UTF-8, say).
    raw: (frame) => {
      if ('text' in frame) response.write(event(frame.text));
      else if ('sse' in frame) response.write(frame.sse);
      else if ('sseBytes' in frame) response.write(Buffer.from(frame.sseBytes, 'base64'));
    },
    end: () => { streams.delete(id); response.end(); },
    forget: () => streams.delete(id),
    receive: (body) => handle(peer, body),
  };
  streams.set(id, peer);
  response.on('close', () => { if (streams.get(id) === peer) streams.delete(id); });
  connected(peer);
}

function connected(peer) {
  peer.send(JSON.stringify({ action: 'CONNECT', event: 'CONNECTION', channelName: 'GATEWAY',
    requestId: 'connect', payload: { id: peer.id, connectionId: peer.id } }));
}

function handle(peer, text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  const { action, event, channelName, requestId, payload } = message;
  if (action === 'JOIN_CHANNEL') {
    if (channelName.startsWith('/silent/')) return;
    if (channelName.startsWith('/private/')) {
      return reply(peer, channelName, 'UNAUTHORIZED', requestId, { code: 403, message: 'private room' });
    }
    if (channelName.startsWith('/detailed/')) {
      return reply(peer, channelName, 'UNAUTHORIZED', requestId,
        { code: 'PAYMENT_REQUIRED', message: 'needs a plan', statusCode: 402, details: { plans: ['pro', 1] } });
    }
    if (channelName.startsWith('/nope/')) return reply(peer, channelName, 'NOT_FOUND', requestId, { channel: channelName });
    reply(peer, channelName, 'ACKNOWLEDGE', requestId);
    const me = { id: peer.id, ...payload };
    peer.send(JSON.stringify({ action: 'PRESENCE', event: 'JOIN', channelName, requestId: 'p',
      payload: { presence: [me], changed: me } }));
  } else if (action === 'LEAVE_CHANNEL') {
    reply(peer, channelName, 'EXIT_ACKNOWLEDGE', requestId);
  } else if (action === 'BROADCAST' && event === 'echo') {
    reply(peer, channelName, 'echo', requestId, payload);
  } else if (action === 'BROADCAST' && event === 'reply-as') {
    reply(peer, channelName, payload.event, requestId, { ok: true });
  } else if (action === 'BROADCAST' && event === 'raw') {
    for (const frame of payload.frames ?? []) peer.raw(frame);
    reply(peer, channelName, 'raw-done', requestId, { sent: (payload.frames ?? []).length });
  } else if (action === 'BROADCAST' && event === 'cookie') {
    // The Cookie header the connection was opened with (the WebSocket's upgrade, or the event stream's GET).
    reply(peer, channelName, 'cookie', requestId, { cookie: peer.cookie ?? null });
  } else if (action === 'BROADCAST' && event === 'end-connection') {
    peer.end();
  } else if (action === 'BROADCAST' && event === 'forget') {
    // The next POST of this connection is answered 404; the stream stays open.
    peer.forget();
    reply(peer, channelName, 'forgotten', requestId);
  }
}

// Accepts connections and reads them, never answering: a handshake that hangs.
const held = new Set();
const blackhole = createTcpServer((connection) => {
  held.add(connection);
  connection.on('close', () => held.delete(connection));
  connection.on('error', () => {});
});

await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
await new Promise((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
process.stdout.write(`HOSTILE http://127.0.0.1:${http.address().port} BLACKHOLE http://127.0.0.1:${blackhole.address().port}\n`);

const stop = () => {
  for (const connection of held) connection.destroy();
  for (const client of wss.clients) client.terminate();
  for (const stream of streams.values()) stream.end();
  http.close();
  blackhole.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
