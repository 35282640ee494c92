// What a real server will not do over Server-Sent Events, from the scripted server (tests/support/hostile-server.mjs):
// malformed events and fields, a stream that ends, a server that forgets the connection (its POSTs answered 404).
// After each: every bad event is reported once, nothing escapes to the process, and the client works on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { PondClient, MalformedFrameError, RequestCancelledError } from 'pondsocket-wasm';
import { unique, until, stateIs, connected, watchUncaught } from './helpers.mjs';

const hostile = process.env.PONDSOCKET_HOSTILE_URL;

// Nothing may escape to the process: an uncaught exception or rejection fails the suite.
watchUncaught(before, after);

async function session(t, options = {}) {
  const client = new PondClient(hostile, { token: 'good' }, { transport: 'sse', baseReconnectDelay: 50, ...options });
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e));
  client.connect();
  await connected(client);
  assert.equal(client.getTransport(), 'sse');
  const channel = client.createChannel(`/chat/${unique('sse')}`, { name: 'h' });
  channel.join();
  await stateIs(channel, 'JOINED');
  return { client, channel, errors };
}

const good = (channelName, n) => JSON.stringify({ action: 'BROADCAST', event: 'good', channelName, requestId: `g${n}`, payload: { n } });

test('malformed events and fields are reported once each and the stream goes on', async (t) => {
  const { channel, errors } = await session(t);
  const received = [];
  channel.onMessageEvent('good', (payload) => received.push(payload.n));
  const name = channel.name;
  const frames = [
    { text: good(name, 1) },
    { text: 'not json' },
    { text: '[1,2]' },
    { text: '{"action":"BROADCAST"}' },
    { sse: 'bogus field line\nretry: soon\n: a comment\nid: 7\n\n' },
    { sse: `event: message\r\ndata: ${good(name, 2)}\r\n\r\n` },
    { sseBytes: Buffer.from('data: \xff\xfe{\n\n', 'latin1').toString('base64') },
    // Two data lines make one frame of two objects, which the protocol allows (as in a WebSocket frame).
    { sse: `data: ${good(name, 3)}\rdata: ${good(name, 5)}\r\r` },
    { text: good(name, 4) },
  ];
  const done = await channel.sendForResponse('raw', { frames });
  assert.equal(done.sent, frames.length);
  await until(() => received.length === 5, 'the good messages');
  assert.deepEqual(received, [1, 2, 3, 5, 4]);
  const malformed = errors.filter((e) => e instanceof MalformedFrameError);
  assert.equal(malformed.length, 4, errors.map((e) => e.message).join('\n'));
  assert.deepEqual(errors.filter((e) => !(e instanceof MalformedFrameError)), []);
  assert.deepEqual(await channel.sendForResponse('echo', { after: true }), { after: true });
});

test('a stream that ends is a lost connection: reconnect and rejoin', async (t) => {
  const { client, channel } = await session(t);
  const states = [];
  channel.onChannelStateChange((s) => states.push(s));
  const firstId = client.getConnectionId();
  channel.sendMessage('end-connection', {});
  await until(() => states.includes('STALLED') && channel.channelState === 'JOINED', 'stalled, then joined again');
  assert.notEqual(client.getConnectionId(), firstId, 'a new connection');
  assert.deepEqual(await channel.sendForResponse('echo', { n: 1 }), { n: 1 });
});

test('a POST answered 404 (the server forgot us) loses the connection, rejects the request, and it all comes back',
  async (t) => {
    const { channel, errors } = await session(t);
    await channel.sendForResponse('forget', {});
    const lost = await channel.sendForResponse('echo', { n: 1 }, 5000).then(() => 'resolved', (e) => e);
    assert.ok(lost instanceof RequestCancelledError && /connection was lost/.test(lost.message), String(lost));
    assert.ok(errors.some((e) => /answered HTTP 404/.test(e.message)), errors.map((e) => e.message).join('\n'));
    await stateIs(channel, 'JOINED');
    assert.deepEqual(await channel.sendForResponse('echo', { n: 2 }), { n: 2 });
  });

test('POSTs go out one at a time, in order', async (t) => {
  const { channel } = await session(t);
  const order = [];
  await Promise.all(Array.from({ length: 40 }, (_, n) => channel.sendForResponse('echo', { n }).then((r) => order.push(r.n))));
  assert.deepEqual(order, Array.from({ length: 40 }, (_, n) => n));
});

test('a declined SSE connection is an error with the server\'s status and text', async (t) => {
  const client = new PondClient(hostile, { token: 'bad' }, { transport: 'sse', maxReconnectAttempts: 0 });
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e.message));
  client.connect();
  await until(() => errors.some((m) => /gave up/.test(m)), 'giving up');
  assert.ok(errors.some((m) => /HTTP 401: bad token/.test(m)), errors.join('\n'));
});
