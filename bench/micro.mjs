// The in-process micro benchmark: each client's own CPU per message and per request, with no network. A scripted
// stand-in for WebSocket (globalThis.WebSocket, so all three clients use it) delivers prebuilt frames from a loop and
// answers joins and requests from a microtask, so what is measured is the client's work alone: for the floor, one
// JSON.parse and one callback per message. scripts/bench.sh measures the whole path over loopback; there the socket
// and the server take most of the time and the machine's noise hides differences of a microsecond. This is the
// tool for comparing builds of ours: pass --pkg for another build.
//
//   node bench/micro.mjs [--rounds 9] [--pkg DIR] [--inbound N] [--requests N]
// Prints, per scenario and client, the minimum and median over the rounds (one fresh process per client, scenario
// and round, clients in rotating order) and the ratios ours/peer and ours/floor of the minimums.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FloorClient } from './scenarios.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};

// ---- one measurement, in a child process ---------------------------------------------------------------------------

/** Answers like a server, synchronously for frames it is told to deliver, from a microtask for what the client sends. */
class ScriptedSocket {
  static last = null;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    ScriptedSocket.last = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.({});
      this.deliver(JSON.stringify({ action: 'CONNECT', event: 'CONNECTION', channelName: 'GATEWAY', requestId: 'c',
        payload: { id: 'me', connectionId: 'me' } }));
    });
  }
  deliver(data) { this.onmessage?.({ data }); }
  send(text) {
    const { action, event, channelName, requestId, payload } = JSON.parse(text);
    const reply = (replyEvent, replyPayload) => queueMicrotask(() => this.deliver(JSON.stringify({
      action: 'SYSTEM', event: replyEvent, channelName, requestId, payload: replyPayload })));
    if (action === 'JOIN_CHANNEL') reply('ACKNOWLEDGE', {});
    else if (event === 'echo') reply('echo', payload);
  }
  close() { this.readyState = 3; }
}
ScriptedSocket.OPEN = 1;

async function child(clientName, scenario, count) {
  globalThis.WebSocket = ScriptedSocket;
  const requireDeps = createRequire(join(process.env.BENCH_DEPS || join(ROOT, 'target', 'bench-deps'), 'noop.js'));
  const Client = {
    ours: () => createRequire(import.meta.url)(join(resolve(option('pkg', join(ROOT, 'pkg'))), 'node', 'index.cjs')).PondClient,
    peer: () => requireDeps('@eleven-am/pondsocket-client/browser/client').PondClient,
    floor: () => FloorClient,
  }[clientName]();
  const client = new Client('ws://micro.invalid/socket', {});
  await new Promise((resolve) => {
    client.onConnectionChange((state) => { if (state === 'connected') resolve(); });
    client.connect();
  });
  const channel = client.createChannel('/bench', {});
  await new Promise((resolve) => {
    channel.onChannelStateChange((state) => { if (state === 'JOINED') resolve(); });
    channel.join();
  });
  const cpuMs = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
  let run;
  if (scenario === 'inbound') {
    // ~200 bytes of payload, keys in the order the Rust server writes them.
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. ';
    const frames = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ action: 'BROADCAST', channelName: '/bench',
      requestId: `5b1c0e7a-8f3d-4c2b-9a6e-${String(i).padStart(12, '0')}`,
      payload: { i, ts: 1_700_000_000_000 + i, user: { id: 'u-42', name: 'Ada' }, text: text.slice(0, 110) }, event: 'm' }));
    let received = 0;
    let expected = 0;
    channel.onMessageEvent('m', (payload) => {
      if (payload.i !== expected % 1000) throw new Error(`message ${received}: i=${payload.i}, expected ${expected % 1000}`);
      expected += 1;
      received += 1;
    });
    run = async (n) => {
      const socket = ScriptedSocket.last;
      received = 0;
      expected = 0;
      for (let k = 0; k < n; k++) socket.deliver(frames[k % 1000]);
      if (received !== n) throw new Error(`${received} of ${n} messages delivered`);
    };
  } else {
    run = async (n) => {
      for (let k = 0; k < n; k++) {
        const reply = await channel.sendForResponse('echo', { k });
        if (reply.k !== k) throw new Error(`reply ${JSON.stringify(reply)} to request ${k}`);
      }
    };
  }
  await run(Math.ceil(count / 5));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const before = cpuMs();
  await run(count);
  const nsPerOp = ((cpuMs() - before) * 1e6) / count;
  process.stdout.write(`RESULT ${nsPerOp.toFixed(1)}\n`);
  process.exit(0);
}

// ---- the driver ----------------------------------------------------------------------------------------------------

function driver() {
  const rounds = Number(option('rounds', '9'));
  const counts = { inbound: Number(option('inbound', '200000')), request: Number(option('requests', '20000')) };
  const clients = ['ours', 'peer', 'floor'];
  const results = {};
  for (let round = 0; round < rounds; round++) {
    for (const scenario of Object.keys(counts)) {
      const order = clients.map((_, i) => clients[(i + round) % clients.length]);
      for (const client of order) {
        const args = [fileURLToPath(import.meta.url), '--child', client, scenario, String(counts[scenario]), ...argv];
        const out = spawnSync(process.execPath, args, { encoding: 'utf8' });
        const match = /RESULT ([\d.]+)/.exec(out.stdout);
        if (out.status !== 0 || !match) throw new Error(`${client} ${scenario}: ${out.stderr || out.stdout}`);
        ((results[scenario] ??= {})[client] ??= []).push(Number(match[1]));
      }
    }
  }
  const unit = { inbound: 'ns/message', request: 'ns/round trip' };
  console.log(`node ${process.version}, ${rounds} rounds, CPU time per operation (min / median)`);
  for (const [scenario, byClient] of Object.entries(results)) {
    const stats = Object.fromEntries(Object.entries(byClient).map(([client, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return [client, { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] }];
    }));
    const cells = clients.map((c) => `${c} ${stats[c].min.toFixed(0)} / ${stats[c].median.toFixed(0)}`).join(', ');
    const ratio = (other) => (stats.ours.min / stats[other].min).toFixed(2);
    console.log(`${scenario} (${unit[scenario]}): ${cells}; ours/peer ${ratio('peer')}, ours/floor ${ratio('floor')}`);
  }
}

if (argv[0] === '--child') await child(argv[1], argv[2], Number(argv[3]));
else driver();
