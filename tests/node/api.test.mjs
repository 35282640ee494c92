// The JS API through `import 'pondsocket-wasm'` (the package as installed from its tarball) against the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import * as api from 'pondsocket-wasm';
import defaultApi from 'pondsocket-wasm';
import {
  url, unique, until, next, stateIs, connected, joinedClient, overTransport, transport, webSocketOnly,
} from './helpers.mjs';

const {
  Channel, ConnectionState, ChannelState, ResponseTimeoutError, RequestCancelledError, ChannelUnavailableError,
  PondSocketError, CallbackError,
} = api;
// Over the transport of this run (PONDSOCKET_TRANSPORT): the same suite runs over WebSocket and over SSE.
const PondClient = overTransport(api.PondClient);

test('import and require give the same classes', async () => {
  const required = createRequire(import.meta.url)('pondsocket-wasm');
  assert.equal(required.PondClient, api.PondClient);
  assert.equal(defaultApi.PondClient, api.PondClient);
  // The subpath for Node, as upstream's package has one (its browser one is imported in tests/vite/upstream.js).
  assert.equal(createRequire(import.meta.url)('pondsocket-wasm/node').PondClient, api.PondClient);
  assert.equal((await import('pondsocket-wasm/node')).PondClient, api.PondClient);
  assert.equal(ConnectionState.CONNECTED, 'connected');
  assert.equal(ChannelState.DECLINED, 'DECLINED');
});

test('connects in order and reports the state at once', async () => {
  const client = new PondClient(url, { token: 'good' });
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  assert.deepEqual(states, ['disconnected'], 'called at once with the current state');
  assert.equal(client.getState(), ConnectionState.DISCONNECTED);
  client.connect();
  await until(() => states.includes('connected'), 'connected');
  assert.deepEqual(states, ['disconnected', 'connecting', 'connected']);
  client.disconnect();
  assert.equal(client.getState(), 'disconnected');
});

test('join, echo, broadcast and leave', async () => {
  const room = `/chat/${unique('basic')}`;
  const { client, channel } = await joinedClient(api, room, { name: 'ann' });
  assert.ok(channel instanceof Channel);
  assert.equal(channel.name, room);
  assert.equal(channel.channelState, ChannelState.JOINED);
  assert.deepEqual(await channel.sendForResponse('echo', { a: [1, 'two'] }), { a: [1, 'two'] });
  const message = next((cb) => channel.onMessageEvent('message', cb), () => true, 'broadcast');
  const all = next((cb) => channel.onMessage(cb), (event) => event === 'message', 'onMessage');
  channel.sendMessage('broadcast', { text: 'hi' });
  // As the JS client 0.0.39 calls it: the payload, then the event's route params and query (none here).
  assert.deepEqual(await message, [{ text: 'hi' }, { params: {}, query: {} }]);
  assert.deepEqual(await all, ['message', { text: 'hi' }]);
  channel.leave();
  assert.equal(channel.channelState, 'CLOSED');
  assert.throws(() => channel.sendMessage('broadcast', {}), (e) => e instanceof ChannelUnavailableError && /CLOSED/.test(e.message));
  client.disconnect();
});

test('fifty concurrent requests each resolve with their own reply', async () => {
  const { client, channel } = await joinedClient(api, `/chat/${unique('many')}`);
  const replies = await Promise.all(Array.from({ length: 50 }, (_, n) => channel.sendForResponse('echo', { n })));
  assert.deepEqual(replies.map((r) => r.n), Array.from({ length: 50 }, (_, n) => n));
  client.disconnect();
});

test('a request times out with ResponseTimeoutError; leave rejects the others', async () => {
  const { client, channel } = await joinedClient(api, `/chat/${unique('timeout')}`, {}, { responseTimeout: 3000 });
  await assert.rejects(channel.sendForResponse('late', { delayMs: 1000 }, 50), (e) => {
    assert.ok(e instanceof ResponseTimeoutError && e instanceof PondSocketError && e instanceof Error);
    assert.equal(e.name, 'ResponseTimeoutError');
    assert.equal(e.timeoutMs, 50);
    assert.equal(e.event, 'late');
    return true;
  });
  const pending = channel.sendForResponse('late', { delayMs: 2000 });
  channel.leave();
  await assert.rejects(pending, (e) => e instanceof RequestCancelledError && /left/.test(e.message));
  client.disconnect();
});

test('a short timeout after a long one still fires on time (the wake-up timer moves earlier)', async () => {
  const { client, channel } = await joinedClient(api, `/chat/${unique('timers')}`, {}, { responseTimeout: 30_000 });
  // Answered: leaves the host timer armed for its 30 s deadline.
  assert.deepEqual(await channel.sendForResponse('echo', { n: 1 }), { n: 1 });
  const started = performance.now();
  await assert.rejects(channel.sendForResponse('late', { delayMs: 5000 }, 100), ResponseTimeoutError);
  const took = performance.now() - started;
  assert.ok(took >= 95 && took < 2000, `rejected after ${took.toFixed(0)} ms`);
  client.disconnect();
});

test('declined and not-found joins end DECLINED with joinError', async () => {
  const client = new PondClient(url, { token: 'good' }, { joinTimeout: 300 });
  client.connect();
  const cases = [
    [`/private/${unique('p')}`, { code: 'UNAUTHORIZED', message: 'private room', status: 403 }],
    [`/nope/${unique('n')}`, { status: 404 }],
    [`/silent/${unique('s')}`, { status: 408 }],
  ];
  for (const [name, expected] of cases) {
    const channel = client.createChannel(name);
    const errors = [];
    channel.onError((e) => errors.push(e));
    channel.join();
    await stateIs(channel, 'DECLINED');
    for (const [key, value] of Object.entries(expected)) assert.equal(channel.joinError[key], value, `${name} ${key}`);
    assert.deepEqual(errors, [channel.joinError]);
    assert.throws(() => channel.join(), ChannelUnavailableError);
    assert.notEqual(client.createChannel(name), channel, 'a declined channel is replaced');
  }
  client.disconnect();
});

test('presence across two clients', async () => {
  const room = `/chat/${unique('presence')}`;
  const a = await joinedClient(api, room, { name: 'ann' });
  const joined = next((cb) => a.channel.onJoin(cb), (p) => p.name === 'bob', 'bob joins');
  const b = await joinedClient(api, room, { name: 'bob' });
  assert.equal((await joined).name, 'bob');
  await until(() => a.channel.presence.length === 2 && b.channel.presence.length === 2, 'both see two');
  const update = next((cb) => a.channel.onPresenceChange(cb), (c) => c.changed.name === 'bob', 'update');
  b.channel.sendMessage('status', { typing: true });
  const change = await update;
  assert.equal(change.changed.typing, true);
  assert.equal(change.presence.length, 2);
  const left = next((cb) => a.channel.onLeave(cb), (p) => p.name === 'bob', 'bob leaves');
  const users = next((cb) => a.channel.onUsersChange(cb), (u) => u.length === 1, 'one user');
  b.channel.leave();
  await left;
  assert.equal((await users)[0].name, 'ann');
  a.client.disconnect();
  b.client.disconnect();
});

test('a callback that throws is reported and the others still run; callbacks may call the client', async () => {
  const { client, channel } = await joinedClient(api, `/chat/${unique('throw')}`);
  const errors = [];
  client.onError((e) => errors.push(e));
  channel.onMessageEvent('message', () => { throw new Error('boom'); });
  const reached = next((cb) => channel.onMessageEvent('message', cb), () => true, 'second listener');
  channel.sendMessage('broadcast', { n: 1 });
  await reached;
  await until(() => errors.some((e) => e instanceof CallbackError && /boom/.test(e.message)), 'CallbackError');
  // Re-entrancy: a listener that sends a request and leaves while it is being called.
  const replies = [];
  channel.onMessageEvent('message', (payload) => {
    if (payload.n === 2) {
      channel.sendForResponse('echo', { from: 'callback' }).then((r) => replies.push(r), (e) => replies.push(e));
      const other = client.createChannel(`/chat/${unique('inner')}`);
      other.join();
    }
  });
  channel.sendMessage('broadcast', { n: 2 });
  await until(() => replies.length === 1, 'a reply to the request made inside a callback');
  assert.deepEqual(replies[0], { from: 'callback' });
  client.disconnect();
});

test('bad arguments throw errors that name the problem', () => {
  assert.throws(() => new PondClient('ftp://example.com/socket?token=secret'), (e) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /unsupported scheme "ftp"/);
    assert.doesNotMatch(e.message, /secret/, 'the token never appears in messages');
    return true;
  });
  assert.throws(() => new PondClient('/socket'), /no scheme/);
  // A URL the browser's WebSocket would refuse (its message would quote the URL, token included) is refused here.
  for (const endpoint of ['ws://127.0.0.1:99999/socket', 'ws://[::1/socket', 'ws://a b/socket']) {
    assert.throws(() => new PondClient(endpoint, { token: 's3cret' }), (e) => e instanceof TypeError && !/s3cret/.test(e.message));
  }
  // What URL parsers accept is accepted as they read it: a percent-encoded host, a fragment (dropped), http(s).
  assert.ok(new PondClient('ws://ex%41mple.com/socket', { token: 't' }));
  assert.throws(() => new PondClient(url, 'token=x'), /`params` must be an object/);
  assert.throws(() => new PondClient(url, {}, { connectionTimeout: -5 }), /connectionTimeout/);
  assert.throws(() => new PondClient(url, {}, { maxQueueSize: 0 }), /maxQueueSize/);
  // Unknown names are ignored, as the JS client ignores them; a known name with a bad value is not.
  assert.equal(new PondClient(url, {}, { conectionTimeout: 5, reconnect: true }).getState(), 'disconnected');
  assert.throws(() => new PondClient(url, {}, { joinTimeout: 'soon' }), /`joinTimeout` must be a number/);
  const client = new PondClient(url, { token: 'good' });
  assert.throws(() => client.createChannel(7), /`name` must be a string/);
  assert.throws(() => client.onError('nope'), /`callback` must be a function/);
  const channel = client.createChannel('/chat/x');
  assert.throws(() => channel.sendMessage('e', [1, 2]), /`payload` must be an object, got an array/);
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => channel.sendMessage('e', cyclic), /cannot be serialized/);
  return assert.rejects(channel.sendForResponse('e', {}, -1), /timeoutMs/);
});

test('disconnect closes every channel and does not reconnect', async () => {
  const { client, channel } = await joinedClient(api, `/chat/${unique('bye')}`, {}, { baseReconnectDelay: 50, maxReconnectDelay: 50 });
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  const pending = channel.sendForResponse('late', { delayMs: 1000 });
  client.disconnect();
  assert.equal(channel.channelState, 'CLOSED');
  await assert.rejects(pending, RequestCancelledError);
  await new Promise((r) => setTimeout(r, 200)); // the assertion is that nothing happens in this window
  assert.deepEqual(states, ['connected', 'disconnected']);
});

test('a bad token is retried up to maxReconnectAttempts, then given up', async () => {
  const client = new PondClient(url, { token: 'bad' }, { maxReconnectAttempts: 2, baseReconnectDelay: 20, maxReconnectDelay: 40 });
  const states = [];
  const errors = [];
  client.onConnectionChange((s) => states.push(s));
  client.onError((e) => errors.push(e));
  client.connect();
  await until(() => errors.some((e) => /gave up/.test(e.message)), 'giving up', 10000);
  assert.equal(states.filter((s) => s === 'connecting').length, 3);
  assert.ok(!states.includes('connected'));
  assert.equal(client.getState(), 'disconnected');
});

test('the WebSocket option is used to open sockets', webSocketOnly, async () => {
  let opened = 0;
  class CountingWebSocket extends WebSocket {
    constructor(address) { super(address); opened += 1; }
  }
  const client = new PondClient(url, { token: 'good' }, { WebSocket: CountingWebSocket });
  client.connect();
  await connected(client);
  assert.equal(opened, 1);
  client.disconnect();
});

test('what a WebSocket constructor throws reaches onError without the query string', webSocketOnly, async (t) => {
  class Refusing {
    constructor(address) { throw new Error(`cannot connect to ${address}`); }
  }
  const client = new PondClient(url, { token: 's3cret' }, { WebSocket: Refusing, maxReconnectAttempts: 0 });
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e.message));
  client.connect();
  await until(() => errors.some((m) => /gave up/.test(m)), 'giving up');
  const refused = errors.find((m) => /cannot open a WebSocket: cannot connect to/.test(m));
  assert.ok(refused, errors.join('\n'));
  assert.ok(!errors.some((m) => /s3cret/.test(m)), errors.join('\n'));
});

test('a socket that answers inside send() gets each payload to its own listeners, in order', webSocketOnly, async (t) => {
  // A scripted in-process socket that delivers its answers synchronously from send(): a message arrives while the
  // client is still delivering the previous one, so its events wait in the queue and are delivered after. Each must
  // still carry its own payload (JS parses every frame and keeps its payload until that frame's events are out).
  class AnsweringSocket {
    constructor() { setTimeout(() => { this.onopen?.({}); this.answer('CONNECT', 'CONNECTION', 'GATEWAY', 'c', {}); }); }
    answer(action, event, channelName, requestId, payload) {
      this.onmessage?.({ data: JSON.stringify({ action, event, channelName, requestId, payload }) });
    }
    send(text) {
      const { action, event, channelName, requestId, payload } = JSON.parse(text);
      if (action === 'JOIN_CHANNEL') this.answer('SYSTEM', 'ACKNOWLEDGE', channelName, requestId, {});
      else if (event === 'ping') {
        this.answer('BROADCAST', 'pong', channelName, `p${payload.n}`, { n: payload.n });
        this.answer('SYSTEM', 'ping', channelName, requestId, { reply: payload.n });
      }
    }
    close() {}
  }
  const client = new PondClient(url, {}, { WebSocket: AnsweringSocket });
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e.message));
  client.connect();
  const channel = client.createChannel('/loop');
  channel.join();
  await stateIs(channel, 'JOINED');
  const pongs = [];
  const replies = [];
  const all = [];
  channel.onMessage((event, payload) => all.push([event, payload.n]));
  channel.onMessageEvent('pong', (payload) => {
    pongs.push(payload.n);
    if (payload.n < 4) channel.sendForResponse('ping', { n: payload.n + 1 }).then((r) => replies.push(r.reply));
  });
  replies.push((await channel.sendForResponse('ping', { n: 1 })).reply);
  await until(() => replies.length === 4, 'four replies');
  assert.deepEqual(pongs, [1, 2, 3, 4]);
  assert.deepEqual(all, [['pong', 1], ['pong', 2], ['pong', 3], ['pong', 4]]);
  assert.deepEqual(replies.sort(), [1, 2, 3, 4]);
  assert.deepEqual(errors, []);
});

test('an existing query string is kept', async () => {
  const client = new PondClient(`${url}?name=zed&token=old`, { token: 'good' });
  client.connect();
  await connected(client);
  client.disconnect();
});

test('state, presence and error callbacks may call back into the client', async (t) => {
  const client = new PondClient(url, { token: 'good' });
  t.after(() => client.disconnect());
  client.connect();
  const outcomes = [];
  const channel = client.createChannel(`/chat/${unique('reenter')}`, { name: 'r' });
  channel.onChannelStateChange((state) => {
    if (state === 'JOINED') channel.sendForResponse('echo', { from: 'state' }).then((r) => outcomes.push(r));
  });
  channel.onJoin(() => {
    const inner = client.createChannel(`/chat/${unique('from-join')}`);
    inner.onChannelStateChange((s) => s === 'JOINED' && outcomes.push('inner joined'));
    inner.join();
  });
  const declined = client.createChannel(`/private/${unique('p')}`);
  declined.onError(() => {
    outcomes.push('declined');
    declined.leave();
    client.createChannel(declined.name).leave();
  });
  channel.join();
  declined.join();
  await until(() => outcomes.length === 3, 'every callback made its call', 5000);
  assert.ok(outcomes.includes('declined') && outcomes.includes('inner joined'), JSON.stringify(outcomes));
  assert.ok(outcomes.some((o) => o.from === 'state'), JSON.stringify(outcomes));
  channel.onChannelStateChange((state) => state === 'JOINED' && channel.leave());
  assert.equal(channel.channelState, 'CLOSED', 'leave() from inside the immediate state callback');
});

// Where the two server implementations differ, the client handles both; these pin down which shows what.
const serverName = process.env.PONDSOCKET_SERVER_NAME;

test('a declined connection, as each server declines it', async (t) => {
  const client = new PondClient(url, { token: 'bad' }, { maxReconnectAttempts: 0 });
  t.after(() => client.disconnect());
  const errors = [];
  client.onError((e) => errors.push(e.message));
  client.connect();
  await until(() => errors.some((m) => /gave up/.test(m)), 'giving up');
  if (serverName === 'rust') {
    // pondsocket-axum completes the upgrade (101), then closes without a status code.
    assert.ok(errors.some((m) => /connection closed \(code 1005\)/.test(m)), errors.join('\n'));
  } else if (serverName === 'python' && transport === 'sse') {
    // pondsocket-asgi answers the event stream's GET with HTTP 401 and a text body, which the error carries.
    assert.ok(errors.some((m) => /socket error: HTTP 401: invalid or missing token/.test(m)), errors.join('\n'));
  } else if (serverName === 'python') {
    // pondsocket-asgi refuses the upgrade with HTTP 403: the socket fails before it opens.
    assert.ok(errors.some((m) => /socket error/.test(m)), errors.join('\n'));
    assert.ok(!errors.some((m) => /connection closed/.test(m)), errors.join('\n'));
  }
});

test('a request for an event the server has no handler for, as each server answers it', async (t) => {
  const { client, channel } = await joinedClient(api, `/chat/${unique('unknown')}`, {}, { responseTimeout: 300 });
  t.after(() => client.disconnect());
  const outcome = await channel.sendForResponse('no-such-event', {}).then((reply) => reply, (error) => error);
  if (serverName === 'rust') {
    // A NOT_FOUND carrying the request's id: like any reply with that id, it resolves the request.
    assert.deepEqual(outcome, { channel: channel.name, event: 'no-such-event' });
  } else if (serverName === 'python') {
    // No answer at all: the request times out.
    assert.ok(outcome instanceof ResponseTimeoutError, String(outcome));
  }
  assert.equal(channel.channelState, 'JOINED');
});
