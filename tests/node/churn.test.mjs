// Churn: thousands of channels and requests through one client, then everything they held is released: the
// allocator's live bytes and the JS heap come back to where they started (measured, after garbage collection).
// Needs node --expose-gc (scripts/test-node.sh passes it). It runs against the scripted server, which answers a
// join at once: the Rust server takes about 33 ms per join, which would make 10,000 cycles take minutes. Over SSE
// (PONDSOCKET_TRANSPORT=sse) it runs against the Python server (PONDSOCKET_CHURN_URL), with fewer cycles and
// requests (PONDSOCKET_CHURN_CYCLES, _REQUESTS): each message there is a POST and its round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import api from 'pondsocket-wasm';
import { unique, stateIs, connected, overTransport } from './helpers.mjs';

const url = process.env.PONDSOCKET_CHURN_URL ?? process.env.PONDSOCKET_HOSTILE_URL;

const CYCLES = Number(process.env.PONDSOCKET_CHURN_CYCLES ?? 10_000);
const REQUESTS = Number(process.env.PONDSOCKET_CHURN_REQUESTS ?? 100_000);
const BATCH = 1_000;

/** Collects garbage until finalizers (which free dropped wasm handles) have run. */
async function settle() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function measure(client) {
  await settle();
  return { ...api.__diagnostics(), heap: process.memoryUsage().heapUsed, ...client.__counts() };
}

async function cycles(client, count) {
  for (let i = 0; i < count; i++) {
    const channel = client.createChannel(`/chat/churn-${i % 50}`, { i });
    const unsubscribe = channel.onMessage(() => {});
    channel.join();
    await stateIs(channel, 'JOINED');
    unsubscribe();
    channel.leave();
  }
}

async function requests(channel, count) {
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, n) => channel.sendForResponse('echo', { n }));
    const replies = await Promise.all(batch);
    assert.equal(replies[BATCH - 1].n, BATCH - 1);
  }
}

test(`${CYCLES} join/leave cycles and ${REQUESTS} requests release what they held`, { timeout: 300_000 }, async (t) => {
  assert.equal(typeof global.gc, 'function', 'run with --expose-gc');
  const client = new (overTransport(api.PondClient))(url, { token: 'good' });
  t.after(() => client.disconnect());
  client.connect();
  await connected(client);
  const channel = client.createChannel(`/chat/${unique('requests')}`);
  channel.join();
  await stateIs(channel, 'JOINED');
  // Warm up to the steady state (maps at their working size) before the baseline.
  await cycles(client, 200);
  await requests(channel, 2 * BATCH);
  const start = await measure(client);

  await cycles(client, CYCLES);
  const afterCycles = await measure(client);
  await requests(channel, REQUESTS);
  const end = await measure(client);

  const report = { start, afterCycles, end };
  t.diagnostic(JSON.stringify(report));
  for (const [label, m] of [['after the cycles', afterCycles], ['after the requests', end]]) {
    assert.equal(m.channels, 1, `${label}: only the request channel is held (${JSON.stringify(m)})`);
    assert.equal(m.requests, 0, `${label}: no request is pending`);
    assert.ok(m.liveBytes - start.liveBytes < 64 * 1024, `${label}: wasm live bytes grew ${m.liveBytes - start.liveBytes}`);
    assert.ok(m.heap - start.heap < 2 * 1024 * 1024, `${label}: JS heap grew ${m.heap - start.heap}`);
  }
  // Linear memory (memoryBytes) is a high-water mark: wasm cannot shrink it. What is in use (liveBytes) is back.
});
