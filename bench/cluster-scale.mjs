// Many clients in one Node process on a real 3-node PondSocket cluster (scripts/cluster.sh: upstream Python nodes
// sharing Redis), then kill -9 one node and measure how its clients come back. Default options (baseReconnectDelay
// 1000). Results and how to read them: docs/CLUSTER.md.
//
//   node --experimental-websocket bench/cluster-scale.mjs [N=1000] [--rooms 20] [--batch 50] [--order rotate|spread] [--json]
//
// N clients, client i gets the endpoint list rotated by i % 3 (so they start evenly on the three nodes) and joins
// /chat/scale-<pid>-<i % rooms>. Clients are created and connected in batches of --batch, one batch per event-loop
// turn (all at once when --batch 0). The cluster is always stopped at the end.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

const here = (p) => new URL(p, import.meta.url).pathname;
const { PondClient } = await import(here('../pkg/node/index.mjs'));
const { startCluster } = await import(here('../tests/support/cluster.mjs'));

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return Number(v);
};
const json = argv.includes('--json') && argv.splice(argv.indexOf('--json'), 1);
const ROOMS = flag('--rooms', 20);
const BATCH = flag('--batch', 50);
// rotate: client i's list is the three endpoints rotated by i % 3, so every client of a dead node goes to the same
// next node. spread: client i starts on endpoint i % 3 and the other two follow in an order that alternates with
// i, so a dead node's clients split over the survivors.
const ORDER = (() => {
  const i = argv.indexOf('--order');
  if (i < 0) return 'rotate';
  return argv.splice(i, 2)[1];
})();
const JOIN_DEADLINE_MS = flag('--join-deadline', 120_000);
const RECOVER_DEADLINE_MS = flag('--recover-deadline', 60_000);
const N = Number(argv[0] ?? 1000);
if (!(N > 0)) throw new Error(`N must be a positive number, got ${argv[0]}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const mib = (b) => (b / 1048576).toFixed(1);
const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '-');
const CLK = 100; // USER_HZ of /proc/<pid>/stat on Linux
function procCpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK; // utime + stime
  } catch {
    return NaN;
  }
}
function procRssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return (Number(m[1]) / 1024).toFixed(0);
  } catch {
    return '-';
  }
}
const openFds = () => {
  try {
    return execFileSync('ls', [`/proc/${process.pid}/fd`]).toString().split('\n').filter(Boolean).length;
  } catch {
    return NaN;
  }
};
const ulimitN = () => {
  try {
    return execFileSync('bash', ['-c', 'ulimit -n']).toString().trim();
  } catch {
    return '?';
  }
};

const lag = monitorEventLoopDelay({ resolution: 10 });
const report = { n: N, rooms: ROOMS, batch: BATCH, order: ORDER, nproc: cpus().length, node: process.version, ulimitN: ulimitN() };
const log = (...a) => console.log(...a);

const clients = [];
let cluster;
const t00 = performance.now();
try {
  log(`# cluster-scale N=${N} rooms=${ROOMS} batch=${BATCH} order=${ORDER} nproc=${report.nproc} node ${report.node} ulimit -n ${report.ulimitN} load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  cluster = await startCluster({ nodes: 3 });
  const eps = cluster.nodes.map((n) => n.ws);
  const nodePids = () => Object.fromEntries(cluster.nodes.map((n) => [n.name, n.pid]));
  const pidsAtStart = nodePids();
  const nodeCpu0 = Object.fromEntries(Object.entries(pidsAtStart).map(([k, p]) => [k, procCpuMs(p)]));
  log(`# cluster up in ${ms(performance.now() - t00)}: ${cluster.nodes.map((n) => `${n.name} ${n.ws} pid ${n.pid}`).join(', ')}`);

  global.gc?.();
  await sleep(200);
  const mem0 = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const fd0 = openFds();
  lag.enable();

  // ---- connect and join -------------------------------------------------------------------------------------
  const tJoin0 = performance.now();
  let joinedCount = 0;
  let errorsSetup = 0;
  let errorsAfterKill = 0;
  let phase = 'setup';
  const errorKinds = new Map();
  for (let i = 0; i < N; i++) {
    const list = eps.slice(i % eps.length).concat(eps.slice(0, i % eps.length));
    if (ORDER === 'spread' && Math.floor(i / eps.length) % 2 === 1) list.push(...list.splice(1).reverse());
    const client = new PondClient(list, { token: 'good' });
    const c = { i, client, channel: null, joinedAt: NaN, states: [], onKilled: false, stalledAt: NaN, rejoinedAt: NaN,
      connectedAt: NaN, arrivalEndpoint: null, errors: 0, scheduled: [] };
    client.onError((e) => {
      c.errors++;
      if (phase === 'setup') errorsSetup++;
      else errorsAfterKill++;
      const k = `${phase}: ${e?.name ?? 'Error'}: ${String(e?.message ?? e).replace(/[0-9a-f-]{36}|\d+/g, '#').slice(0, 80)}`;
      errorKinds.set(k, (errorKinds.get(k) ?? 0) + 1);
    });
    client.onConnectionChange((s) => {
      if (s === 'connected' && phase === 'killed' && c.onKilled && !Number.isFinite(c.connectedAt)) {
        c.connectedAt = performance.now();
        c.arrivalEndpoint = client.getEndpoint();
      }
    });
    client.onReconnectScheduled((info) => {
      if (phase === 'killed' && c.onKilled) c.scheduled.push(info);
    });
    const channel = client.createChannel(`/chat/scale-${process.pid}-${i % ROOMS}`, { i });
    c.channel = channel;
    channel.onChannelStateChange((s) => {
      const now = performance.now();
      if (s === 'JOINED') {
        if (!Number.isFinite(c.joinedAt)) {
          c.joinedAt = now;
          joinedCount++;
        } else if (phase === 'killed' && Number.isFinite(c.stalledAt) && !Number.isFinite(c.rejoinedAt)) {
          c.rejoinedAt = now;
        }
      } else if (s === 'STALLED' && phase === 'killed' && !Number.isFinite(c.stalledAt)) {
        c.stalledAt = now;
      } else if (s !== 'JOINING' && s !== 'IDLE' && s !== 'STALLED') {
        c.states.push(s);
      }
    });
    clients.push(c);
    client.connect();
    channel.join();
    if (BATCH > 0 && (i + 1) % BATCH === 0) await sleep(0);
  }
  const tCreated = performance.now();
  while (joinedCount < N && performance.now() - tJoin0 < JOIN_DEADLINE_MS) {
    if (clients.some((c) => c.states.includes('DECLINED'))) break;
    await sleep(20);
  }
  const tJoined = performance.now();
  const declined = clients.filter((c) => c.states.includes('DECLINED')).length;
  const memJoined = process.memoryUsage();
  const cpuJoined = process.cpuUsage(cpu0);
  const lagJoin = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
  const perNode = {};
  for (const c of clients) perNode[c.client.getEndpoint()] = (perNode[c.client.getEndpoint()] ?? 0) + 1;
  const nodeCpuJoin = Object.fromEntries(Object.entries(pidsAtStart).map(([k, p]) => [k, procCpuMs(p) - nodeCpu0[k]]));
  report.join = {
    joined: joinedCount, declined, createMs: tCreated - tJoin0, allJoinedMs: tJoined - tJoin0,
    joinP50: pct(clients.filter((c) => Number.isFinite(c.joinedAt)).map((c) => c.joinedAt - tJoin0), 0.5),
    errors: errorsSetup, cpuUserMs: cpuJoined.user / 1000, cpuSysMs: cpuJoined.system / 1000,
    rssDeltaMiB: (memJoined.rss - mem0.rss) / 1048576, heapDeltaMiB: (memJoined.heapUsed - mem0.heapUsed) / 1048576,
    externalDeltaMiB: (memJoined.external - mem0.external) / 1048576,
    arrayBuffersDeltaMiB: (memJoined.arrayBuffers - mem0.arrayBuffers) / 1048576,
    fds: openFds() - fd0, lag: lagJoin, perNode, nodeCpuMs: nodeCpuJoin,
    nodeRssMiB: Object.fromEntries(Object.entries(pidsAtStart).map(([k, p]) => [k, procRssMiB(p)])),
  };
  log(`join: ${joinedCount}/${N} JOINED in ${ms(tJoined - tJoin0)} (clients created in ${ms(tCreated - tJoin0)}, ` +
    `p50 of each client's join ${ms(report.join.joinP50)}), declined ${declined}, onError ${errorsSetup}`);
  log(`  per endpoint: ${Object.entries(perNode).map(([k, v]) => `${k.replace('ws://127.0.0.1:', ':')} ${v}`).join(', ')}`);
  log(`  our process: CPU ${ms(cpuJoined.user / 1000)} user + ${ms(cpuJoined.system / 1000)} sys; RSS ${mib(mem0.rss)} -> ${mib(memJoined.rss)} MiB ` +
    `(+${(report.join.rssDeltaMiB * 1024 / N).toFixed(1)} KiB/client), heapUsed +${mib(memJoined.heapUsed - mem0.heapUsed)} MiB, ` +
    `external +${mib(memJoined.external - mem0.external)} MiB, arrayBuffers +${mib(memJoined.arrayBuffers - mem0.arrayBuffers)} MiB; open fds +${report.join.fds}`);
  log(`  event-loop delay while joining: p50 ${lagJoin.p50.toFixed(1)} ms, p99 ${lagJoin.p99.toFixed(1)} ms, max ${lagJoin.max.toFixed(0)} ms`);
  log(`  Python nodes' CPU while joining: ${Object.entries(nodeCpuJoin).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}; ` +
    `RSS ${Object.entries(report.join.nodeRssMiB).map(([k, v]) => `${k} ${v} MiB`).join(', ')}`);
  if (joinedCount < N) {
    const notJoined = clients.filter((c) => !Number.isFinite(c.joinedAt));
    log(`  NOT JOINED: ${notJoined.length}; states: ${JSON.stringify(Object.fromEntries([...new Set(notJoined.map((c) => `${c.client.getState()}/${c.channel.channelState}`))].map((k) => [k, notJoined.filter((c) => `${c.client.getState()}/${c.channel.channelState}` === k).length])))}`);
    log(`  errors: ${JSON.stringify(Object.fromEntries(errorKinds))}`);
    throw new Error(`only ${joinedCount}/${N} joined within ${JOIN_DEADLINE_MS} ms`);
  }

  // ---- quiet a moment, then kill -9 one node ----------------------------------------------------------------
  await sleep(2000);
  const victim = cluster.nodes[0];
  const victimWs = victim.ws;
  const survivors = cluster.nodes.slice(1).map((n) => ({ name: n.name, ws: n.ws, pid: n.pid }));
  for (const c of clients) c.onKilled = c.client.getEndpoint() === victimWs;
  const affected = clients.filter((c) => c.onKilled);
  global.gc?.();
  const memBefore = process.memoryUsage();
  const cpuBefore = process.cpuUsage();
  const survCpu0 = Object.fromEntries(survivors.map((s) => [s.name, procCpuMs(s.pid)]));
  lag.reset();
  phase = 'killed';
  const tKill = performance.now();
  await cluster.kill(victim.name);
  const tKilled = performance.now();
  const recovered = () => affected.every((c) => Number.isFinite(c.rejoinedAt));
  while (!recovered() && performance.now() - tKill < RECOVER_DEADLINE_MS) await sleep(20);
  const tAll = performance.now();
  // Unaffected clients must not have moved.
  await sleep(500);
  const cpuAfter = process.cpuUsage(cpuBefore);
  const memAfter = process.memoryUsage();
  const lagKill = { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
  const survCpu = Object.fromEntries(survivors.map((s) => [s.name, procCpuMs(s.pid) - survCpu0[s.name]]));
  const rec = affected.filter((c) => Number.isFinite(c.rejoinedAt)).map((c) => c.rejoinedAt - tKill);
  const stalled = affected.filter((c) => Number.isFinite(c.stalledAt)).map((c) => c.stalledAt - tKill);
  const arrivals = affected.filter((c) => Number.isFinite(c.connectedAt));
  const unaffectedMoved = clients.filter((c) => !c.onKilled && (Number.isFinite(c.stalledAt) || c.channel.channelState !== 'JOINED')).length;
  // Arrivals (connection accepted) per 100 ms bucket since the kill, per surviving node.
  const buckets = new Map();
  for (const c of arrivals) {
    const b = Math.floor((c.connectedAt - tKill) / 100);
    const row = buckets.get(b) ?? Object.fromEntries(survivors.map((s) => [s.ws, 0]));
    row[c.arrivalEndpoint] = (row[c.arrivalEndpoint] ?? 0) + 1;
    buckets.set(b, row);
  }
  const firstDelays = affected.map((c) => c.scheduled[0]?.delayMs).filter((d) => d != null);
  const laterAttempts = affected.reduce((a, c) => a + Math.max(0, c.scheduled.length - 1), 0);
  report.kill = {
    victim: victim.name, affected: affected.length, recovered: rec.length, killCallMs: tKilled - tKill,
    allRecoveredMs: tAll - tKill, p50: pct(rec, 0.5), p90: pct(rec, 0.9), max: Math.max(...rec),
    stalledP50: pct(stalled, 0.5), stalledMax: Math.max(...stalled),
    firstDelayMin: Math.min(...firstDelays), firstDelayMax: Math.max(...firstDelays), firstDelayCount: firstDelays.length,
    reconnectsScheduled: affected.reduce((a, c) => a + c.scheduled.length, 0), laterAttempts,
    errors: errorsAfterKill, unaffectedMoved,
    arrivalsPerNode: Object.fromEntries(survivors.map((s) => [s.name, arrivals.filter((c) => c.arrivalEndpoint === s.ws).length])),
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, row]) => [b * 100, ...survivors.map((s) => row[s.ws] ?? 0)]),
    cpuUserMs: cpuAfter.user / 1000, cpuSysMs: cpuAfter.system / 1000, rssBeforeMiB: memBefore.rss / 1048576,
    rssAfterMiB: memAfter.rss / 1048576, lag: lagKill, survivorsCpuMs: survCpu,
  };
  log(`kill -9 ${victim.name}: ${affected.length} clients on it; ${rec.length}/${affected.length} JOINED again, all within ${ms(tAll - tKill)} of the kill ` +
    `(cluster.kill resolved after ${ms(tKilled - tKill)})`);
  log(`  recovery per client (kill -> JOINED): p50 ${ms(report.kill.p50)}, p90 ${ms(report.kill.p90)}, max ${ms(report.kill.max)}; ` +
    `STALLED seen p50 ${ms(report.kill.stalledP50)}, max ${ms(report.kill.stalledMax)}`);
  log(`  first reconnect delay planned: ${firstDelays.length} clients, ${ms(report.kill.firstDelayMin)} .. ${ms(report.kill.firstDelayMax)}; ` +
    `later attempts (after a failure) ${laterAttempts}; onError after the kill ${errorsAfterKill}; unaffected clients disturbed ${unaffectedMoved}`);
  log(`  arrivals per surviving node: ${Object.entries(report.kill.arrivalsPerNode).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(`  arrivals per 100 ms after the kill (${survivors.map((s) => s.name).join(' / ')}):`);
  const rows = report.kill.buckets;
  for (let k = 0; k < rows.length; k += 4) {
    log('   ' + rows.slice(k, k + 4).map(([t, ...v]) => `${String(t).padStart(5)}ms ${v.map((x) => String(x).padStart(3)).join('/')}`).join('   '));
  }
  log(`  our process during recovery: CPU ${ms(report.kill.cpuUserMs)} user + ${ms(report.kill.cpuSysMs)} sys; ` +
    `RSS ${mib(memBefore.rss)} -> ${mib(memAfter.rss)} MiB; event-loop delay p50 ${lagKill.p50.toFixed(1)} ms, p99 ${lagKill.p99.toFixed(1)} ms, max ${lagKill.max.toFixed(0)} ms`);
  log(`  surviving nodes' CPU during recovery: ${Object.entries(survCpu).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (errorKinds.size) log(`  errors by kind: ${JSON.stringify(Object.fromEntries(errorKinds))}`);
  if (rec.length < affected.length) {
    process.exitCode = 1;
    log(`  NOT RECOVERED within ${RECOVER_DEADLINE_MS} ms: ${affected.length - rec.length}`);
  }
} catch (e) {
  process.exitCode = 1;
  console.error(`FAILED: ${e?.stack ?? e}`);
} finally {
  lag.disable();
  for (const c of clients) {
    try {
      c.client.disconnect();
    } catch {
      // already gone
    }
  }
  if (cluster) {
    const code = await cluster.stop();
    log(`# cluster stopped (${code}); total ${ms(performance.now() - t00)}`);
  }
  if (json) console.log(JSON.stringify(report));
  // Undici's WebSocket may keep handles a moment after disconnect(); nothing else is left running.
  setTimeout(() => process.exit(), 500).unref();
}
