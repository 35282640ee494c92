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
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const tools = process.env.PONDSOCKET_TOOLS ?? join(process.env.HOME, '.cache/pondsocket-wasm-tools');
const { WebSocketServer } = createRequire(join(tools, 'node_modules/'))('ws');

const http = createServer((_, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server: http, path: '/socket', maxPayload: 64 << 20 });

const reply = (socket, channelName, event, requestId, payload = {}) =>
  socket.send(JSON.stringify({ action: 'SYSTEM', event, channelName, requestId, payload }));

wss.on('connection', (socket, request) => {
  const query = new URL(request.url, 'http://x').searchParams;
  if (query.get('mode') === 'silent') return;
  if (query.get('token') !== 'good') {
    socket.close(4003, 'declined');
    return;
  }
  const id = Math.random().toString(36).slice(2);
  socket.send(JSON.stringify({ action: 'CONNECT', event: 'CONNECTION', channelName: 'GATEWAY',
    requestId: 'connect', payload: { id, connectionId: id } }));

  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    let message;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return;
    }
    const { action, event, channelName, requestId, payload } = message;
    if (action === 'JOIN_CHANNEL') {
      if (channelName.startsWith('/silent/')) return;
      if (channelName.startsWith('/private/')) {
        return reply(socket, channelName, 'UNAUTHORIZED', requestId, { code: 403, message: 'private room' });
      }
      if (channelName.startsWith('/detailed/')) {
        return reply(socket, channelName, 'UNAUTHORIZED', requestId,
          { code: 'PAYMENT_REQUIRED', message: 'needs a plan', statusCode: 402, details: { plans: ['pro', 1] } });
      }
      if (channelName.startsWith('/nope/')) return reply(socket, channelName, 'NOT_FOUND', requestId, { channel: channelName });
      reply(socket, channelName, 'ACKNOWLEDGE', requestId);
      const me = { id, ...payload };
      socket.send(JSON.stringify({ action: 'PRESENCE', event: 'JOIN', channelName, requestId: 'p',
        payload: { presence: [me], changed: me } }));
    } else if (action === 'LEAVE_CHANNEL') {
      reply(socket, channelName, 'EXIT_ACKNOWLEDGE', requestId);
    } else if (action === 'BROADCAST' && event === 'echo') {
      reply(socket, channelName, 'echo', requestId, payload);
    } else if (action === 'BROADCAST' && event === 'reply-as') {
      reply(socket, channelName, payload.event, requestId, { ok: true });
    } else if (action === 'BROADCAST' && event === 'raw') {
      for (const frame of payload.frames ?? []) {
        if ('text' in frame) socket.send(frame.text);
        else if ('binary' in frame) socket.send(Buffer.from(frame.binary, 'base64'), { binary: true });
        else if ('textBytes' in frame) socket.send(Buffer.from(frame.textBytes, 'base64'), { binary: false });
      }
      reply(socket, channelName, 'raw-done', requestId, { sent: (payload.frames ?? []).length });
    }
  });
});

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
  http.close();
  blackhole.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
