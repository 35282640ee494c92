// Faults against the real server, through its supervisor: repeated kills and restarts with channels joined and
// requests in flight, and disconnect()/leave() at every point of the lifecycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as api from 'pondsocket-wasm';
import { url, control, unique, until, stateIs, connected, overTransport } from './helpers.mjs';

const { RequestCancelledError, ResponseTimeoutError } = api;
// Over the transport of this run (PONDSOCKET_TRANSPORT).
const PondClient = overTransport(api.PondClient);

const restart = async (downMs) => {
  const response = await fetch(`${control}/restart?downMs=${downMs}`, { method: 'POST' });
  assert.equal(response.status, 200, await response.text());
};

/** A deterministic generator, so a failing run can be replayed with the seed it prints. */
function dice(seed) {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

test('twenty kills and restarts with twenty channels joined and requests in flight', { timeout: 180_000 }, async (t) => {
  const seed = Number(process.env.PONDSOCKET_FAULT_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed}`);
  const roll = dice(seed);
  const options = { baseReconnectDelay: 100, maxReconnectDelay: 1000, responseTimeout: 3000, maxQueueSize: 10 };
  const client = new PondClient(url, { token: 'good' }, options);
  t.after(() => client.disconnect());
  const errors = [];
  const reconnects = [];
  client.onError((e) => errors.push(e));
  client.onReconnectScheduled((r) => reconnects.push(r));
  client.connect();
  const channels = Array.from({ length: 20 }, (_, i) => client.createChannel(`/chat/${unique(`storm${i}`)}`, { i }));
  const received = channels.map(() => new Set());
  channels.forEach((channel, i) => {
    channel.onMessageEvent('message', (payload) => received[i].add(payload.id));
    channel.join();
  });
  await Promise.all(channels.map((channel) => stateIs(channel, 'JOINED')));

  const settled = [];
  let sent = 0;
  const traffic = () => {
    for (const channel of channels) {
      if (channel.channelState === 'JOINED' || channel.channelState === 'STALLED') {
        const request = roll(2) === 0
          ? channel.sendForResponse('echo', { n: sent })
          : channel.sendForResponse('late', { delayMs: roll(400) });
        settled.push(request.then(() => 'resolved', (e) => e));
        channel.sendMessage('broadcast', { id: `t${sent++}` });
      }
    }
  };
  for (let round = 0; round < 20; round++) {
    traffic();
    await new Promise((resolve) => setTimeout(resolve, roll(2000)));
    traffic();
    await restart(roll(300));
  }

  // The last outage: everything sent while the channels are stalled must arrive after the rejoin.
  await fetch(`${control}/kill`, { method: 'POST' });
  await until(() => channels.every((c) => c.channelState === 'STALLED'), 'every channel stalled', 10_000);
  const queued = channels.map((channel, i) => {
    const ids = Array.from({ length: 5 }, (_, k) => `q${i}-${k}`);
    for (const id of ids) channel.sendMessage('broadcast', { id });
    return ids;
  });
  await fetch(`${control}/start`, { method: 'POST' });
  await until(() => channels.every((c) => c.channelState === 'JOINED'), 'every channel joined again', 20_000);
  await until(() => queued.every((ids, i) => ids.every((id) => received[i].has(id))), 'the queued messages', 10_000);

  // Every request ended one way or the other: none hangs.
  const outcomes = await Promise.race([
    Promise.all(settled),
    new Promise((_, reject) => setTimeout(() => reject(new Error('a request never settled')), 10_000)),
  ]);
  for (const outcome of outcomes) {
    assert.ok(outcome === 'resolved' || outcome instanceof RequestCancelledError || outcome instanceof ResponseTimeoutError, String(outcome));
  }
  assert.ok(outcomes.filter((o) => o === 'resolved').length > outcomes.length / 4, 'most requests went through');

  // Reconnects follow the backoff, never a storm: the first after each lost connection within [0, base] (spread
  // over the whole window), the next ones within [nominal/2, nominal] for their attempt.
  assert.ok(reconnects.length >= 20, `${reconnects.length} reconnects for 21 outages`);
  for (const { attempt, delayMs } of reconnects) {
    const nominal = Math.min(options.maxReconnectDelay, options.baseReconnectDelay * 2 ** (attempt - 1));
    const least = attempt === 1 ? 0 : nominal / 2;
    assert.ok(delayMs >= least && delayMs <= nominal, `attempt ${attempt} waited ${delayMs} ms (nominal ${nominal})`);
  }
  assert.ok(reconnects.length < 200, `${reconnects.length} reconnects is a storm`);
  assert.equal(client.getState(), 'connected');
  for (const channel of channels) assert.deepEqual(await channel.sendForResponse('echo', { ok: 1 }), { ok: 1 });
  assert.ok(errors.length > 0 && !errors.some((e) => /token=/.test(e.message)), 'errors were reported, none shows the token');
});

test('disconnect() and leave() at every point of the lifecycle', async (t) => {
  // While connecting, before the socket opened.
  let client = new PondClient(url, { token: 'good' });
  const early = client.createChannel(`/chat/${unique('early')}`);
  early.join();
  const earlyRequest = early.sendForResponse('echo', {});
  client.connect();
  client.disconnect();
  assert.equal(client.getState(), 'disconnected');
  assert.equal(early.channelState, 'CLOSED');
  await assert.rejects(earlyRequest, RequestCancelledError);

  // Reconnecting later on the same client works, and new channels join.
  client.connect();
  await connected(client);
  const again = client.createChannel(early.name);
  assert.notEqual(again, early);
  again.join();
  await stateIs(again, 'JOINED');
  client.disconnect();

  // While joining: the join is in flight.
  client = new PondClient(url, { token: 'good' });
  t.after(() => client.disconnect());
  client.connect();
  await connected(client);
  const joining = client.createChannel(`/chat/${unique('joining')}`);
  joining.join();
  joining.leave();
  assert.equal(joining.channelState, 'CLOSED');
  const silent = client.createChannel(`/silent/${unique('silent')}`);
  silent.join();
  const silentRequest = silent.sendForResponse('echo', {});
  silent.leave();
  await assert.rejects(silentRequest, RequestCancelledError);

  // Mid-request, on a joined channel.
  const busy = client.createChannel(`/chat/${unique('busy')}`);
  busy.join();
  await stateIs(busy, 'JOINED');
  const inFlight = busy.sendForResponse('late', { delayMs: 500 });
  busy.leave();
  busy.leave();
  await assert.rejects(inFlight, (e) => e instanceof RequestCancelledError && /left/.test(e.message));
  const other = client.createChannel(`/chat/${unique('other')}`);
  other.join();
  await stateIs(other, 'JOINED');
  const pending = other.sendForResponse('late', { delayMs: 500 });
  client.disconnect();
  client.disconnect();
  await assert.rejects(pending, (e) => e instanceof RequestCancelledError && /disconnected/.test(e.message));
  assert.equal(other.channelState, 'CLOSED');
  assert.equal(joining.channelState, 'CLOSED');
});
