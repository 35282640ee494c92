// Failover in a browser (PONDSOCKET_BROWSER, lib.mjs; scripts/test-demo.sh runs it in Chromium): a page on a real
// cluster (tests/support/cluster.mjs: Python nodes sharing Redis, serving target/demo-site, where the package is at
// /pkg/), whose node is killed with SIGKILL under it. The page imports the package as an application would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { launch, ROOT } from './lib.mjs';
import { clusterAvailable, startCluster } from '../support/cluster.mjs';

const skip = clusterAvailable() ? false : 'redis-server is not installed (scripts/setup.sh installs it)';

// Runs in the page: a client on `endpoints` with `rooms` joined, kept on `window.cluster`.
async function openClient({ endpoints, rooms }) {
  const { PondClient } = await import('/pkg/index.js');
  const client = new PondClient(endpoints, { token: 'good' });
  const joined = (channel) => new Promise((resolve) => {
    const off = channel.onChannelStateChange((state) => { if (state === 'JOINED') { queueMicrotask(() => off()); resolve(); } });
  });
  client.connect();
  const channels = rooms.map((room) => client.createChannel(room, {}));
  channels.forEach((channel) => channel.join());
  await Promise.all(channels.map(joined));
  const heard = [];
  channels[0].onMessageEvent('message', (payload) => heard.push(payload.text));
  window.cluster = { client, channels, joined, heard };
  return (await channels[0].sendForResponse('whoami', {})).node;
}

test('a page fails over to another node and rejoins every channel', { skip, timeout: 120_000 }, async (t) => {
  const cluster = await startCluster({ nodes: 3, staticDir: join(ROOT, 'target/demo-site') });
  t.after(() => cluster.stop());
  const browser = await launch();
  t.after(() => browser.close());
  const endpoints = cluster.nodes.map((n) => n.ws);
  const rooms = Array.from({ length: 10 }, (_, i) => `/chat/browser-cluster-${process.pid}-${i}`);
  const problems = [];

  const open = async (first) => {
    const page = await browser.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(new URL('/health', cluster.nodes[first].url).href);
    const node = await page.evaluate(openClient, { endpoints: endpoints.slice(first).concat(endpoints.slice(0, first)), rooms });
    return { page, node };
  };
  const a = await open(0);
  const b = await open(1);
  assert.deepEqual([a.node, b.node], ['node-a', 'node-b']);

  // Requests in flight on node-a, then node-a dies.
  await a.page.evaluate(() => {
    const { channels } = window.cluster;
    window.cluster.outcomes = channels.map((c) => c.sendForResponse('late', { delayMs: 30_000 })
      .then(() => 'resolved', (e) => `${e.name}: ${e.message}`));
    window.cluster.stalled = Promise.all(channels.map((c) => new Promise((resolve) => {
      c.onChannelStateChange((s) => s === 'STALLED' && resolve());
    })));
  });
  const killed = Date.now();
  await cluster.kill('node-a');
  const result = await a.page.evaluate(async () => {
    const { client, channels, joined, outcomes, stalled } = window.cluster;
    await stalled;
    await Promise.all(channels.map((c) => (c.channelState === 'JOINED' ? null : joined(c))));
    return {
      states: channels.map((c) => c.channelState),
      outcomes: await Promise.all(outcomes),
      node: (await channels[0].sendForResponse('whoami', {})).node,
      endpoint: client.getEndpoint(),
    };
  });
  console.log(`# in ${process.env.PONDSOCKET_BROWSER || 'chromium'}: kill -9 to 10 channels JOINED in ${Date.now() - killed} ms`);
  assert.deepEqual(result.states, Array(10).fill('JOINED'));
  for (const outcome of result.outcomes) assert.match(outcome, /^RequestCancelledError: .*connection was lost/);
  assert.notEqual(result.node, 'node-a');
  assert.equal(result.endpoint, cluster.nodes.find((n) => n.name === result.node).ws);

  // The two pages still hear each other across nodes.
  await a.page.evaluate(() => window.cluster.channels[0].sendMessage('broadcast', { text: 'after failover' }));
  await b.page.waitForFunction(() => window.cluster.heard.includes('after failover'), null, { timeout: 10_000 });
  assert.deepEqual(problems, []);
});
