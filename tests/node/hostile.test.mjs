// Hostile input from a scripted server (tests/support/hostile-server.mjs): malformed frames and protocol abuse.
// After each burst: nothing escapes to the process, each bad frame is reported once through onError, and the same
// client still joins, sends and gets replies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { PondClient, MalformedFrameError } from 'pondsocket-wasm';
import { unique, until, stateIs, connected, watchUncaught } from './helpers.mjs';

const hostile = process.env.PONDSOCKET_HOSTILE_URL;
const blackhole = process.env.PONDSOCKET_BLACKHOLE_URL;

// Nothing may escape to the process: an uncaught exception or rejection fails the suite.
watchUncaught(before, after);

async function session(t, options = {}) {
  const client = new PondClient(hostile, { token: 'good' }, options);
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e));
  client.connect();
  const channel = client.createChannel(`/chat/${unique('h')}`, { name: 'h' });
  channel.join();
  await stateIs(channel, 'JOINED');
  return { client, channel, errors };
}

const text = (value) => ({ text: typeof value === 'string' ? value : JSON.stringify(value) });
const good = (channelName, n) => ({ action: 'BROADCAST', event: 'good', channelName, requestId: `g${n}`, payload: { n } });

function malformed(channelName) {
  const base = good(channelName, 0);
  const without = (field) => { const m = { ...base }; delete m[field]; return m; };
  return [
    'not json', '{"action":', '[1,2,3]', '"a string"', '42', 'null', 'true', '{}',
    without('action'), without('event'), without('channelName'), without('payload'),
    { ...base, action: 7 }, { ...base, event: {} }, { ...base, channelName: [] }, { ...base, requestId: 1 },
    { ...base, action: 'PING' }, { ...base, payload: 'text' }, { ...base, payload: [1] }, { ...base, payload: null },
    { ...base, action: 'PRESENCE', event: 'JOIN', payload: { presence: 'x', changed: {} } },
    { ...base, action: 'PRESENCE', event: 'JOIN', payload: { presence: [1], changed: {} } },
    { ...base, action: 'PRESENCE', event: 'JOIN', payload: { presence: [] } },
    { ...base, action: 'PRESENCE', event: 'ENTER', payload: { presence: [], changed: {} } },
  ].map((frame) => (typeof frame === 'string' ? { text: frame } : text(frame)));
}

test('every malformed frame is reported once and the client keeps working', async (t) => {
  const { client, channel, errors } = await session(t);
  const bad = malformed(channel.name);
  assert.ok(bad.length >= 23);
  const received = [];
  channel.onMessageEvent('good', (payload) => received.push(payload.n));
  const frames = [
    ...bad,
    { text: '' }, { text: '   \n\t ' }, { binary: Buffer.from([0, 1, 2, 255]).toString('base64') },
    // One frame, several objects, a bad one among good ones.
    { text: [JSON.stringify(good(channel.name, 1)), 'garbage', JSON.stringify(good(channel.name, 2))].join('\n') },
  ];
  const done = await channel.sendForResponse('raw', { frames });
  assert.equal(done.sent, frames.length);
  const malformedErrors = errors.filter((e) => e instanceof MalformedFrameError);
  assert.equal(malformedErrors.length, bad.length + 3 + 1, malformedErrors.map((e) => e.message).join('\n'));
  assert.equal(errors.length, malformedErrors.length, 'nothing else was reported');
  for (const error of malformedErrors) assert.match(error.message, /^malformed frame: /);
  assert.ok(malformedErrors.some((e) => /binary frame/.test(e.message)));
  assert.deepEqual(received, [1, 2], 'the good objects of a mixed frame are delivered');
  assert.deepEqual(await channel.sendForResponse('echo', { still: 'works' }), { still: 'works' });
  const other = client.createChannel(`/chat/${unique('after')}`);
  other.join();
  await stateIs(other, 'JOINED');
  client.disconnect();
});

test("a decline's string code, statusCode and details reach joinError and onError", async (t) => {
  const client = new PondClient(hostile, { token: 'good' });
  t.after(() => client.disconnect());
  client.connect();
  const channel = client.createChannel(`/detailed/${unique('d')}`);
  const errors = [];
  channel.onError((e) => errors.push(e));
  channel.join();
  await stateIs(channel, 'DECLINED');
  const expected = { code: 'PAYMENT_REQUIRED', message: 'needs a plan', status: 402, statusCode: 402, details: { plans: ['pro', 1] } };
  assert.deepEqual(channel.joinError, expected);
  assert.deepEqual(errors, [expected]);
});

test('a two-megabyte payload is delivered whole', async (t) => {
  const { client, channel } = await session(t);
  const big = 'x'.repeat(2 << 20);
  const got = new Promise((resolve) => channel.onMessageEvent('big', resolve));
  await channel.sendForResponse('raw', { frames: [text({ action: 'BROADCAST', event: 'big', channelName: channel.name, requestId: 'b', payload: { big } })] });
  assert.equal((await got).big.length, big.length);
  client.disconnect();
});

test('odd but valid frames arrive as JSON.parse reads them, whichever way the client routes them', async (t) => {
  const { channel, errors } = await session(t);
  const name = channel.name;
  const got = [];
  channel.onMessage((event, payload) => got.push([event, payload]));
  const frames = [
    // A NUL in a routing field: the client's one-string envelope cannot carry it, so this takes the text path.
    text({ action: 'BROADCAST', event: 'nul\u0000inside', channelName: name, payload: { n: 1 } }),
    text({ action: 'BROADCAST', event: 'e', channelName: name, requestId: 'with\u0000nul', payload: { n: 2 } }),
    text({ action: 'BROADCAST', event: 'e', channelName: name, requestId: null, payload: { n: 3 } }),
    text({ action: 'BROADCAST', event: 'ünï😀 \u2028', channelName: name, payload: { n: 4, s: 'é\u2028😀' } }),
    // Keys in another order, and a payload key that is special to JS objects.
    { text: `{"payload":{"__proto__":{"x":1},"n":5},"event":"e","channelName":${JSON.stringify(name)},"action":"BROADCAST"}` },
    // For a channel this client is not in (a NUL makes the name differ): dropped without a word.
    text({ action: 'BROADCAST', event: 'e', channelName: `${name}\u0000`, payload: { n: 6 } }),
    // Nesting: JSON.parse has no depth limit of its own to speak of, so JS gets what it parses (a Rust client's
    // scanner stops at 128 levels, tests/browser_hostile.rs).
    { text: `{"action":"BROADCAST","event":"deep","channelName":${JSON.stringify(name)},"payload":{"n":7,"a":${'['.repeat(20000)}1${']'.repeat(20000)}}}` },
  ];
  await channel.sendForResponse('raw', { frames });
  assert.deepEqual(got.map(([event, p]) => [event, p.n]),
    [['nul\u0000inside', 1], ['e', 2], ['e', 3], ['ünï😀 \u2028', 4], ['e', 5], ['deep', 7]]);
  let depth = 0;
  for (let a = got[5][1].a; Array.isArray(a); a = a[0]) depth += 1;
  assert.equal(depth, 20000);
  assert.equal(got[3][1].s, 'é\u2028😀');
  assert.ok(Object.hasOwn(got[4][1], '__proto__'), 'an own __proto__ key, as JSON.parse makes it');
  assert.equal(Object.getPrototypeOf(got[4][1]), Object.prototype);
  assert.deepEqual(errors, []);
});

test('invalid UTF-8 is survived: a failed connection is re-made, or the frame is reported', async (t) => {
  // Browsers fail the connection (close 1007); a client that decoded it leniently would see a malformed frame.
  const { channel, errors } = await session(t, { baseReconnectDelay: 20, maxReconnectDelay: 40 });
  const states = [];
  channel.onChannelStateChange((s) => states.push(s));
  const frames = [{ textBytes: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64') }];
  // Node 20's reports a socket error, may still deliver the frames after it, then closes (1006).
  await channel.sendForResponse('raw', { frames }).catch((e) => assert.match(e.message, /connection was lost/));
  await until(
    () => errors.some((e) => e instanceof MalformedFrameError) || (states.includes('STALLED') && states.at(-1) === 'JOINED'),
    'the bad frame reported, or the connection re-made and the channel joined again',
  );
  assert.ok(errors.length >= 1, 'the failure was reported');
  assert.deepEqual(await channel.sendForResponse('echo', { n: 1 }), { n: 1 });
});

test('protocol abuse changes nothing', async (t) => {
  const { client, channel, errors } = await session(t, { joinTimeout: 2000 });
  const name = channel.name;
  const declined = client.createChannel(`/private/${unique('p')}`);
  declined.join();
  await stateIs(declined, 'DECLINED');
  const left = client.createChannel(`/chat/${unique('left')}`);
  left.join();
  await stateIs(left, 'JOINED');
  const leftMessages = [];
  left.onMessage((event) => leftMessages.push(event));
  left.leave();
  const joining = client.createChannel(`/silent/${unique('s')}`);
  const joiningPresence = [];
  joining.onUsersChange((users) => joiningPresence.push(users));
  joining.join();
  const messages = [];
  channel.onMessage((event, payload) => messages.push([event, payload]));
  const system = (channelName, event, extra = {}) =>
    text({ action: 'SYSTEM', event, channelName, requestId: unique('r'), payload: {}, ...extra });
  await channel.sendForResponse('raw', {
    frames: [
      system(`/chat/${unique('never')}`, 'ACKNOWLEDGE'),
      system(declined.name, 'ACKNOWLEDGE'),
      system(declined.name, 'NOT_FOUND'),
      system(declined.name, 'NOT_FOUND'),
      text({ action: 'CONNECT', event: 'CONNECTION', channelName: 'GATEWAY', requestId: 'again', payload: {} }),
      text({ action: 'BROADCAST', event: 'after-leave', channelName: left.name, requestId: 'x', payload: {} }),
      text({ action: 'PRESENCE', event: 'JOIN', channelName: joining.name, requestId: 'p', payload: { presence: [{ id: 'early' }], changed: { id: 'early' } } }),
      system(name, 'reply-to-nobody', { requestId: 'unknown-request-id', payload: { n: 1 } }),
    ],
  });
  assert.equal(declined.channelState, 'DECLINED', 'a stray ACKNOWLEDGE does not revive a declined channel');
  assert.equal(client.getState(), 'connected');
  assert.deepEqual(leftMessages, [], 'nothing reaches a left channel');
  assert.equal(joining.channelState, 'JOINING');
  assert.deepEqual(joining.presence, [{ id: 'early' }], 'presence before the join is kept');
  assert.deepEqual(joiningPresence, [], 'but not delivered before the join');
  assert.deepEqual(messages, [['reply-to-nobody', { n: 1 }]], 'a reply for an unknown request is an ordinary message');
  for (const event of ['ACKNOWLEDGE', 'UNAUTHORIZED', 'NOT_FOUND', 'EVICTED']) {
    assert.deepEqual(await channel.sendForResponse('reply-as', { event }), { ok: true }, `a reply named ${event}`);
  }
  assert.equal(channel.channelState, 'JOINED');
  assert.deepEqual(errors, []);
  client.disconnect();
});

test('a server that never sends CONNECTION and one that never answers the handshake time out and retry', async () => {
  for (const endpoint of [`${hostile}?mode=silent`, blackhole]) {
    const client = new PondClient(endpoint, {}, { connectionTimeout: 200, maxReconnectAttempts: 1, baseReconnectDelay: 20, maxReconnectDelay: 20 });
    const errors = [];
    const states = [];
    client.onError((e) => errors.push(e.message));
    client.onConnectionChange((s) => states.push(s));
    client.connect();
    await until(() => errors.some((m) => /gave up/.test(m)), `giving up on ${endpoint}`);
    assert.equal(errors.filter((m) => /did not accept the connection within 200 ms/.test(m)).length, 2, errors.join('\n'));
    assert.deepEqual(states, ['disconnected', 'connecting', 'disconnected', 'connecting', 'disconnected']);
  }
});

test('connection refused at start is retried until the server is there', async () => {
  const client = new PondClient('ws://127.0.0.1:9/socket', {}, { maxReconnectAttempts: 2, baseReconnectDelay: 10, maxReconnectDelay: 10 });
  const errors = [];
  client.onError((e) => errors.push(e.message));
  client.connect();
  await until(() => errors.some((m) => /gave up reconnecting after 2/.test(m)), 'giving up');
  assert.equal(client.getState(), 'disconnected');
});
