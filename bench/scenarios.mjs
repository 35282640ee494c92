// The benchmark's work, the same in Node and in the browser page: each scenario connects one client to the blast
// server (bench/blast-server.mjs), warms up, runs the measured part between two calls of `hooks.sample()` (CPU time:
// process.cpuUsage() in Node, the renderer main thread's TaskDuration from CDP in Chromium), and checks that every
// message arrived and every reply matched its request — a scenario that cannot show that throws, and the run fails.
// Two do not warm up: cold-start measures the first messages of a fresh process or page, and footprint only
// connects and reads the memory.
//
// The three clients are driven through the API they share (PondClient, createChannel, join, onChannelStateChange,
// onMessageEvent, sendMessage, sendForResponse, leave): ours and the peer by their own classes, the floor by
// FloorClient below — a bare WebSocket, one JSON.parse and one callback per message. Over Server-Sent Events, ours
// with `transport: 'sse'` and FloorSseClient: a bare fetch of the event stream, split into events, one JSON.parse
// and one callback per message, and one POST at a time.

/** The floor: the least a client of this protocol can do per message. */
export class FloorClient {
  constructor(url) {
    this.url = url;
    this.ws = null;
    this.state = 'disconnected';
    this.stateCb = null;
    this.pending = new Map(); // requestId → resolve(payload)
    this.channels = new Map(); // channelName → Map(event → callback)
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = () => { this.state = 'disconnected'; };
  }

  send(text) {
    this.ws.send(text);
  }

  /** One frame of the server's. */
  receive(text) {
    const m = JSON.parse(text);
    const resolve = this.pending.get(m.requestId);
    if (resolve !== undefined) {
      this.pending.delete(m.requestId);
      resolve(m.payload);
      return;
    }
    if (m.event === 'CONNECTION') {
      this.state = 'connected';
      if (this.stateCb) this.stateCb('connected');
      return;
    }
    const handlers = this.channels.get(m.channelName);
    if (handlers !== undefined) {
      const cb = handlers.get(m.event);
      if (cb !== undefined) cb(m.payload);
    }
  }

  onConnectionChange(cb) {
    this.stateCb = cb;
    cb(this.state);
    return () => { this.stateCb = null; };
  }

  getState() { return this.state; }

  createChannel(name) { return new FloorChannel(this, name); }

  disconnect() { this.ws?.close(); }

  request(action, event, channelName, payload) {
    const requestId = crypto.randomUUID();
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.send(JSON.stringify({ action, event, channelName, requestId, payload }));
    });
  }
}

class FloorChannel {
  constructor(client, name) {
    this.client = client;
    this.name = name;
    this.channelState = 'IDLE';
    this.stateCbs = new Set();
    this.handlers = new Map();
  }

  join() {
    this.client.channels.set(this.name, this.handlers);
    this.setState('JOINING');
    this.client.request('JOIN_CHANNEL', 'JOIN_CHANNEL', this.name, {}).then(() => this.setState('JOINED'));
  }

  leave() {
    this.client.channels.delete(this.name);
    this.client.request('LEAVE_CHANNEL', 'LEAVE_CHANNEL', this.name, {});
    this.setState('CLOSED');
  }

  setState(state) {
    this.channelState = state;
    for (const cb of [...this.stateCbs]) cb(state);
  }

  onChannelStateChange(cb) {
    this.stateCbs.add(cb);
    cb(this.channelState);
    return () => this.stateCbs.delete(cb);
  }

  onMessageEvent(event, cb) {
    this.handlers.set(event, cb);
    return () => this.handlers.delete(event);
  }

  sendMessage(event, payload) {
    this.client.send(JSON.stringify({
      action: 'BROADCAST', event, channelName: this.name, requestId: crypto.randomUUID(), payload,
    }));
  }

  sendForResponse(event, payload) {
    return this.client.request('BROADCAST', event, this.name, payload);
  }
}

/** Ours over Server-Sent Events: the same class with `transport: 'sse'`. */
export const overSse = (Client) => class extends Client {
  constructor(url, params, options) {
    super(url, params, { ...options, transport: 'sse' });
  }
};

/** The floor over SSE: the event stream read with fetch and split into events; a POST per message, in order. */
export class FloorSseClient extends FloorClient {
  connect() {
    const url = this.url.replace(/^ws/, 'http');
    this.abort = new AbortController();
    this.posting = Promise.resolve();
    (async () => {
      const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: this.abort.signal });
      this.id = response.headers.get('x-connection-id');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (event.startsWith('data: ')) this.receive(event.slice(6));
        }
      }
    })().catch(() => {}).finally(() => { this.state = 'disconnected'; });
  }

  send(text) {
    const url = this.url.replace(/^ws/, 'http');
    this.posting = this.posting.then(() => fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-connection-id': this.id }, body: text,
    }));
  }

  disconnect() { this.abort?.abort(); }
}

// ---- helpers ------------------------------------------------------------------------------------------------------

const now = () => performance.now();

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms); }),
  ]);
}

function whenState(subscribe, wanted, bad = []) {
  return new Promise((resolve, reject) => {
    let unsubscribe = null;
    let settled = false;
    const settle = (fn) => {
      if (settled) return;
      settled = true;
      // Called from inside subscribe() (the current state at once), there is no unsubscribe yet: see below.
      if (unsubscribe) unsubscribe();
      fn();
    };
    unsubscribe = subscribe((state) => {
      if (state === wanted) settle(resolve);
      else if (bad.includes(state)) settle(() => reject(new Error(`state ${state}, wanted ${wanted}`)));
    });
    if (settled) unsubscribe();
  });
}

export async function connect(Client, url, timeoutMs) {
  const client = new Client(url, { token: 'bench' });
  client.connect();
  await withTimeout(whenState((cb) => client.onConnectionChange(cb), 'connected'), timeoutMs, () => 'connect');
  return client;
}

export async function joined(client, name, timeoutMs) {
  const channel = client.createChannel(name, {});
  channel.join();
  await withTimeout(
    whenState((cb) => channel.onChannelStateChange(cb), 'JOINED', ['DECLINED', 'CLOSED']), timeoutMs, () => `join ${name}`);
  return channel;
}

/** A pause after the warm-up, so that start-up work (a tier-up compile in the background) is not measured. */
async function settle(hooks) {
  await new Promise((resolve) => setTimeout(resolve, hooks.settleMs ?? 100));
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** One echo round trip: the server answers in order, so everything it sent before has arrived. */
async function flush(channel, k = -1) {
  const reply = await channel.sendForResponse('echo', { k });
  check(reply && reply.k === k, `flush: reply ${JSON.stringify(reply)} does not match request ${k}`);
}

// ---- scenarios ----------------------------------------------------------------------------------------------------

/**
 * Inbound: `count` broadcasts of about `size` bytes of payload on one channel to one onMessageEvent callback.
 * The callback checks each payload's sequence number, so a lost, duplicated or reordered message fails the run.
 */
async function inbound(Client, url, { count, size, warmup }, hooks) {
  const client = await connect(Client, url, hooks.timeoutMs);
  const channel = await joined(client, '/bench', hooks.timeoutMs);
  let received = 0;
  let expected = 0;
  let target = 0;
  let done = null;
  let bad = null;
  channel.onMessageEvent('m', (payload) => {
    if (payload.i !== expected && bad === null) bad = `message ${received}: i=${payload.i}, expected ${expected}`;
    expected += 1;
    received += 1;
    if (received === target && done) done();
  });
  const blast = async (n) => {
    received = 0;
    expected = 0;
    target = n;
    const all = new Promise((resolve) => { done = resolve; });
    channel.sendMessage('blast', { count: n, size });
    await withTimeout(all, hooks.timeoutMs, () => `${received} of ${n} messages delivered`);
  };
  if (warmup > 0) {
    await blast(warmup);
    await flush(channel);
    check(received === warmup && bad === null, `warm-up: ${bad ?? `${received} of ${warmup} delivered`}`);
  }
  await settle(hooks);
  const before = await hooks.sample();
  const t0 = now();
  await blast(count);
  const t1 = now();
  const after = await hooks.sample();
  await flush(channel);
  check(bad === null, bad);
  check(received === count, `${received} messages delivered, expected exactly ${count}`);
  client.disconnect();
  const wallMs = t1 - t0;
  const cpuMs = after.cpuMs - before.cpuMs;
  return {
    count, size, wallMs,
    msgsPerSec: count / (wallMs / 1000),
    cpuUsPerMsg: (cpuMs * 1000) / count,
    cpuMs,
    extra: after.extra && before.extra ? diffExtra(after.extra, before.extra) : undefined,
  };
}

function diffExtra(a, b) {
  const out = {};
  for (const key of Object.keys(a)) out[key] = a[key] - (b[key] ?? 0);
  return out;
}

/** Sequential request/response: one sendForResponse at a time; latency of each. */
async function requestsSequential(Client, url, { count, warmup }, hooks) {
  const client = await connect(Client, url, hooks.timeoutMs);
  const channel = await joined(client, '/bench', hooks.timeoutMs);
  for (let k = 0; k < warmup; k++) {
    const reply = await channel.sendForResponse('echo', { k });
    check(reply.k === k, `warm-up reply ${JSON.stringify(reply)} to request ${k}`);
  }
  const latencies = new Float64Array(count);
  await settle(hooks);
  const before = await hooks.sample();
  const t0 = now();
  await withTimeout((async () => {
    for (let k = 0; k < count; k++) {
      const start = now();
      const reply = await channel.sendForResponse('echo', { k });
      latencies[k] = now() - start;
      check(reply.k === k, `reply ${JSON.stringify(reply)} to request ${k}`);
    }
  })(), hooks.timeoutMs, () => 'sequential requests');
  const t1 = now();
  const after = await hooks.sample();
  client.disconnect();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  return {
    count, wallMs: t1 - t0,
    p50Us: percentile(sorted, 50) * 1000,
    p99Us: percentile(sorted, 99) * 1000,
    cpuUsPerReq: ((after.cpuMs - before.cpuMs) * 1000) / count,
  };
}

/** Concurrent request/response: `count` sendForResponse at once; time until all resolved, each to its own reply. */
async function requestsConcurrent(Client, url, { count, warmup }, hooks) {
  const client = await connect(Client, url, hooks.timeoutMs);
  const channel = await joined(client, '/bench', hooks.timeoutMs);
  const burst = async (n) => {
    const replies = await withTimeout(
      Promise.all(Array.from({ length: n }, (_, k) => channel.sendForResponse('echo', { k }))),
      hooks.timeoutMs, () => `${n} concurrent requests`);
    replies.forEach((reply, k) => check(reply.k === k, `reply ${JSON.stringify(reply)} to request ${k}`));
  };
  if (warmup > 0) await burst(warmup);
  await settle(hooks);
  const before = await hooks.sample();
  const t0 = now();
  await burst(count);
  const t1 = now();
  const after = await hooks.sample();
  client.disconnect();
  return { count, wallMs: t1 - t0, cpuMs: after.cpuMs - before.cpuMs };
}

/** Fan-out: `channels` joined channels on one client, one message to each; time until all delivered. */
async function fanout(Client, url, { channels, warmup }, hooks) {
  const client = await connect(Client, url, hooks.timeoutMs);
  const t0 = now();
  const list = await Promise.all(Array.from({ length: channels }, (_, i) => joined(client, `/fan/${i}`, hooks.timeoutMs)));
  const joinMs = now() - t0;
  let received = 0;
  let bad = null;
  let done = null;
  const seen = new Uint32Array(channels);
  list.forEach((channel, i) => {
    channel.onMessageEvent('f', (payload) => {
      if (payload.ch !== i && bad === null) bad = `channel /fan/${i} got the message for /fan/${payload.ch}`;
      seen[i] += 1;
      received += 1;
      if (received === channels && done) done();
    });
  });
  const round = async () => {
    received = 0;
    seen.fill(0);
    const all = new Promise((resolve) => { done = resolve; });
    list[0].sendMessage('fanout', { prefix: '/fan/', count: channels });
    await withTimeout(all, hooks.timeoutMs, () => `${received} of ${channels} channels got their message`);
  };
  for (let w = 0; w < warmup; w++) {
    await round();
    await flush(list[0]);
  }
  await settle(hooks);
  const before = await hooks.sample();
  const t1 = now();
  await round();
  const t2 = now();
  const after = await hooks.sample();
  await flush(list[0]);
  check(bad === null, bad);
  check(received === channels && seen.every((n) => n === 1), `fan-out: ${received} deliveries to ${channels} channels`);
  client.disconnect();
  return { channels, wallMs: t2 - t1, joinMs, cpuMs: after.cpuMs - before.cpuMs };
}

/**
 * Memory: wasm linear memory and JS heap after a forced GC, at start (connected, one channel joined), after
 * `cycles` createChannel/join/leave cycles on distinct channels, and after `requests` more requests (in batches of
 * `batch` concurrent ones). `hooks.memory()` forces the GC and reads the numbers.
 */
async function memory(Client, url, { cycles, requests, batch }, hooks) {
  const client = await connect(Client, url, hooks.timeoutMs);
  const channel = await joined(client, '/bench', hooks.timeoutMs);
  await flush(channel);
  const start = await hooks.memory();

  const t0 = now();
  await withTimeout((async () => {
    for (let i = 0; i < cycles; i++) {
      const c = await joined(client, `/cycle/${i}`, hooks.timeoutMs);
      c.leave();
    }
  })(), hooks.timeoutMs * 4, () => 'join/leave cycles');
  await flush(channel);
  const cyclesMs = now() - t0;
  const afterCycles = await hooks.memory();

  const t1 = now();
  await withTimeout((async () => {
    for (let base = 0; base < requests; base += batch) {
      const n = Math.min(batch, requests - base);
      const replies = await Promise.all(Array.from({ length: n }, (_, j) => channel.sendForResponse('echo', { k: base + j })));
      replies.forEach((reply, j) => check(reply.k === base + j, `reply ${JSON.stringify(reply)} to request ${base + j}`));
    }
  })(), hooks.timeoutMs * 4, () => 'requests');
  const requestsMs = now() - t1;
  const afterRequests = await hooks.memory();
  client.disconnect();
  return { cycles, requests, cyclesMs, requestsMs, start, afterCycles, afterRequests };
}

/**
 * Cold start: in a fresh process or page, with no warm-up and no pause, the span from just before the client is
 * created to the `count`-th ~`size` B message delivered to the listener: connect, join, the blast. Whatever the
 * runtime does on first use (wasm compilation if it is lazy, instantiation if not done at load, tier-up of the hot
 * paths, JIT of the JS) falls in it; the module's load, measured by the caller before the client exists, comes in
 * `hooks.load` ({wallMs, cpuMs}) and is reported beside it.
 */
async function coldStart(Client, url, { count, size }, hooks) {
  const before = await hooks.sample();
  const t0 = now();
  const client = await connect(Client, url, hooks.timeoutMs);
  const channel = await joined(client, '/bench', hooks.timeoutMs);
  let received = 0;
  let bad = null;
  let done = null;
  const all = new Promise((resolve) => { done = resolve; });
  channel.onMessageEvent('m', (payload) => {
    if (payload.i !== received && bad === null) bad = `message ${received}: i=${payload.i}, expected ${received}`;
    received += 1;
    if (received === count) done();
  });
  channel.sendMessage('blast', { count, size });
  await withTimeout(all, hooks.timeoutMs, () => `${received} of ${count} messages delivered`);
  const t1 = now();
  const after = await hooks.sample();
  await flush(channel);
  check(bad === null, bad);
  check(received === count, `${received} messages delivered, expected exactly ${count}`);
  client.disconnect();
  return {
    count, size,
    wallMs: t1 - t0,
    cpuMs: after.cpuMs - before.cpuMs,
    loadMs: hooks.load?.wallMs ?? NaN,
    loadCpuMs: hooks.load?.cpuMs ?? NaN,
    extra: after.extra && before.extra ? diffExtra(after.extra, before.extra) : undefined,
  };
}

/**
 * Footprint: the package loaded and one client connected (nothing joined), a pause of `settleMs`, then
 * `hooks.memory()` (forced GCs, then
 * the numbers: RSS and heap in Node, JS heap and wasm memory in Chromium). The floor's figure is what a bare
 * WebSocket costs in the same process, so ours − floor is our own share.
 */
async function footprint(Client, url, { settleMs }, hooks) {
  const client = await connect(Client, url, hooks.timeoutMs);
  // Long enough for what the runtime does in the background after a first connection to end before the
  // collections and the reading (in Node, undici's first HTTP request, the handshake, holds up to ~30 MB more for
  // ~100 ms while it sets up its wasm HTTP parser).
  await new Promise((resolve) => setTimeout(resolve, settleMs ?? 1_000));
  const memory = await hooks.memory();
  client.disconnect();
  return memory;
}

export const SCENARIOS = {
  'inbound-small': inbound,
  'inbound-large': inbound,
  'rr-seq': requestsSequential,
  'rr-conc': requestsConcurrent,
  fanout,
  memory,
  'cold-start': coldStart,
  footprint,
};

export async function runScenario(name, Client, url, params, hooks) {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  return scenario(Client, url, params, hooks);
}
