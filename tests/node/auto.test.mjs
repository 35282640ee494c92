// `transport: 'auto'` where WebSocket upgrades are refused: behind tests/support/no-websocket-proxy.mjs, in front of
// the real Python server (the one that speaks SSE). scripts/test-node.sh runs it in its SSE pass; elsewhere it skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PondClient, ConnectionError } from 'pondsocket-wasm';
import { url, unique, until, stateIs, connected } from './helpers.mjs';
import { startNoWebSocketProxy } from './no-websocket-proxy.mjs';

const skip = process.env.PONDSOCKET_SERVER_NAME !== 'python' && 'needs the Python server, which speaks SSE';

test("'auto' moves to SSE after two refused WebSocket upgrades, joins, and messages flow", { skip }, async (t) => {
  const proxy = await startNoWebSocketProxy(url.replace(/^ws/, 'http'));
  t.after(() => proxy.close());
  const client = new PondClient(proxy.url, { token: 'good' }, { transport: 'auto', baseReconnectDelay: 20, maxReconnectDelay: 50 });
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e));
  client.connect();
  await connected(client);
  assert.equal(client.getTransport(), 'sse');
  assert.equal(proxy.refused.count, 2, 'two WebSocket attempts before SSE');
  const fallback = errors.filter((e) => e instanceof ConnectionError && /moved to Server-Sent Events/.test(e.message));
  assert.equal(fallback.length, 1, errors.map((e) => e.message).join('\n'));
  assert.equal(fallback[0].transport, 'sse');

  const channel = client.createChannel(`/chat/${unique('auto')}`, { name: 'auto' });
  const heard = [];
  channel.onMessageEvent('message', (payload) => heard.push(payload.n));
  channel.join();
  await stateIs(channel, 'JOINED');
  for (let n = 0; n < 5; n++) channel.sendMessage('broadcast', { n });
  assert.deepEqual(await channel.sendForResponse('echo', { over: 'sse' }), { over: 'sse' });
  await until(() => heard.length === 5, 'the broadcasts');
  assert.deepEqual(heard, [0, 1, 2, 3, 4]);

  // After disconnect(), connect() tries WebSocket first again.
  client.disconnect();
  client.connect();
  await connected(client);
  assert.equal(proxy.refused.count, 4, 'WebSocket tried twice again');
  assert.equal(client.getTransport(), 'sse');
});

test("'auto' stays on WebSocket where upgrades work", { skip }, async (t) => {
  const client = new PondClient(url, { token: 'good' }, { transport: 'auto' });
  t.after(() => client.disconnect());
  client.connect();
  await connected(client);
  assert.equal(client.getTransport(), 'websocket');
});
