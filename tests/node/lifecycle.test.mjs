// Cancellation and disposal against the real server: AbortSignal on requests and subscriptions, Symbol.dispose on
// clients and channels (called directly: Node 20 has no `using`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import * as api from 'pondsocket-wasm';
import { url, until, stateIs, joinedClient, overTransport, watchUncaught, proxy } from './helpers.mjs';

const dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');
watchUncaught(before, after);

test('aborting a request rejects with the signal\'s reason, frees it at once and drops the late reply', async () => {
  const { client, channel } = await joinedClient(api, `/chat/abort-${process.pid}`);
  const controller = new AbortController();
  const heard = [];
  channel.onMessage((event, payload) => heard.push([event, payload]));
  const request = channel.sendForResponse('late', { delayMs: 300 }, { timeoutMs: 5000, signal: controller.signal });
  const why = new Error('the user went elsewhere');
  controller.abort(why);
  await assert.rejects(request, (e) => e === why);
  // The reply still comes from the server: it is dropped, not delivered as a message.
  const later = await channel.sendForResponse('late', { delayMs: 400 });
  assert.deepEqual(later, { delayMs: 400 });
  assert.deepEqual(heard, [], 'the aborted request\'s late reply was dropped');
  client.disconnect();
});

test('an abort with no reason rejects with an AbortError DOMException; an aborted signal sends nothing', async () => {
  const { client, channel } = await joinedClient(api, `/chat/abort2-${process.pid}`);
  const controller = new AbortController();
  const request = channel.sendForResponse('late', { delayMs: 200 }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(request, (e) => e instanceof DOMException && e.name === 'AbortError');

  const aborted = AbortSignal.abort(new Error('already'));
  await assert.rejects(channel.sendForResponse('echo', { n: 1 }, { signal: aborted }), /already/);
  // Patterns: the params third, the options fourth; a number in either place is the timeout.
  const ok = await channel.sendForResponse('item/:id', { n: 2 }, { id: 'x' }, { timeoutMs: 2000 });
  assert.deepEqual(ok, { id: 'x', payload: { n: 2 } });
  const pending = channel.sendForResponse('late', { delayMs: 200 }, { timeoutMs: 50 });
  await assert.rejects(pending, api.ResponseTimeoutError, 'a plain name\'s options object carries the timeout');
  const patterned = new AbortController();
  patterned.abort();
  await assert.rejects(channel.sendForResponse('item/:id', {}, { id: 'y' }, { signal: patterned.signal }),
    (e) => e.name === 'AbortError');
  assert.throws(() => channel.onMessage(() => {}, { signal: 'no' }), (e) => e instanceof TypeError && /signal/.test(e.message));
  await assert.rejects(channel.sendForResponse('echo', {}, { signal: {} }), (e) => e instanceof TypeError);
  client.disconnect();
});

test('aborting after the reply changes nothing', async () => {
  const { client, channel } = await joinedClient(api, `/chat/abort3-${process.pid}`);
  const controller = new AbortController();
  const reply = await channel.sendForResponse('echo', { n: 3 }, { signal: controller.signal });
  controller.abort();
  assert.deepEqual(reply, { n: 3 });
  client.disconnect();
});

test('every subscription ends when its signal aborts', async () => {
  const { client, channel } = await joinedClient(api, `/chat/signal-${process.pid}`);
  const controller = new AbortController();
  const { signal } = controller;
  const heard = { message: 0, event: 0, users: 0, states: 0, errors: 0 };
  channel.onMessage(() => { heard.message += 1; }, { signal });
  channel.onMessageEvent('message', () => { heard.event += 1; }, { signal });
  channel.onUsersChange(() => { heard.users += 1; }, { signal });
  client.onConnectionChange(() => { heard.states += 1; }, { signal });
  const kept = [];
  channel.onMessageEvent('message', (payload) => kept.push(payload));
  channel.sendMessage('broadcast', { n: 1 });
  await until(() => kept.length === 1, 'the first broadcast');
  assert.equal(heard.event, 1);
  controller.abort();
  channel.sendMessage('broadcast', { n: 2 });
  await until(() => kept.length === 2, 'the second broadcast');
  assert.equal(heard.event, 1, 'nothing after the abort');
  assert.equal(heard.message, 1);
  // An already-aborted signal subscribes nothing.
  let late = 0;
  channel.onMessage(() => { late += 1; }, { signal });
  channel.sendMessage('broadcast', { n: 3 });
  await until(() => kept.length === 3, 'the third broadcast');
  assert.equal(late, 0);
  client.disconnect();
});

test('Symbol.dispose: a channel leaves, a client disconnects; both free their handles, once', async () => {
  const { client, channel } = await joinedClient(api, `/chat/dispose-${process.pid}`);
  const other = client.createChannel(`/chat/dispose2-${process.pid}`);
  other.join();
  await stateIs(other, 'JOINED');
  const states = [];
  other.onChannelStateChange((s) => states.push(s));
  other[dispose]();
  await until(() => states.includes('CLOSED'), 'the disposed channel closed');
  other[dispose]();
  assert.throws(() => other.channelState, 'a disposed handle is gone');
  const clientStates = [];
  client.onConnectionChange((s) => clientStates.push(s));
  client[dispose]();
  assert.equal(clientStates.at(-1), 'disconnected');
  assert.equal(channel.channelState, 'CLOSED', 'other handles see the client gone');
  client[dispose]();
});

test('the logger hears states, attempts, joins, declines and timeouts, never the token', async () => {
  const lines = [];
  const logger = (level, message, fields) => lines.push({ level, message, fields });
  const client = new (overTransport(api.PondClient))(`${url}?token=good`, { token: 'good', secret: 's3cr3t' }, { logger });
  client.connect();
  const channel = client.createChannel(`/chat/log-${process.pid}`, { name: 'logged' });
  channel.join();
  await stateIs(channel, 'JOINED');
  await assert.rejects(channel.sendForResponse('late', { delayMs: 500 }, 50), api.ResponseTimeoutError);
  const declined = client.createChannel('/private/logged');
  declined.join();
  await stateIs(declined, 'DECLINED');
  client.disconnect();
  const messages = lines.map((l) => l.message);
  for (const wanted of ['connecting', 'connection state', 'join sent', 'channel state', 'request timed out', 'join declined']) {
    assert.ok(messages.includes(wanted), `${wanted} in ${messages.join(', ')}`);
  }
  const connecting = lines.find((l) => l.message === 'connecting');
  assert.equal(connecting.level, 'info');
  assert.ok(!connecting.fields.endpoint.includes('?'), connecting.fields.endpoint);
  const timeout = lines.find((l) => l.message === 'request timed out');
  assert.equal(timeout.level, 'warn');
  assert.equal(timeout.fields.channel, `/chat/log-${process.pid}`);
  assert.equal(typeof timeout.fields.requestId, 'string');
  assert.equal(lines.find((l) => l.message === 'join sent').level, 'debug');
  const text = JSON.stringify(lines);
  assert.ok(!text.includes('token') && !text.includes('s3cr3t'), 'no token or param in the log');
  assert.throws(() => new api.PondClient(url, {}, { logger: 'yes' }), (e) => e instanceof TypeError && /logger/.test(e.message));
});

test('after a reconnect, presence news is who arrived and who left meanwhile, and the list once', async () => {
  const room = `/chat/presence-news-${process.pid}`;
  const relay = await proxy(url);
  const quick = { baseReconnectDelay: 50, maxReconnectDelay: 200 };
  // `r` goes through the relay and comes back; its presence (join params + the server's connection id) changes with
  // its connection, so it compares entries by name.
  const r = new (overTransport(api.PondClient))(relay.url, { token: 'good' }, { ...quick, presenceKey: (p) => p.name });
  r.connect();
  const rc = r.createChannel(room, { name: 'r' });
  rc.join();
  await stateIs(rc, 'JOINED');
  const a = await joinedClient(api, room, { name: 'a' });
  const b = await joinedClient(api, room, { name: 'b' });
  await until(() => rc.presence.length === 3, 'r sees three');
  const news = [];
  rc.onJoin((p) => news.push(`join ${p.name}`));
  rc.onLeave((p) => news.push(`leave ${p.name}`));
  rc.onUsersChange((list) => news.push(`users ${list.map((p) => p.name).sort().join(',')}`));

  relay.pause();
  relay.dropAll();
  await stateIs(rc, 'STALLED');
  const d = await joinedClient(api, room, { name: 'd' });
  b.client.disconnect();
  await until(() => a.channel.presence.map((p) => p.name).sort().join(',') === 'a,d', 'a sees d in and b out and r out');
  relay.resume();
  await stateIs(rc, 'JOINED', 10_000);
  await until(() => news.some((n) => n.startsWith('users')), 'the new list');
  // One more round trip, so that anything else the rejoin caused has arrived.
  await rc.sendForResponse('echo', {});
  assert.deepEqual(news.filter((n) => !n.startsWith('users')).sort(), ['join d', 'leave b']);
  assert.deepEqual(news.filter((n) => n.startsWith('users')), ['users a,d,r']);
  for (const c of [r, a.client, d.client]) c.disconnect();
  relay.close();
});
