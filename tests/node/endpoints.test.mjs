// Several endpoints and a params function, against the real server of this run (one node: the endpoints that are
// not it are dead ports). The cluster suite (cluster.test.mjs) does the same across real nodes sharing Redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';

import * as api from 'pondsocket-wasm';
import { url, until, next, stateIs, connected, overTransport, transport, watchUncaught, proxy } from './helpers.mjs';

const { ConnectionError } = api;
const PondClient = overTransport(api.PondClient);
watchUncaught(before, after);

/** A URL where nothing listens: a port the OS gave and took back. */
async function deadUrl() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}/socket`;
}

const quick = { baseReconnectDelay: 20, maxReconnectDelay: 40 };
const bare = (endpoint) => endpoint.split('?')[0].replace(/^http/, 'ws');
const shown = (endpoint) => (transport === 'sse' ? endpoint.replace(/^ws/, 'http') : endpoint);

test('a dead endpoint first: the client moves on to the next and connects there', async () => {
  const dead = await deadUrl();
  const client = new PondClient([dead, url], { token: 'good' }, quick);
  const errors = [];
  client.onError((e) => errors.push(e));
  assert.equal(client.getEndpoint(), shown(dead), 'before connecting: the first');
  client.connect();
  await connected(client);
  assert.equal(bare(client.getEndpoint()), bare(url), 'the endpoint in use');
  assert.ok(!client.getEndpoint().includes('?'), 'no query string (the token)');
  assert.ok(errors.length >= 1 && errors.every((e) => e instanceof ConnectionError), errors.map(String).join('; '));
  assert.ok(errors.every((e) => !e.message.includes('token=good')), 'no token in any message');
  client.disconnect();
});

test('all endpoints dead: backs off across the list and gives up after maxReconnectAttempts, once', async () => {
  const endpoints = [await deadUrl(), await deadUrl(), await deadUrl()];
  const client = new PondClient(endpoints, { token: 'good' }, { ...quick, maxReconnectAttempts: 4 });
  const tried = [];
  const errors = [];
  client.onConnectionChange((state) => state === 'connecting' && tried.push(bare(client.getEndpoint())));
  client.onError((e) => errors.push(e));
  client.connect();
  await until(() => errors.some((e) => /gave up/.test(e.message)), 'giving up', 10000);
  assert.deepEqual(tried, [0, 1, 2, 0, 1].map((i) => endpoints[i]), 'round robin, the first attempt and four more');
  const gaveUp = errors.filter((e) => /gave up/.test(e.message));
  assert.equal(gaveUp.length, 1);
  assert.ok(gaveUp[0] instanceof ConnectionError);
  assert.equal(client.getState(), 'disconnected');
});

test('the params function is called before every attempt, and its params are used', async () => {
  const dead = await deadUrl();
  const calls = [];
  const client = new PondClient([dead, url], async () => {
    calls.push(client.getEndpoint());
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { token: 'good', attempt: String(calls.length) };
  }, quick);
  client.connect();
  await connected(client);
  assert.deepEqual(calls.map(bare), [dead, bare(url)], 'once per attempt, each before its socket opened');
  const channel = client.createChannel('/chat/params-fn', { name: 'p' });
  channel.join();
  await stateIs(channel, 'JOINED');
  // The server turns the query's other params into assigns; the presence it tracks holds the join params.
  client.disconnect();
});

test('a params function may return the params at once, not a promise', async () => {
  let calls = 0;
  const client = new PondClient(url, () => { calls += 1; return { token: 'good' }; }, quick);
  client.connect();
  await connected(client);
  assert.equal(calls, 1);
  client.disconnect();
  client.connect();
  await connected(client);
  assert.equal(calls, 2, 'called again for the next connection');
  client.disconnect();
});

test('a params function that throws or rejects: a ConnectionError, a failed attempt, backoff, then success', async () => {
  let calls = 0;
  const client = new PondClient(url, () => {
    calls += 1;
    if (calls === 1) throw new Error('token service down');
    if (calls === 2) return Promise.reject(new Error('still down'));
    return { token: 'good' };
  }, quick);
  const errors = [];
  const delays = [];
  client.onError((e) => errors.push(e));
  client.onReconnectScheduled(({ attempt }) => delays.push(attempt));
  client.connect();
  await connected(client);
  assert.equal(calls, 3);
  assert.deepEqual(delays, [1, 2], 'each failure counted as an attempt');
  const messages = errors.map((e) => e.message);
  assert.ok(errors.slice(0, 2).every((e) => e instanceof ConnectionError), messages.join('; '));
  assert.match(messages[0], /params function failed: token service down/);
  assert.match(messages[1], /params function failed: still down/);
  client.disconnect();
});

test('a params function that never settles is bounded by connectionTimeout', async () => {
  let calls = 0;
  const client = new PondClient(url, () => {
    calls += 1;
    return calls === 1 ? new Promise(() => {}) : { token: 'good' };
  }, { ...quick, connectionTimeout: 300 });
  const errors = [];
  client.onError((e) => errors.push(e));
  const started = Date.now();
  client.connect();
  await connected(client);
  assert.ok(Date.now() - started >= 300, 'waited for the timeout');
  assert.ok(errors.some((e) => e instanceof ConnectionError && /within 300 ms/.test(e.message)), errors.join('; '));
  assert.equal(calls, 2);
  client.disconnect();
});

test('params that a params function gives wrong are a failed attempt, not a crash', async () => {
  const client = new PondClient(url, () => 42, { ...quick, maxReconnectAttempts: 1 });
  const errors = [];
  client.onError((e) => errors.push(e));
  client.connect();
  await until(() => errors.some((e) => /gave up/.test(e.message)), 'giving up');
  assert.match(errors[0].message, /params function failed: `params` must be an object, got number/);
});

test('disconnect() while the params function is pending: the late answer opens nothing', async () => {
  let release;
  const client = new PondClient(url, () => new Promise((resolve) => { release = resolve; }), quick);
  const states = [];
  client.onConnectionChange((s) => states.push(s));
  client.connect();
  await until(() => release !== undefined, 'the params function called');
  client.disconnect();
  release({ token: 'good' });
  // Connecting would take a round trip to the server: one reply from another client is the synchronisation.
  const probe = new PondClient(url, { token: 'good' });
  probe.connect();
  await connected(probe);
  const channel = probe.createChannel('/chat/params-probe');
  channel.join();
  await stateIs(channel, 'JOINED');
  await channel.sendForResponse('echo', {});
  probe.disconnect();
  assert.deepEqual(states, ['disconnected', 'connecting', 'disconnected']);
});

test('bad endpoint arguments throw TypeErrors naming the problem', () => {
  assert.throws(() => new PondClient([], {}), (e) => e instanceof TypeError && /non-empty array/.test(e.message));
  assert.throws(() => new PondClient([url, 7], {}), (e) => e instanceof TypeError && /`endpoint\[1\]` must be a string, got number/.test(e.message));
  assert.throws(() => new PondClient([url, 'ftp://x/socket'], {}), (e) => e instanceof TypeError && /unsupported scheme "ftp"/.test(e.message));
  assert.throws(() => new PondClient(7, {}), (e) => e instanceof TypeError && /`endpoint` must be a string, got number/.test(e.message));
});

test('a lost connection waits a random 0 to baseReconnectDelay before its first attempt', async () => {
  const relay = await proxy(url);
  const client = new PondClient(relay.url, { token: 'good' }, { baseReconnectDelay: 1000, maxReconnectDelay: 4000 });
  const delays = [];
  for (let i = 0; i < 20; i++) {
    client.connect();
    await connected(client);
    const planned = next((cb) => client.onReconnectScheduled(cb), () => true, 'a reconnect planned');
    relay.dropAll();
    delays.push((await planned).delayMs);
    client.disconnect();
  }
  relay.close();
  assert.ok(delays.every((d) => d >= 0 && d <= 1000), delays.join(' '));
  // The backoff's own jitter keeps half the delay fixed ([500, 1000]); this window starts at 0.
  assert.ok(delays.some((d) => d < 500), delays.join(' '));
});
