// Failover on a real PondSocket cluster: upstream Python server nodes sharing a real Redis (scripts/cluster.sh,
// driven through tests/support/cluster.mjs, whose path PONDSOCKET_CLUSTER_MODULE gives: scripts/test-node.sh sets it).
// Nodes are killed with SIGKILL, as a crash would; the client must land on another node and go on by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as api from 'pondsocket-wasm';
import { until, next, stateIs, connected, watchUncaught } from './helpers.mjs';

const { PondClient, RequestCancelledError, ConnectionError } = api;
const module = process.env.PONDSOCKET_CLUSTER_MODULE;
const { startCluster, clusterAvailable } = module ? await import(module) : {};
const skip = !module ? 'PONDSOCKET_CLUSTER_MODULE is not set: run through scripts/test-node.sh'
  : !clusterAvailable() ? 'redis-server is not installed (scripts/setup.sh installs it)' : false;
watchUncaught(before, after);

const rounds = Number(process.env.PONDSOCKET_CLUSTER_ROUNDS ?? 20);
const fast = { baseReconnectDelay: 200, maxReconnectDelay: 1000, connectionTimeout: 3000 };
let counter = 0;
const room = (what) => `/chat/cluster-${what}-${process.pid}-${++counter}`;
const endpointsOf = (cluster) => cluster.nodes.map((n) => n.ws);
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

/** Which node the client's connection is on, as the server says (the `whoami` request). */
async function whoami(channel) {
  return (await channel.sendForResponse('whoami', {})).node;
}

async function joined(client, name, params = {}) {
  const channel = client.createChannel(name, params);
  channel.join();
  await stateIs(channel, 'JOINED', 10_000);
  return channel;
}

test('a cluster over Redis', { skip, timeout: 600_000 }, async (t) => {
  const cluster = await startCluster({ nodes: 3 });
  t.after(() => cluster.stop());
  const clients = [];
  t.afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    // A test that failed half way leaves no node down for the next.
    for (const node of cluster.nodes) if (node.pid === null) await cluster.start(node.name);
  });
  const client = (endpoints, params = { token: 'good' }, options = fast) => {
    const c = new PondClient(endpoints, params, options);
    clients.push(c);
    return c;
  };

  await t.test('two clients on different nodes see each other\'s broadcasts and presence', async () => {
    const [a, b] = [client(cluster.nodes[0].ws), client(cluster.nodes[1].ws)];
    a.connect();
    b.connect();
    const name = room('pair');
    const [ca, cb] = [await joined(a, name, { who: 'a' }), await joined(b, name, { who: 'b' })];
    assert.deepEqual([await whoami(ca), await whoami(cb)], ['node-a', 'node-b']);
    // pondsocket 0.0.7: a node's first presence list lacks users of other nodes (its cross-node sync runs on a
    // heartbeat of tens of seconds); a presence update from a crosses at once, and b's node merges it.
    ca.sendMessage('status', { typing: false });
    await until(() => ca.presence.length === 2 && cb.presence.length === 2,
      'presence from both nodes', 5000).catch((e) => {
      throw new Error(`${e.message}: a sees ${JSON.stringify(ca.presence)}, b sees ${JSON.stringify(cb.presence)}`);
    });
    assert.deepEqual(ca.presence.map((p) => p.who).sort(), ['a', 'b']);
    assert.deepEqual(cb.presence.map((p) => p.who).sort(), ['a', 'b']);
    const heard = next((cb2) => cb.onMessageEvent('message', cb2), (m) => m.from === 'a', 'a\'s broadcast on node-b');
    ca.sendMessage('broadcast', { from: 'a' });
    assert.deepEqual((await heard)[0], { from: 'a' });
  });

  await t.test('kill -9 the node: every channel rejoins on another node, requests in flight reject', async () => {
    const times = [];
    // The default reconnect delays: the times below are what an application sees.
    for (let round = 0; round < 5; round++) {
      const c = client(endpointsOf(cluster), { token: 'good' }, {});
      c.connect();
      await connected(c);
      const channels = [];
      for (let i = 0; i < 10; i++) channels.push(await joined(c, room(`fail-${round}-${i}`), { i }));
      const before = await whoami(channels[0]);
      const inFlight = channels.map((ch) => ch.sendForResponse('late', { delayMs: 30_000 }).then(() => null, (e) => e));
      const stalled = channels.map((ch) => stateIs(ch, 'STALLED', 10_000));
      const rejoined = channels.map((ch) => stalled[0].then(() => stateIs(ch, 'JOINED', 20_000)));
      const killed = Date.now();
      await cluster.kill(before);
      await Promise.all(rejoined);
      times.push(Date.now() - killed);
      for (const outcome of await Promise.all(inFlight)) {
        assert.ok(outcome instanceof RequestCancelledError && /connection was lost/.test(outcome.message), String(outcome));
      }
      const after = await whoami(channels[0]);
      assert.notEqual(after, before, 'on another node');
      assert.equal(c.getEndpoint(), cluster.nodes.find((n) => n.name === after).ws);
      // Messages go on over the new node.
      assert.deepEqual(await channels[9].sendForResponse('echo', { n: 9 }), { n: 9 });
      c.disconnect();
      await cluster.start(before);
    }
    console.log(`# failover, kill -9 to 10 channels JOINED: p50 ${percentile(times, 0.5)} ms, max ${Math.max(...times)} ms`
      + ` (${times.join(', ')}; baseReconnectDelay 1000, the default)`);
  });

  await t.test(`${rounds} rounds of killing and restarting random nodes under 5 clients`, async () => {
    const name = room('churn');
    const cs = [];
    for (let i = 0; i < 5; i++) {
      const c = client(endpointsOf(cluster).slice(i % 3).concat(endpointsOf(cluster).slice(0, i % 3)));
      c.connect();
      cs.push({ client: c, channel: await joined(c, name, { i }), heard: new Map() });
    }
    for (const { channel, heard } of cs) {
      channel.onMessageEvent('message', ({ id }) => heard.set(id, (heard.get(id) ?? 0) + 1));
    }
    for (let round = 0; round < rounds; round++) {
      const victim = cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)].name;
      await cluster.kill(victim);
      await until(() => cs.every(({ client: c, channel }) => c.getState() === 'connected' && channel.channelState === 'JOINED'),
        `every client joined after killing ${victim} (round ${round})`, 20_000);
      await cluster.start(victim);
    }
    // After the last rejoin, each client broadcasts once: every client hears each broadcast exactly once.
    const ids = cs.map((_, i) => `final-${i}`);
    await Promise.all(cs.map(({ channel }) => channel.sendForResponse('whoami', {})));
    cs.forEach(({ channel }, i) => channel.sendMessage('broadcast', { id: ids[i] }));
    await until(() => cs.every(({ heard }) => ids.every((id) => heard.has(id))), 'every final broadcast everywhere', 10_000);
    // One more round trip through each client's node, so that a duplicate would have arrived by now.
    await Promise.all(cs.map(({ channel }) => channel.sendForResponse('echo', {})));
    for (const { heard } of cs) for (const id of ids) assert.equal(heard.get(id), 1, `${id} heard once`);
  });

  await t.test('all endpoints down: backs off across the list and gives up after maxReconnectAttempts, once', async () => {
    const c = client(endpointsOf(cluster), { token: 'good' }, { ...fast, maxReconnectAttempts: 5 });
    c.connect();
    await connected(c);
    const errors = [];
    const tried = [];
    c.onError((e) => errors.push(e));
    c.onConnectionChange((s) => s === 'connecting' && tried.push(c.getEndpoint()));
    for (const node of cluster.nodes) await cluster.kill(node.name);
    await until(() => errors.some((e) => /gave up/.test(e.message)), 'giving up', 30_000);
    const gaveUp = errors.filter((e) => /gave up/.test(e.message));
    assert.equal(gaveUp.length, 1);
    assert.ok(gaveUp[0] instanceof ConnectionError);
    assert.equal(tried.length, 5, tried.join(' '));
    assert.equal(new Set(tried).size, 3, 'round robin over the three');
    for (const node of cluster.nodes) await cluster.start(node.name);
  });
});

test('a token the server rotates: the params function gives the new one at the next reconnect', { skip, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pondsocket-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'token');
  let current = 'first';
  writeFileSync(file, current);
  const cluster = await startCluster({ nodes: 2, tokenFile: file });
  t.after(() => cluster.stop());
  const endpoints = endpointsOf(cluster);
  let calls = 0;
  const rotating = new PondClient(endpoints, async () => { calls += 1; return { token: current }; }, fast);
  const stale = new PondClient(endpoints, { token: 'first' }, { ...fast, maxReconnectAttempts: 3 });
  t.after(() => { rotating.disconnect(); stale.disconnect(); });
  const staleErrors = [];
  stale.onError((e) => staleErrors.push(e));
  rotating.connect();
  stale.connect();
  await connected(rotating);
  await connected(stale);
  const channel = await joined(rotating, room('token'));
  const before = await whoami(channel);
  assert.equal(calls, 1);

  current = 'second';
  writeFileSync(file, current);
  await cluster.kill(before);
  await stateIs(channel, 'JOINED', 20_000);
  assert.notEqual(await whoami(channel), before);
  assert.ok(calls >= 2, 'called again for the reconnect');
  // The client with the old token in its params is refused by every node from now on.
  await until(() => staleErrors.some((e) => /gave up/.test(e.message)), 'the stale token given up', 30_000);
  assert.notEqual(stale.getState(), 'connected');
  await cluster.start(before);
});
