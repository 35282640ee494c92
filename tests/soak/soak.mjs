// The soak (not part of the tests or CI): two clients of the package in the same rooms for minutes, steady traffic,
// and the server killed and restarted on a schedule. Run it through scripts/soak.sh, which builds what is missing,
// starts the Rust test server under its supervisor and exports PONDSOCKET_TEST_URL / PONDSOCKET_CONTROL_URL:
//
//   node --expose-gc --experimental-websocket tests/soak/soak.mjs [--minutes 10] [--restart-every 60] [--down-ms 300]
//        [--rate 50] [--request-rate 10] [--channels 10] [--sample-every 10] [--warmup 30] [--out target/soak]
//
// The sender sends `broadcast` {seq} round-robin over its channels (the server echoes it as `message` to everyone in
// the room, the sender included) and both clients send `echo` requests. Each message is recorded with the sender's
// channel state when it was sent: JOINED (it goes on the wire at once) or STALLED/JOINING (queued until the rejoin).
// The server is restarted every --restart-every seconds, half a sample period off the sampling grid (so the first
// restart comes at 65 s by default). Every --sample-every seconds a sample (states, counters, memory after GC) goes to target/soak/samples.csv; at the
// end target/soak/summary.md and summary.json say what was sent, what arrived, where the losses were, and how memory
// moved. Exit 0 only if:
//   * every channel of both clients ended JOINED;
//   * every request settled (resolved with its own payload, or rejected with a typed error): none hung;
//   * no message queued while the channel was STALLED/JOINING was lost: each came back to the sender, and reached
//     the receiver whenever the receiver was in the room when the sender flushed its queue;
//   * every loss of a message sent while JOINED is explained by a restart: it was written to the socket before the
//     sender saw the socket close (the server died with it), or, for the receiver, sent while the receiver was not
//     in the room (its own socket dead, or not rejoined yet);
//   * no message was delivered twice, and no error message showed the token;
//   * the wasm's live bytes at the end are within 64 KiB of the first sample after the warm-up.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// ------------------------------------------------------------------------------------------------ arguments

const USAGE = 'usage: soak.mjs [--minutes N] [--restart-every S] [--down-ms N] [--rate N] [--request-rate N] ' +
  '[--channels N] [--sample-every S] [--warmup S] [--out DIR]';
const args = {
  minutes: 10, restartEvery: 60, downMs: 300, rate: 50, requestRate: 10, channels: 10, sampleEvery: 10, warmup: 30,
  out: join(ROOT, 'target', 'soak'),
};
{
  const argv = process.argv.slice(2);
  const names = {
    '--minutes': 'minutes', '--restart-every': 'restartEvery', '--down-ms': 'downMs', '--rate': 'rate',
    '--request-rate': 'requestRate', '--channels': 'channels', '--sample-every': 'sampleEvery', '--warmup': 'warmup',
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '-h' || flag === '--help') { console.log(USAGE); process.exit(0); }
    const value = inline ?? argv[++i];
    if (value === undefined) { console.error(`${flag} needs a value\n${USAGE}`); process.exit(2); }
    if (flag === '--out') { args.out = resolve(value); continue; }
    const name = names[flag];
    const number = Number(value);
    if (!name || !Number.isFinite(number) || number < 0) { console.error(`bad argument ${argv[i]}\n${USAGE}`); process.exit(2); }
    args[name] = number;
  }
  if (args.channels < 1 || args.channels > 200 || args.rate <= 0 || args.sampleEvery <= 0) {
    console.error(`out of range: ${JSON.stringify(args)}`);
    process.exit(2);
  }
}

const url = process.env.PONDSOCKET_TEST_URL;
const control = process.env.PONDSOCKET_CONTROL_URL;
if (!url || !control) throw new Error('PONDSOCKET_TEST_URL / PONDSOCKET_CONTROL_URL are not set: run scripts/soak.sh');
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
if (typeof WebSocket !== 'function') throw new Error('no global WebSocket: Node 20 needs --experimental-websocket');

const pkgEntry = resolve(process.env.PONDSOCKET_SOAK_PKG ?? join(ROOT, 'pkg', 'node', 'index.mjs'));
const { default: api } = await import(pathToFileURL(pkgEntry).href);
const { PondClient, RequestCancelledError, ResponseTimeoutError } = api;
const pkgVersion = createRequire(import.meta.url)(join(dirname(pkgEntry), '..', 'package.json')).version;
// Which build is soaked: the wasm's hash and time, and the commit of the tree (read-only git).
const build = (() => {
  const wasm = join(dirname(pkgEntry), 'pondsocket_wasm_bg.wasm');
  const git = (...a) => {
    try { return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
  };
  const dirty = git('status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock', 'pkg-template') !== '';
  return {
    wasmSha256: createHash('sha256').update(readFileSync(wasm)).digest('hex').slice(0, 12),
    builtAt: statSync(wasm).mtime.toISOString(),
    commit: `${git('rev-parse', '--short', 'HEAD') || 'unknown'}${dirty ? ' (uncommitted changes in src/, Cargo.* or pkg-template/)' : ''}`,
  };
})();

const DURATION_MS = args.minutes * 60_000;
const RESTART_MS = args.restartEvery * 1000;
const SAMPLE_MS = args.sampleEvery * 1000;
const WARMUP_MS = args.warmup * 1000;
const LAST_RESTART_MARGIN_MS = 15_000; // no restart this close to the end: the clients get time to rejoin
const PRE_KILL_MS = 500; // a message sent this long before the kill may still die with the server
const POST_RECOVERY_MS = 250; // slack after "every channel joined again" (state changes are seen through polling)
const LATE_MS = 2000; // a message not back after this long counts as lost in the running samples
const RESPONSE_TIMEOUT_MS = 5000; // the package's default, named here for the drain

const now = () => performance.now(); // ms since the process started; every time below is on this clock
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => console.log(`[soak ${(elapsed() / 1000).toFixed(1).padStart(6)} s] ${line}`);
let t0 = now();
const elapsed = () => now() - t0;

// ------------------------------------------------------------------------------------------------ clients

const errors = { count: 0, byName: {}, examples: [], tokenLeaks: [] };
function makeClient(role) {
  const client = new PondClient(url, { token: 'good', name: role });
  const c = { role, client, state: 'disconnected', disconnects: [], connects: 0, reconnectsScheduled: 0, channels: [], logs: [] };
  client.onConnectionChange((state) => {
    c.state = state;
    if (state === 'disconnected') c.disconnects.push(elapsed());
    if (state === 'connected') c.connects += 1;
  });
  client.onReconnectScheduled(() => { c.reconnectsScheduled += 1; });
  client.onError((error) => {
    errors.count += 1;
    const key = `${role}: ${error.name}`;
    errors.byName[key] = (errors.byName[key] ?? 0) + 1;
    const message = String(error.message);
    if (/token=/.test(message)) errors.tokenLeaks.push(message);
    const shape = `${key}: ${message.replace(/\d+/g, 'N')}`;
    if (errors.examples.length < 12 && !errors.examples.some((e) => e.shape === shape)) {
      errors.examples.push({ shape, at: Math.round(elapsed()), text: `${key}: ${message}` });
    }
  });
  return c;
}

const sender = makeClient('sender');
const receiver = makeClient('receiver');
const clients = [sender, receiver];
const room = (i) => `/chat/soak-${process.pid}-${i}`;

// Bookkeeping in preallocated typed arrays, so the JS heap measured below is the client's, not ours.
const CAPACITY = Math.ceil((DURATION_MS / 1000 + 60) * args.rate * 1.2) + 1000;
const msgChannel = new Uint16Array(CAPACITY);
const msgTime = new Float64Array(CAPACITY);
const msgQueued = new Uint8Array(CAPACITY); // 1: sent while the sender's channel was STALLED or JOINING
const gotByReceiver = new Uint8Array(CAPACITY);
const gotBySender = new Uint8Array(CAPACITY);
const counters = {
  sent: 0, sentQueued: 0, sendErrors: 0, sendErrorExamples: [], recvReceiver: 0, recvSender: 0,
  dupReceiver: 0, dupSender: 0, unknown: 0, reorderReceiver: 0, reorderSender: 0,
};
const lastSeq = { receiver: new Float64Array(args.channels).fill(-1), sender: new Float64Array(args.channels).fill(-1) };

const PAD = 'x'.repeat(64);
const requests = {
  sent: 0, ok: 0, cancelled: 0, timedOut: 0, wrongReply: 0, other: 0, pending: 0, otherExamples: [],
  // outcome by the channel's state when the request was made
  byState: {},
};

function onDelivered(role, channelIndex, payload) {
  const seq = payload?.seq;
  if (!Number.isInteger(seq) || seq < 0 || seq >= counters.sent || msgChannel[seq] !== channelIndex) {
    counters.unknown += 1;
    return;
  }
  const got = role === 'sender' ? gotBySender : gotByReceiver;
  if (got[seq]) {
    counters[role === 'sender' ? 'dupSender' : 'dupReceiver'] += 1;
    return;
  }
  got[seq] = 1;
  counters[role === 'sender' ? 'recvSender' : 'recvReceiver'] += 1;
  const last = lastSeq[role];
  if (seq < last[channelIndex]) counters[role === 'sender' ? 'reorderSender' : 'reorderReceiver'] += 1;
  else last[channelIndex] = seq;
}

for (const c of clients) {
  c.client.connect();
  for (let i = 0; i < args.channels; i++) {
    const channel = c.client.createChannel(room(i), { name: c.role });
    const transitions = []; // [time, state]: a few per restart
    channel.onChannelStateChange((state) => transitions.push([elapsed(), state]));
    channel.onMessageEvent('message', (payload) => onDelivered(c.role, i, payload));
    channel.join();
    c.channels.push(channel);
    c.logs.push(transitions);
  }
}

const allJoined = () => clients.every((c) => c.channels.every((ch) => ch.channelState === 'JOINED'));
async function until(predicate, timeoutMs) {
  const deadline = now() + timeoutMs;
  while (!predicate()) {
    if (now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

// ------------------------------------------------------------------------------------------------ traffic

function sendOne() {
  const seq = counters.sent;
  if (seq >= CAPACITY) return;
  const i = seq % args.channels;
  const channel = sender.channels[i];
  const state = channel.channelState;
  msgChannel[seq] = i;
  msgTime[seq] = elapsed();
  msgQueued[seq] = state === 'STALLED' || state === 'JOINING' ? 1 : 0;
  counters.sent += 1; // before sending: a delivery can only come later, but keep seq < sent true regardless
  if (msgQueued[seq]) counters.sentQueued += 1;
  try {
    channel.sendMessage('broadcast', { seq, pad: PAD });
  } catch (error) {
    counters.sendErrors += 1;
    if (counters.sendErrorExamples.length < 5) counters.sendErrorExamples.push(`${state}: ${error.name}: ${error.message}`);
  }
}

function requestOne() {
  const n = requests.sent;
  const c = clients[n % 2];
  const channel = c.channels[Math.floor(n / 2) % args.channels];
  const state = channel.channelState;
  const tally = (requests.byState[state] ??= { sent: 0, ok: 0, cancelled: 0, timedOut: 0, other: 0 });
  const at = elapsed();
  requests.sent += 1;
  requests.pending += 1;
  tally.sent += 1;
  const outcome = (kind, error) => {
    requests.pending -= 1;
    requests[kind] += 1;
    tally[kind === 'wrongReply' ? 'other' : kind] += 1;
    if (kind === 'timedOut' || kind === 'cancelled') (requests[`${kind}At`] ??= []).push(Math.round(at));
    if ((kind === 'other' || kind === 'wrongReply') && requests.otherExamples.length < 5) {
      requests.otherExamples.push(`${c.role} ${state}: ${error}`);
    }
  };
  let promise;
  try {
    promise = channel.sendForResponse('echo', { n, from: c.role });
  } catch (error) {
    outcome('other', `threw ${error.name}: ${error.message}`);
    return;
  }
  promise.then(
    (reply) => (reply?.n === n ? outcome('ok') : outcome('wrongReply', `asked ${n}, got ${JSON.stringify(reply)}`)),
    (error) => {
      if (error instanceof ResponseTimeoutError) outcome('timedOut');
      else if (error instanceof RequestCancelledError) outcome('cancelled');
      else outcome('other', `${error?.name}: ${error?.message}`);
    },
  );
}

let trafficStart = 0;
let trafficTimer = null;
function startTraffic() {
  trafficStart = elapsed();
  let requestsDue = 0;
  trafficTimer = setInterval(() => {
    const since = (elapsed() - trafficStart) / 1000;
    // Catch up after a pause (GC, a busy machine), but never more than a second's worth at once.
    const due = Math.min(Math.floor(since * args.rate) - counters.sent, args.rate);
    for (let k = 0; k < due; k++) sendOne();
    const requestTarget = Math.floor(since * args.requestRate);
    requestsDue = Math.min(requestTarget - requests.sent, Math.max(1, args.requestRate));
    for (let k = 0; k < requestsDue; k++) requestOne();
  }, 20);
}

// ------------------------------------------------------------------------------------------------ restarts

const restarts = [];
let stopping = false;

async function restartServer() {
  const r = { n: restarts.length + 1, killAt: elapsed(), upAt: null, recoveredAt: null, noticed: false, error: null };
  restarts.push(r);
  try {
    const response = await fetch(`${control}/restart?downMs=${args.downMs}`, { method: 'POST' });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`control answered ${response.status}: ${body}`);
    r.upAt = elapsed();
  } catch (error) {
    r.error = String(error.message);
    log(`restart ${r.n} failed: ${r.error}`);
    return;
  }
  // Recovered: both clients saw the connection drop after the kill, and every channel is JOINED again.
  const noticed = () => clients.every((c) => c.disconnects.some((t) => t >= r.killAt));
  const ok = await until(() => noticed() && allJoined(), 60_000);
  r.noticed = noticed();
  if (ok) r.recoveredAt = elapsed();
  log(`restart ${r.n}: server back after ${Math.round(r.upAt - r.killAt)} ms, ` +
    (ok ? `every channel joined again after ${Math.round(r.recoveredAt - r.killAt)} ms`
      : `NOT recovered after 60 s (noticed: ${r.noticed}; states ${describeStates()})`));
}

async function restartLoop() {
  if (RESTART_MS <= 0) return;
  for (let k = 1; ; k++) {
    // Half a sample period off the sampling grid, so that no sample falls in the middle of a restart.
    const offset = Math.min(SAMPLE_MS, RESTART_MS) / 2;
    if (k * RESTART_MS + offset > DURATION_MS - LAST_RESTART_MARGIN_MS) return;
    const at = trafficStart + k * RESTART_MS + offset;
    while (elapsed() < at) {
      if (stopping) return;
      await sleep(Math.min(250, at - elapsed()));
    }
    if (stopping) return;
    await restartServer();
  }
}

// ------------------------------------------------------------------------------------------------ samples

/** Collects garbage until the finalizers (which free dropped wasm handles) have run. */
async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
    await sleep(5);
  }
}

function describeStates() {
  return clients.map((c) => {
    const tally = {};
    for (const ch of c.channels) tally[ch.channelState] = (tally[ch.channelState] ?? 0) + 1;
    return `${c.role[0].toUpperCase()}:${Object.entries(tally).map(([s, n]) => `${s}=${n}`).join('/')}`;
  }).join(' ');
}

function lostSoFar(got, before) {
  let lost = 0;
  for (let seq = 0; seq < counters.sent; seq++) if (!got[seq] && msgTime[seq] < before) lost += 1;
  return lost;
}

const samples = [];
let cpuBefore = process.cpuUsage();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
async function sample(phase) {
  await settle();
  const t = elapsed();
  const { liveBytes, memoryBytes } = api.__diagnostics();
  const { heapUsed, rss } = process.memoryUsage();
  const cpu = process.cpuUsage(cpuBefore);
  cpuBefore = process.cpuUsage();
  const loopDelayMax = Math.round(loopDelay.max / 1e6);
  loopDelay.reset();
  const [cs, cr] = clients.map((c) => c.client.__counts());
  const cutoff = phase === 'final' ? Infinity : t - LATE_MS;
  const s = {
    elapsed_s: Math.round(t / 100) / 10,
    traffic_s: phase === 'start' ? 0 : Math.round((t - trafficStart) / 100) / 10,
    phase,
    conn_sender: sender.state,
    conn_receiver: receiver.state,
    joined_sender: sender.channels.filter((ch) => ch.channelState === 'JOINED').length,
    joined_receiver: receiver.channels.filter((ch) => ch.channelState === 'JOINED').length,
    channel_states: describeStates(),
    sent: counters.sent,
    sent_queued: counters.sentQueued,
    recv_receiver: counters.recvReceiver,
    recv_sender: counters.recvSender,
    lost_receiver: lostSoFar(gotByReceiver, cutoff),
    lost_sender: lostSoFar(gotBySender, cutoff),
    req_sent: requests.sent,
    req_ok: requests.ok,
    req_cancelled: requests.cancelled,
    req_timed_out: requests.timedOut,
    req_other: requests.other + requests.wrongReply,
    req_pending: requests.pending,
    restarts: restarts.length,
    reconnects: sender.reconnectsScheduled + receiver.reconnectsScheduled,
    errors: errors.count,
    live_bytes: liveBytes,
    memory_bytes: memoryBytes,
    js_heap_bytes: heapUsed,
    rss_bytes: rss,
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    loop_delay_max_ms: loopDelayMax, // the longest the event loop was held up since the last sample (GC included)
    counts_sender: `${cs.channels}/${cs.requests}/${cs.timers}`,
    counts_receiver: `${cr.channels}/${cr.requests}/${cr.timers}`,
  };
  samples.push(s);
  log(`${phase} ${s.channel_states} sent ${s.sent} (queued ${s.sent_queued}) recv R ${s.recv_receiver} S ` +
    `${s.recv_sender} lost R ${s.lost_receiver} S ${s.lost_sender} | req ok ${s.req_ok} cancelled ${s.req_cancelled} ` +
    `timeout ${s.req_timed_out} pending ${s.req_pending} | live ${kib(liveBytes)} mem ${kib(memoryBytes)} heap ` +
    `${mib(heapUsed)} rss ${mib(rss)} | counts S ${s.counts_sender} R ${s.counts_receiver}`);
  return s;
}

async function sampleLoop() {
  for (let k = 1; ; k++) {
    if (k * SAMPLE_MS >= DURATION_MS) return; // the final sample, after the drain, stands for the end
    const at = trafficStart + k * SAMPLE_MS;
    while (elapsed() < at) {
      if (stopping) return;
      await sleep(Math.min(250, at - elapsed()));
    }
    if (stopping) return;
    await sample('run');
  }
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

// ------------------------------------------------------------------------------------------------ run

const startedAt = new Date();
const loadStart = loadavg();
log(`pondsocket-wasm ${pkgVersion} (${relative(ROOT, pkgEntry)}), ${url}, node ${process.version}; ` +
  `${args.minutes} min, restart every ${args.restartEvery} s (down ${args.downMs} ms), ${args.rate} messages/s over ` +
  `${args.channels} channels, ${args.requestRate} requests/s`);
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  log('SIGINT: stopping early (again to abort)');
  stopping = true;
});

if (!(await until(allJoined, 30_000))) {
  console.error(`the channels did not join within 30 s: ${describeStates()}`);
  process.exit(1);
}
await sample('start');
startTraffic();
const loops = [restartLoop(), sampleLoop()];
while (elapsed() - trafficStart < DURATION_MS && !stopping) await sleep(Math.min(250, DURATION_MS - (elapsed() - trafficStart)));
stopping = true;
clearInterval(trafficTimer);
const trafficEnd = elapsed();
log('traffic stopped; waiting for the restart in progress, the requests and the messages in flight');
await Promise.all(loops);
// Every request made settles within its timeout (5 s from the call), whatever happens: wait a little longer.
await until(() => requests.pending === 0, RESPONSE_TIMEOUT_MS + 5000);
// Messages: until nothing more arrives for 2 s (at most 15 s).
{
  let last = -1;
  let quietSince = now();
  await until(() => {
    const seen = counters.recvReceiver + counters.recvSender;
    if (seen !== last) { last = seen; quietSince = now(); }
    return now() - quietSince > 2000 || (counters.recvReceiver === counters.sent && counters.recvSender === counters.sent);
  }, 15_000);
}
const final = await sample('final');

// ------------------------------------------------------------------------------------------------ analysis

const stateAt = (transitions, t) => {
  let state = 'IDLE';
  for (const [time, s] of transitions) {
    if (time > t) break;
    state = s;
  }
  return state;
};
const joinedAfter = (transitions, t) => transitions.find(([time, s]) => time >= t && s === 'JOINED')?.[0] ?? null;

// Each restart as the clients lived it: when each saw its socket close (the first disconnect after the kill), and
// when each of its channels was JOINED again after that.
for (const r of restarts) {
  r.seen = {};
  for (const c of clients) {
    const noticedAt = c.disconnects.find((t) => t >= r.killAt) ?? null;
    const rejoinedAt = c.logs.map((log) => (noticedAt === null ? null : joinedAfter(log, noticedAt)));
    r.seen[c.role] = { noticedAt, rejoinedAt };
  }
}
const windowOf = (t) => restarts.find((r) => t >= r.killAt - PRE_KILL_MS && t <= (r.recoveredAt ?? Infinity) + POST_RECOVERY_MS);
const orInfinity = (x) => x ?? Infinity;

// A message sent while the sender's channel was JOINED went on the wire at once. Lost by the sender (it did not come
// back), it is explained only if it was sent before the sender saw the socket close: the server was dying or dead.
// Lost by the receiver, also if the receiver was not in the room when it was sent: its socket was dead, or it had
// not rejoined yet (the sender rejoined first). Anything else is unexplained.
const loss = {
  wire: { sender: 0, receiver: 0 },
  wireBeforeSenderNoticed: { sender: 0, receiver: 0 },
  wireReceiverAway: 0,
  wireUnexplained: { sender: 0, receiver: 0 },
  queuedLostBySender: 0,
  queuedReceiverAway: 0, // the sender flushed its queue before the receiver was back in the room
  queuedLostReceiverPresent: 0,
  examples: [],
};
const perRestart = new Map(restarts.map((r) => [r.n, { receiver: 0, sender: 0, queuedReceiver: 0, maxOffsetMs: null, minOffsetMs: null }]));
const note = (what, seq) => {
  if (loss.examples.length < 20) {
    const t = msgTime[seq];
    const r = windowOf(t);
    loss.examples.push(`${what}: seq ${seq} on ${room(msgChannel[seq])} sent at ${(t / 1000).toFixed(3)} s` +
      (r ? ` (${Math.round(t - r.killAt)} ms after the kill of restart ${r.n}; sender saw the close at ` +
        `${Math.round(orInfinity(r.seen.sender.noticedAt) - r.killAt)} ms, receiver rejoined this channel at ` +
        `${Math.round(orInfinity(r.seen.receiver.rejoinedAt[msgChannel[seq]]) - r.killAt)} ms)` : ', outside any restart'));
  }
};
for (let seq = 0; seq < counters.sent; seq++) {
  const lostR = !gotByReceiver[seq];
  const lostS = !gotBySender[seq];
  if (!lostR && !lostS) continue;
  const t = msgTime[seq];
  const ch = msgChannel[seq];
  const r = windowOf(t);
  if (msgQueued[seq]) {
    if (lostS) { loss.queuedLostBySender += 1; note('queued, never came back to the sender', seq); }
    if (lostR) {
      // The sender flushes its queue once its channel is JOINED again; the receiver gets it only if it was back in
      // the room by then.
      const flushAt = joinedAfter(sender.logs[ch], t);
      const receiverBack = r ? r.seen.receiver.rejoinedAt[ch] : joinedAfter(receiver.logs[ch], t);
      if (flushAt !== null && receiverBack !== null && receiverBack <= flushAt) {
        loss.queuedLostReceiverPresent += 1;
        note('queued, missed by the receiver although it was back in the room when the sender flushed', seq);
      } else {
        loss.queuedReceiverAway += 1;
        if (r) perRestart.get(r.n).queuedReceiver += 1;
      }
    }
    continue;
  }
  for (const [role, lost] of [['receiver', lostR], ['sender', lostS]]) {
    if (!lost) continue;
    loss.wire[role] += 1;
    const beforeNoticed = r && t <= orInfinity(r.seen.sender.noticedAt);
    const receiverAway = r && role === 'receiver' && t <= orInfinity(r.seen.receiver.rejoinedAt[ch]);
    if (beforeNoticed) loss.wireBeforeSenderNoticed[role] += 1;
    else if (receiverAway) loss.wireReceiverAway += 1;
    else {
      loss.wireUnexplained[role] += 1;
      note(`sent while JOINED, lost by the ${role}, unexplained`, seq);
    }
    if (r) {
      const p = perRestart.get(r.n);
      p[role] += 1;
      const offset = Math.round(t - r.killAt);
      p.maxOffsetMs = Math.max(p.maxOffsetMs ?? offset, offset);
      p.minOffsetMs = Math.min(p.minOffsetMs ?? offset, offset);
    }
  }
}

// Memory trend after the warm-up: the first sample at or after it is the baseline.
const running = samples.filter((s) => s.phase !== 'final');
const baseline = running.find((s) => s.traffic_s >= args.warmup - 0.5) ?? running[0];
const afterWarmup = running.filter((s) => s.elapsed_s >= baseline.elapsed_s);
const lastRunning = running.at(-1);
function slopePerMinute(points, key) {
  if (points.length < 2) return 0;
  const xs = points.map((p) => p.elapsed_s / 60);
  const ys = points.map((p) => p[key]);
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den ? num / den : 0;
}
const memory = {};
for (const key of ['live_bytes', 'memory_bytes', 'js_heap_bytes', 'rss_bytes']) {
  memory[key] = {
    start: samples[0][key], baseline: baseline[key], lastRunning: lastRunning[key], final: final[key],
    min: Math.min(...afterWarmup.map((s) => s[key])), max: Math.max(...afterWarmup.map((s) => s[key])),
    slopePerMinute: Math.round(slopePerMinute(afterWarmup, key)),
  };
}

const endStates = clients.flatMap((c) => c.channels.map((ch) => ch.channelState));
const checks = [
  ['every channel of both clients ended JOINED', endStates.every((s) => s === 'JOINED'), describeStates()],
  ['no request hung (every one settled)', requests.pending === 0, `${requests.pending} pending after the drain`],
  ['every resolved request got its own reply', requests.wrongReply === 0 && requests.other === 0,
    `${requests.wrongReply} wrong replies, ${requests.other} other outcomes`],
  ['no message queued while STALLED/JOINING was lost', loss.queuedLostBySender === 0 && loss.queuedLostReceiverPresent === 0,
    `${loss.queuedLostBySender} never came back to the sender, ${loss.queuedLostReceiverPresent} missed by a receiver that was in the room`],
  ['every loss of a message sent while JOINED is explained by a restart',
    loss.wireUnexplained.receiver === 0 && loss.wireUnexplained.sender === 0,
    `unexplained: receiver ${loss.wireUnexplained.receiver}, sender ${loss.wireUnexplained.sender}`],
  ['no message delivered twice, none unknown', counters.dupReceiver + counters.dupSender + counters.unknown === 0,
    `duplicates R ${counters.dupReceiver} S ${counters.dupSender}, unknown ${counters.unknown}`],
  ['sendMessage never threw', counters.sendErrors === 0, counters.sendErrorExamples.join('; ') || '0'],
  ['no error message showed the token', errors.tokenLeaks.length === 0, errors.tokenLeaks.slice(0, 3).join('; ') || '0'],
  ['wasm live bytes at the end within 64 KiB of the baseline', final.live_bytes - baseline.live_bytes <= 65536,
    `${final.live_bytes - baseline.live_bytes} bytes (baseline ${baseline.live_bytes} at ${baseline.traffic_s} s, final ${final.live_bytes})`],
];
const passed = checks.every(([, ok]) => ok);

// Memory once both clients are gone (information only).
for (const c of clients) c.client.disconnect();
await sleep(100);
for (const c of clients) {
  for (const ch of c.channels) ch.free();
  c.client.free();
}
await settle();
const released = api.__diagnostics();

// ------------------------------------------------------------------------------------------------ reports

mkdirSync(args.out, { recursive: true });
const columns = Object.keys(samples[0]);
const csvCell = (v) => (typeof v === 'string' && /[",\s]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
writeFileSync(join(args.out, 'samples.csv'), [columns.join(','), ...samples.map((s) => columns.map((k) => csvCell(s[k])).join(','))].join('\n') + '\n');
const restartColumns = ['n', 'kill_at_s', 'sender_noticed_ms', 'receiver_noticed_ms', 'server_back_ms', 'rejoined_ms',
  'wire_lost_receiver', 'wire_lost_sender', 'wire_loss_sent_at_ms', 'queued_lost_receiver_away', 'error'];
writeFileSync(join(args.out, 'restarts.csv'), [restartColumns.join(','), ...restarts.map((r) => {
  const p = perRestart.get(r.n);
  const ms = (t) => (t === null || t === undefined ? '' : Math.round(t - r.killAt));
  return [r.n, (r.killAt / 1000).toFixed(1), ms(r.seen.sender.noticedAt), ms(r.seen.receiver.noticedAt), ms(r.upAt),
    ms(r.recoveredAt), p.receiver, p.sender, p.minOffsetMs === null ? '' : `${p.minOffsetMs}..${p.maxOffsetMs}`,
    p.queuedReceiver, r.error ?? ''].map(csvCell).join(',');
})].join('\n') + '\n');

const cpuModel = cpus()[0]?.model ?? 'unknown';
const machine = `${cpus().length} CPUs (${cpuModel}), load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ` +
  `${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`;
const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(2)} %` : '-');
const sentWire = counters.sent - counters.sentQueued;
const lostR = counters.sent - counters.recvReceiver;
const lostS = counters.sent - counters.recvSender;
const minutely = samples.filter((s) => s.phase !== 'run' || Math.abs(s.traffic_s - 60 * Math.round(s.traffic_s / 60)) < args.sampleEvery / 2);
const trafficMinutes = (trafficEnd - trafficStart) / 60_000;

const md = [];
md.push(`# Soak: ${passed ? 'PASS' : 'FAIL'}`, '');
md.push(`- date: ${startedAt.toISOString()} (${trafficMinutes.toFixed(1)} minutes of traffic)`);
md.push(`- machine: ${machine}; node ${process.version}`);
md.push(`- package: pondsocket-wasm ${pkgVersion}, wasm sha256 ${build.wasmSha256}… built ${build.builtAt}; tree at commit ${build.commit}`);
md.push(`- command: \`${['scripts/soak.sh', process.env.PONDSOCKET_SOAK_ARGS].filter(Boolean).join(' ')}\`; server: the Rust test server (crates.io pondsocket 0.1.4) under tests/support/supervisor.mjs`);
md.push(`- load: a sender and a receiver client, both in the same ${args.channels} channels; ${args.rate} broadcasts/s from the ` +
  `sender round-robin over the channels (the server sends each to everyone in the room, the sender included); ` +
  `${args.requestRate} echo requests/s alternating between the clients; the server killed (SIGKILL) and restarted ` +
  `every ${args.restartEvery} s, down ${args.downMs} ms; client options: the defaults`, '');
md.push('| check | result | detail |', '|---|---|---|');
for (const [what, ok, detail] of checks) md.push(`| ${what} | ${ok ? 'ok' : '**FAILED**'} | ${detail} |`);
md.push('', '## Messages', '');
md.push('| | count |', '|---|---|');
md.push(`| sent | ${counters.sent} (${sentWire} while JOINED: written to the socket at once; ${counters.sentQueued} while STALLED/JOINING: queued) |`);
md.push(`| received by the receiver | ${counters.recvReceiver} (lost ${lostR}, ${pct(lostR, counters.sent)}) |`);
md.push(`| came back to the sender | ${counters.recvSender} (lost ${lostS}, ${pct(lostS, counters.sent)}) |`);
md.push(`| sent while JOINED, lost: written to the socket before the sender saw it close (the server died with them) | receiver ${loss.wireBeforeSenderNoticed.receiver}, sender ${loss.wireBeforeSenderNoticed.sender} |`);
md.push(`| sent while JOINED, lost by the receiver only: it was not in the room (its socket dead, or not rejoined yet) | ${loss.wireReceiverAway} |`);
md.push(`| sent while STALLED/JOINING, lost by the receiver only: the sender flushed them before the receiver was back in the room | ${loss.queuedReceiverAway} |`);
md.push(`| **unexplained** losses of messages sent while JOINED | receiver ${loss.wireUnexplained.receiver}, sender ${loss.wireUnexplained.sender} |`);
md.push(`| **queued and lost** (sent while STALLED/JOINING: never back to the sender, or missed by a receiver that was in the room) | ${loss.queuedLostBySender + loss.queuedLostReceiverPresent} |`);
md.push(`| duplicates / out of order | duplicates R ${counters.dupReceiver} S ${counters.dupSender}; out of order R ${counters.reorderReceiver} S ${counters.reorderSender} |`);
if (loss.examples.length) md.push('', 'Unexplained losses (first 20):', '', ...loss.examples.map((e) => `- ${e}`));
md.push('', 'A message written to the socket just before the kill, or after it but before the client saw the socket ' +
  'close, is lost with the server: no client can know whether a server that vanished had handled it (the kill time ' +
  'is when the soak asked the supervisor; under load the kill itself may come a little later). A message sent while ' +
  'the channel was STALLED or JOINING waits in the channel\'s queue and is sent after the rejoin: it must arrive, and ' +
  'it did if "queued and lost" is 0. The receiver misses broadcasts made while it is not in the room, as any ' +
  'PondSocket client would: the server keeps no history. A loss is looked for around a restart from ' +
  `${PRE_KILL_MS} ms before its kill to ${POST_RECOVERY_MS} ms after every channel of both clients is JOINED again; ` +
  'a loss that none of these explains is "unexplained" and fails the soak.');
md.push('', '## Requests', '');
md.push('| sent | resolved | cancelled | timed out | other | hung |', '|---|---|---|---|---|---|');
md.push(`| ${requests.sent} | ${requests.ok} | ${requests.cancelled} | ${requests.timedOut} | ${requests.other + requests.wrongReply} | ${requests.pending} |`);
md.push('', '| channel state when made | sent | resolved | cancelled | timed out | other |', '|---|---|---|---|---|---|');
for (const [state, t] of Object.entries(requests.byState)) md.push(`| ${state} | ${t.sent} | ${t.ok} | ${t.cancelled} | ${t.timedOut} | ${t.other} |`);
if (requests.otherExamples.length) md.push('', ...requests.otherExamples.map((e) => `- ${e}`));
md.push('', 'A request already sent when the connection drops is rejected (RequestCancelledError, "connection was lost"): ' +
  'the client cannot know whether the server handled it. A request made while the channel is STALLED waits in the ' +
  'queue and is answered after the rejoin (unless its timeout, 5 s from the call, runs out first).');
md.push('', '## Restarts', '');
md.push('Times in ms from the kill (when the soak asked the supervisor to restart the server).', '');
md.push('| # | kill at | sender / receiver saw the close | server back | every channel joined again | sent while JOINED, lost (receiver / sender) | sent at | queued, receiver not back yet |', '|---|---|---|---|---|---|---|---|');
const since = (r, t) => (t === null || t === undefined ? '-' : Math.round(t - r.killAt));
for (const r of restarts) {
  const p = perRestart.get(r.n);
  md.push(`| ${r.n} | ${(r.killAt / 1000).toFixed(1)} s | ${since(r, r.seen.sender.noticedAt)} / ${since(r, r.seen.receiver.noticedAt)} | ` +
    `${r.upAt === null ? r.error : since(r, r.upAt)} | ${r.recoveredAt === null ? '**never**' : since(r, r.recoveredAt)} | ` +
    `${p.receiver} / ${p.sender} | ${p.minOffsetMs === null ? '-' : `${p.minOffsetMs} .. ${p.maxOffsetMs}`} | ${p.queuedReceiver} |`);
}
md.push('', `Reconnects scheduled: sender ${sender.reconnectsScheduled}, receiver ${receiver.reconnectsScheduled}; ` +
  `connections made: sender ${sender.connects}, receiver ${receiver.connects}.`);
md.push('', `Errors reported through onError: ${errors.count} (${Object.entries(errors.byName).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}). ` +
  'Examples:', '', ...errors.examples.map((e) => `- ${e.at} ms, ${e.text.replace(/\|/g, '\\|')}`));
md.push('', '## Memory', '');
md.push(`Baseline: the first sample at least ${args.warmup} s into the traffic (${baseline.traffic_s} s). Growth per minute is the ` +
  'least-squares slope over the samples from the baseline on. JS heap after global.gc().', '');
md.push('| | at the start | baseline | last sample in traffic | final (drained) | min .. max after warm-up | growth per minute |', '|---|---|---|---|---|---|---|');
const fmt = (key, n) => (key === 'live_bytes' ? kib(n) : mib(n));
const label = { live_bytes: 'wasm live bytes', memory_bytes: 'wasm linear memory', js_heap_bytes: 'JS heap used', rss_bytes: 'RSS' };
for (const [key, m] of Object.entries(memory)) {
  md.push(`| ${label[key]} | ${fmt(key, m.start)} | ${fmt(key, m.baseline)} | ${fmt(key, m.lastRunning)} | ${fmt(key, m.final)} | ` +
    `${fmt(key, m.min)} .. ${fmt(key, m.max)} | ${m.slopePerMinute >= 0 ? '+' : ''}${(m.slopePerMinute / 1024).toFixed(1)} KiB |`);
}
md.push('', `After both clients disconnected and were freed: wasm live bytes ${kib(released.liveBytes)}, linear memory ` +
  `${kib(released.memoryBytes)} (a high-water mark: wasm memory never shrinks).`);
md.push('', '## Samples (every minute)', '');
md.push('| elapsed | channels (S / R joined) | sent (queued) | received R / S | lost R / S | requests ok / cancelled / timed out / pending | reconnects | live bytes | linear memory | JS heap | RSS | held S / R (channels/requests/timers) |');
md.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const s of minutely) {
  md.push(`| ${s.phase === 'final' ? `final (${Math.round(s.traffic_s)} s)` : `${Math.round(s.traffic_s)} s`} | ${s.joined_sender} / ${s.joined_receiver} | ` +
    `${s.sent} (${s.sent_queued}) | ${s.recv_receiver} / ${s.recv_sender} | ${s.lost_receiver} / ${s.lost_sender} | ` +
    `${s.req_ok} / ${s.req_cancelled} / ${s.req_timed_out} / ${s.req_pending} | ${s.reconnects} | ${kib(s.live_bytes)} | ` +
    `${kib(s.memory_bytes)} | ${mib(s.js_heap_bytes)} | ${mib(s.rss_bytes)} | ${s.counts_sender} / ${s.counts_receiver} |`);
}
md.push('', `All samples: \`${relative(ROOT, join(args.out, 'samples.csv'))}\`; restarts: \`${relative(ROOT, join(args.out, 'restarts.csv'))}\`.`);
writeFileSync(join(args.out, 'summary.md'), md.join('\n') + '\n');
writeFileSync(join(args.out, 'summary.json'), JSON.stringify({
  passed, args, startedAt, machine, node: process.version, pkgVersion, build, trafficMinutes, counters, loss, requests,
  restarts, perRestart: Object.fromEntries(perRestart), errors, memory, released, checks, baseline, final,
}, null, 2) + '\n');

console.log(`\n${md.join('\n')}\n`);
log(`${passed ? 'PASS' : 'FAIL'}; reports in ${relative(ROOT, args.out)}/ (samples.csv, restarts.csv, summary.md, summary.json)`);
process.exit(passed ? 0 : 1);
