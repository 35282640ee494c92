// The benchmark driver behind scripts/bench.sh: starts the blast server, runs every scenario for every client in
// Node (a fresh process per run) and in headless Chromium (a fresh browser context per run), and the inbound and
// sequential-request scenarios in Firefox and WebKit (a fresh browser per run, over WebDriver), in interleaved rounds
// with the order of the clients rotating, then writes docs/BENCHMARKS.md and docs/benchmarks.svg from the medians
// and prints the table. Any failed check (a message lost, a reply that does not match) fails the whole run.
//
//   node bench/run.mjs [--quick] [--rounds N] [--memory-rounds N] [--cold-rounds N] [--footprint-rounds N]
//                      [--env node,browser,firefox,webkit] [--scenarios LIST] [--command TEXT]
// --scenarios (or BENCH_SCENARIOS): a comma-separated subset of inbound-small, inbound-large, rr-seq, rr-conc,
// fanout, memory, cold-start, footprint. A run of a subset prints its table and writes target/bench/results-partial.json
// but leaves docs/ alone (the document is one full run).
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM_ARGS, playwright } from '../tests/playwright/lib.mjs';
import { launchWebDriver } from '../tests/playwright/webdriver.mjs';
import { renderMarkdown, renderSvg, renderTable } from './report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = process.env.PONDSOCKET_TOOLS || join(os.homedir(), '.cache/pondsocket-wasm-tools');
const DEPS = process.env.BENCH_DEPS || join(ROOT, 'target', 'bench-deps');
const OUT = join(ROOT, 'target', 'bench');
// What is measured: a copy of pkg/ taken at the start, so that a rebuild of pkg/ during the run changes nothing.
const PKG = join(OUT, `run-${process.pid}`, 'pkg');
const PKG_FILES = ['package.json', 'index.js', 'api.mjs', 'web/pondsocket_wasm.js', 'web/pondsocket_wasm_bg.wasm',
  'node/index.cjs', 'node/api.cjs', 'node/pondsocket_wasm.js', 'node/pondsocket_wasm_bg.wasm'];

// ---- options ------------------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const quick = flag('quick');
const rounds = Number(option('rounds', quick ? '1' : '5'));
const memoryRounds = Number(option('memory-rounds', quick ? '1' : '3'));
const coldRounds = Number(option('cold-rounds', quick ? '1' : '5'));
const footprintRounds = Number(option('footprint-rounds', quick ? '1' : '5'));
const envs = option('env', 'node,browser,firefox,webkit').split(',');
const command = option('command', `node bench/run.mjs ${argv.join(' ')}`.trim());
const docsDir = join(ROOT, 'docs');

const PARAMS = quick
  ? {
    'inbound-small': { count: 5_000, size: 200, warmup: 500 },
    'inbound-large': { count: 500, size: 20_000, warmup: 50 },
    'rr-seq': { count: 500, warmup: 50 },
    'rr-conc': { count: 1_000, warmup: 200 },
    fanout: { channels: 500, warmup: 1 },
    memory: { cycles: 1_000, requests: 10_000, batch: 100 },
    'cold-start': { count: 20_000, size: 200 },
    footprint: { settleMs: 1_000 },
  }
  : {
    'inbound-small': { count: 50_000, size: 200, warmup: 5_000 },
    'inbound-large': { count: 5_000, size: 20_000, warmup: 500 },
    'rr-seq': { count: 5_000, warmup: 500 },
    'rr-conc': { count: 1_000, warmup: 1_000 },
    fanout: { channels: 500, warmup: 1 },
    memory: { cycles: 10_000, requests: 100_000, batch: 100 },
    'cold-start': { count: 20_000, size: 200 },
    footprint: { settleMs: 1_000 },
  };
const TIMEOUT_MS = 60_000;
const SPEED_SCENARIOS = ['inbound-small', 'inbound-large', 'rr-seq', 'rr-conc', 'fanout'];
const CLIENTS = {
  node: ['ours', 'peer', 'peer-gws', 'floor'],
  browser: ['ours', 'peer', 'floor'],
  firefox: ['ours', 'peer', 'floor'],
  webkit: ['ours', 'peer', 'floor'],
};
// Over Server-Sent Events, in Node and Chromium: ours with `transport: 'sse'` and a bare fetch reader (the floor),
// against the blast server's SSE, for the inbound and sequential-request rows, in the same rounds as the others.
const SSE_CLIENTS = { node: ['ours-sse', 'floor-sse'], browser: ['ours-sse', 'floor-sse'] };
const SSE_SCENARIOS = ['inbound-small', 'inbound-large', 'rr-seq'];
const speedClients = (env, scenario) => [...CLIENTS[env], ...(SSE_SCENARIOS.includes(scenario) ? SSE_CLIENTS[env] ?? [] : [])];
// Firefox and WebKit (driven over WebDriver, CPU measured inside the page): the inbound and request rows only.
const WEBDRIVER_ENVS = ['firefox', 'webkit'];
const ENV_SCENARIOS = { firefox: ['inbound-small', 'rr-seq'], webkit: ['inbound-small', 'rr-seq'] };
const inEnv = (env, scenario) => !ENV_SCENARIOS[env] || ENV_SCENARIOS[env].includes(scenario);
const MEMORY_CLIENTS = ['ours', 'peer'];
// Footprint: ours and the peer on the same WebSocket (in Node the global one: peer-gws), and a bare one (floor).
const FOOTPRINT_CLIENTS = {
  node: ['ours', 'peer-gws', 'floor'],
  browser: ['ours', 'peer', 'floor'],
  firefox: [],
  webkit: [],
};
const ALL_SCENARIOS = [...SPEED_SCENARIOS, 'cold-start', 'memory', 'footprint'];
const scenarios = option('scenarios', process.env.BENCH_SCENARIOS || ALL_SCENARIOS.join(',')).split(',').filter(Boolean);
for (const s of scenarios) {
  if (!ALL_SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (known: ${ALL_SCENARIOS.join(', ')})`);
}
const partial = ALL_SCENARIOS.some((s) => !scenarios.includes(s));
const selected = (s) => scenarios.includes(s);

// ---- processes we started, and cleaning them up -------------------------------------------------------------------

const children = new Set();
let browser = null;
let cleaning = false;

async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
  }
  rmSync(dirname(PKG), { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, async () => {
    log(`${signal}: stopping`);
    await cleanup();
    process.exit(130);
  });
}

function log(...parts) {
  process.stderr.write(`[bench] ${parts.join(' ')}\n`);
}

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

// ---- the blast server ---------------------------------------------------------------------------------------------

async function startServer() {
  const prebuild = [
    ['/bench', PARAMS['inbound-small'].count, 200], ['/bench', PARAMS['inbound-small'].warmup, 200],
    ['/bench', PARAMS['inbound-large'].count, 20_000], ['/bench', PARAMS['inbound-large'].warmup, 20_000],
    ['/bench', PARAMS['cold-start'].count, PARAMS['cold-start'].size],
  ].map((p) => p.join(':')).join(',');
  const child = track(spawn(process.execPath, [join(ROOT, 'bench', 'blast-server.mjs'), '--port', '0', '--root', ROOT,
    '--prebuild', prebuild], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const url = await new Promise((resolveUrl, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('blast server did not start within 60 s')), 60_000);
    child.stdout.on('data', (data) => {
      buffered += data;
      const match = /LISTENING (http:\/\/\S+)/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`blast server exited (${code}) before listening`)));
  });
  child.stdout.resume();
  return { child, http: url, ws: `${url.replace(/^http/, 'ws')}/socket` };
}

// ---- Node runs ----------------------------------------------------------------------------------------------------

// Node 20 has a global WebSocket only behind this flag; Node 22+ has it anyway.
const NODE_WS_FLAG = (() => {
  try {
    const type = execFileSync(process.execPath, ['-p', 'typeof WebSocket'], { encoding: 'utf8' }).trim();
    return type === 'function' ? [] : ['--experimental-websocket'];
  } catch {
    return ['--experimental-websocket'];
  }
})();

function snapshotPkg() {
  const missing = PKG_FILES.filter((f) => !existsSync(join(ROOT, 'pkg', f)));
  if (missing.length) throw new Error(`pkg/ is incomplete (missing ${missing.join(', ')}): is a build running? run scripts/build-pkg.sh`);
  rmSync(PKG, { recursive: true, force: true });
  mkdirSync(dirname(PKG), { recursive: true });
  cpSync(join(ROOT, 'pkg'), PKG, { recursive: true, preserveTimestamps: true });
  const again = PKG_FILES.filter((f) => !existsSync(join(PKG, f)));
  if (again.length) throw new Error(`pkg/ changed while it was copied (missing ${again.join(', ')}): try again`);
  const hash = (f) => createHash('sha256').update(readFileSync(join(PKG, f))).digest('hex').slice(0, 12);
  return { wasmSha: hash('web/pondsocket_wasm_bg.wasm'), builtAt: statSync(join(PKG, 'web', 'pondsocket_wasm_bg.wasm')).mtime.toISOString() };
}

// The footprint's Node processes run glibc's malloc with a fixed mmap threshold. With the default, adaptive one,
// whether ~7 MB that undici frees after its first HTTP request (the WebSocket handshake) stays resident was a coin
// toss per process: RSS came out in two modes ~7 MB apart, for every client alike, more than the differences
// measured. With this, a client's runs nearly always agree within ~0.3 MB (in one run of 15, ours still fell ~6 MB
// low; the median takes care of that). (Ignored where the C library is not glibc.)
const FOOTPRINT_ENV = { MALLOC_MMAP_THRESHOLD_: '65536' };

function runNode(client, scenario, server, params) {
  return new Promise((resolveRun, reject) => {
    const child = track(spawn(process.execPath, [
      '--no-warnings', ...NODE_WS_FLAG, '--expose-gc',
      join(ROOT, 'bench', 'node-run.mjs'), client, scenario, server.ws, JSON.stringify({ ...params, timeoutMs: TIMEOUT_MS }),
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_DEPS: DEPS, BENCH_PKG: PKG,
      ...(scenario === 'footprint' ? FOOTPRINT_ENV : {}) } }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS * 6);
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolveRun(JSON.parse(line.slice(7)));
      else reject(new Error(`node ${client} ${scenario} failed (exit ${code ?? signal}):\n${err.trim() || out.trim()}`));
    });
  });
}

// ---- browser runs -------------------------------------------------------------------------------------------------

async function runBrowser(client, scenario, server, params) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
    });
    const cdp = await context.newCDPSession(page);
    // threadTicks: the duration metrics are the renderer main thread's CPU time, not wall time.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const metric = (metrics, name) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    await page.exposeFunction('__benchSample', async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return {
        cpuMs: metric(metrics, 'TaskDuration'),
        extra: { scriptMs: metric(metrics, 'ScriptDuration') },
      };
    });
    await page.exposeFunction('__benchMemory', async () => {
      // Collect, let FinalizationRegistry callbacks (wasm-bindgen's weak refs) run, collect again.
      for (let i = 0; i < 3; i++) {
        await cdp.send('HeapProfiler.collectGarbage');
        await new Promise((r) => setTimeout(r, 50));
      }
      const { usedSize, totalSize } = await cdp.send('Runtime.getHeapUsage');
      return { heapUsed: usedSize, heapTotal: totalSize };
    });
    // Cold start: the page loads the client only when asked, so that its load is timed and its first use measured.
    const cold = scenario === 'cold-start';
    await page.goto(`${server.http}/bench/page.html?client=${client}&pkg=/${relative(ROOT, PKG)}${cold ? '&lazy=1' : ''}`);
    await page.waitForFunction(() => window.bench, null, { timeout: 30_000 });
    await page.evaluate(() => window.bench.ready);
    const result = cold
      ? await page.evaluate((p) => window.bench.coldStart(p), { ...params, timeoutMs: TIMEOUT_MS })
      : await page.evaluate(([s, p]) => window.bench.run(s, p), [scenario, { ...params, timeoutMs: TIMEOUT_MS }]);
    if (problems.length) throw new Error(problems.join('\n'));
    return result;
  } catch (error) {
    throw new Error(`browser ${client} ${scenario} failed: ${error.message}`);
  } finally {
    await context.close().catch(() => {});
  }
}

/** A run in Firefox or WebKit: a fresh browser (tests/playwright/webdriver.mjs) per run, CPU metered in the page. */
async function runWebDriver(engine, client, scenario, server, params) {
  const browser = launchWebDriver(engine);
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (msg) => problems.push(`console.error: ${msg.text()}`));
    await page.goto(`${server.http}/bench/page.html?client=${client}&pkg=/${relative(ROOT, PKG)}&meter=handlers`);
    await page.waitForFunction(() => window.bench, null, { timeout: 30_000 });
    await page.evaluate(() => window.bench.ready);
    const result = await page.evaluate(([s, p]) => window.bench.run(s, p), [scenario, { ...params, timeoutMs: TIMEOUT_MS }]);
    await page.drain();
    if (problems.length) throw new Error(problems.join('\n'));
    return result;
  } catch (error) {
    throw new Error(`${engine} ${client} ${scenario} failed: ${error.message}`);
  } finally {
    await browser.close().catch(() => {});
  }
}

/** The engine's name and version, as scripts/lib/browsers.sh reads them. */
const engineVersion = (engine) => {
  try {
    return execFileSync('bash', ['-c', 'source scripts/lib/browsers.sh && engine_label "$1"', '_', engine],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
};

// ---- peer bundle and sizes ----------------------------------------------------------------------------------------

function depVersion(name, base = DEPS) {
  return JSON.parse(readFileSync(join(base, 'node_modules', name, 'package.json'), 'utf8')).version;
}

async function buildPeerBundles() {
  const esbuild = createRequire(join(DEPS, 'noop.js'))('esbuild');
  const build = join(DEPS, 'build');
  mkdirSync(build, { recursive: true });
  const entry = join(build, 'peer-entry.mjs');
  writeFileSync(entry, "export { PondClient, ChannelState, ConnectionState } from '@eleven-am/pondsocket-client';\n");
  const common = { entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2020',
    nodePaths: [join(DEPS, 'node_modules')], logLevel: 'error', legalComments: 'none' };
  await esbuild.build({ ...common, outfile: join(build, 'peer.browser.mjs') });
  await esbuild.build({ ...common, minify: true, outfile: join(build, 'peer.browser.min.mjs') });
  // Our JS the same way (index.js + api.mjs + the wasm-bindgen glue, minified), for a like-for-like size.
  await esbuild.build({ entryPoints: [join(PKG, 'index.js')], bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', minify: true, logLevel: 'error', legalComments: 'none', outfile: join(build, 'ours.browser.min.mjs') });
  return { esbuild: depVersion('esbuild') };
}

function gzipSize(file) {
  return execFileSync('gzip', ['-9c', file], { maxBuffer: 64 << 20 }).length;
}

function sizes() {
  const entry = (file) => ({ raw: statSync(file).size, gzip: gzipSize(file) });
  const wasm = entry(join(PKG, 'web/pondsocket_wasm_bg.wasm'));
  const glue = entry(join(PKG, 'web/pondsocket_wasm.js'));
  const oursMin = entry(join(DEPS, 'build/ours.browser.min.mjs'));
  const peerMin = entry(join(DEPS, 'build/peer.browser.min.mjs'));
  return {
    wasm, glue, oursMin, peerMin,
    oursRaw: wasm.raw + glue.raw,
    oursGzip: wasm.gzip + glue.gzip,
    oursMinTotalGzip: wasm.gzip + oursMin.gzip,
  };
}

// ---- environment ----------------------------------------------------------------------------------------------------

function git(...args) {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  const dirty = git('status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock', 'pkg-template');
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: model,
    memGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    ours: `${pkg.name} ${pkg.version}`,
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    dirty: dirty ? 'uncommitted changes in src/, Cargo.* or pkg-template/' : '',
    peer: `@eleven-am/pondsocket-client ${depVersion('@eleven-am/pondsocket-client')} (+ pondsocket-common ${depVersion('@eleven-am/pondsocket-common')}, websocket ${depVersion('websocket')})`,
    ws: depVersion('ws', TOOLS),
    playwright: depVersion('playwright-core', TOOLS),
    loadStart: os.loadavg(),
  };
}

// ---- main ---------------------------------------------------------------------------------------------------------

const rotate = (list, n) => list.map((_, i) => list[(i + n) % list.length]);

/** --report-only: render docs/ again from target/bench/results.json (after a change to bench/report.mjs). */
function reportOnly() {
  const { info, results } = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'));
  const report = { info, results, clients: CLIENTS, memoryClients: MEMORY_CLIENTS, footprintClients: FOOTPRINT_CLIENTS,
    sseClients: SSE_CLIENTS };
  writeFileSync(join(docsDir, 'BENCHMARKS.md'), renderMarkdown(report));
  writeFileSync(join(docsDir, 'benchmarks.svg'), renderSvg(report));
  process.stdout.write(`${renderTable(report)}\n`);
  log('wrote docs/BENCHMARKS.md and docs/benchmarks.svg from target/bench/results.json');
}

async function main() {
  const started = Date.now();
  mkdirSync(OUT, { recursive: true });
  const pkg = snapshotPkg();
  const versions = await buildPeerBundles();
  const info = { ...machine(), pkgBuilt: pkg.builtAt, wasmSha: pkg.wasmSha, esbuild: versions.esbuild, quick, rounds,
    memoryRounds, coldRounds, footprintRounds, scenarios, params: PARAMS, command,
    footprintEnv: Object.entries(FOOTPRINT_ENV).map(([k, v]) => `${k}=${v}`).join(' ') };
  log(`machine: ${info.nproc} cores, ${info.cpu}, load ${info.loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  const server = await startServer();
  log(`blast server at ${server.http}`);

  if (envs.includes('browser')) {
    // Our signal handlers close it (Playwright's own would race them and print Chromium's log).
    browser = await playwright().chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    info.chromium = browser.version();
  }

  // results[env][scenario][client] = [run, …]
  const results = {};
  const record = (env, scenario, client, value) => {
    ((results[env] ??= {})[scenario] ??= {})[client] ??= [];
    results[env][scenario][client].push(value);
  };
  const runners = { node: runNode, browser: runBrowser };
  for (const engine of WEBDRIVER_ENVS) {
    runners[engine] = (...args) => runWebDriver(engine, ...args);
    if (envs.includes(engine)) info[engine] = engineVersion(engine);
  }

  const speed = SPEED_SCENARIOS.filter(selected);
  const total = envs.reduce((n, env) => n + rounds * speed.filter((s) => inEnv(env, s))
    .reduce((m, s) => m + speedClients(env, s).length, 0)
    + (selected('cold-start') && inEnv(env, 'cold-start') ? coldRounds * CLIENTS[env].length : 0)
    + (selected('memory') && inEnv(env, 'memory') ? memoryRounds * MEMORY_CLIENTS.length : 0)
    + (selected('footprint') ? footprintRounds * FOOTPRINT_CLIENTS[env].length : 0), 0);
  let done = 0;
  const step = async (env, scenario, client) => {
    const t0 = Date.now();
    const result = await runners[env](client, scenario, server, PARAMS[scenario]);
    record(env, scenario, client, result);
    done += 1;
    log(`[${done}/${total}] ${env} ${scenario} ${client}: ${summarize(scenario, result)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  };

  const allRounds = Math.max(speed.length ? rounds : 0, selected('cold-start') ? coldRounds : 0,
    selected('memory') ? memoryRounds : 0, selected('footprint') ? footprintRounds : 0);
  for (let round = 0; round < allRounds; round++) {
    for (const env of rotate(envs, round)) {
      if (round < rounds) {
        for (const [s, scenario] of speed.entries()) {
          if (!inEnv(env, scenario)) continue;
          for (const client of rotate(speedClients(env, scenario), round + s)) await step(env, scenario, client);
        }
      }
      if (selected('cold-start') && inEnv(env, 'cold-start') && round < coldRounds) {
        for (const client of rotate(CLIENTS[env], round)) await step(env, 'cold-start', client);
      }
      if (selected('memory') && inEnv(env, 'memory') && round < memoryRounds) {
        for (const client of rotate(MEMORY_CLIENTS, round)) await step(env, 'memory', client);
      }
      if (selected('footprint') && round < footprintRounds) {
        for (const client of rotate(FOOTPRINT_CLIENTS[env], round)) await step(env, 'footprint', client);
      }
    }
  }

  info.serverStats = await (await fetch(`${server.http}/__stats`)).json();
  info.loadEnd = os.loadavg();
  info.durationS = (Date.now() - started) / 1000;
  info.finishedAt = new Date().toISOString();
  info.sizes = sizes();
  const report = { info, results, clients: CLIENTS, memoryClients: MEMORY_CLIENTS, footprintClients: FOOTPRINT_CLIENTS,
    sseClients: SSE_CLIENTS };
  if (partial) {
    // A subset: the table only, and its runs beside (not over) the full run's results.json.
    writeFileSync(join(OUT, 'results-partial.json'), `${JSON.stringify({ info, results }, null, 2)}\n`);
    process.stdout.write(`${renderTable(report)}\n`);
    log(`scenarios ${scenarios.join(', ')} only: wrote target/bench/results-partial.json, left docs/ alone, in ${info.durationS.toFixed(0)} s`);
    return;
  }
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({ info, results }, null, 2)}\n`);

  mkdirSync(docsDir, { recursive: true });
  writeFileSync(join(docsDir, 'BENCHMARKS.md'), renderMarkdown(report));
  writeFileSync(join(docsDir, 'benchmarks.svg'), renderSvg(report));
  process.stdout.write(`${renderTable(report)}\n`);
  log(`wrote docs/BENCHMARKS.md, docs/benchmarks.svg and target/bench/results.json in ${info.durationS.toFixed(0)} s`);
}

function summarize(scenario, r) {
  switch (scenario) {
    case 'inbound-small':
    case 'inbound-large':
      return `${Math.round(r.msgsPerSec)} msg/s, ${r.cpuUsPerMsg.toFixed(1)} µs CPU/msg`;
    case 'rr-seq':
      return `p50 ${r.p50Us.toFixed(0)} µs, p99 ${r.p99Us.toFixed(0)} µs`;
    case 'rr-conc':
    case 'fanout':
      return `${r.wallMs.toFixed(1)} ms`;
    case 'cold-start':
      return `load ${r.loadMs.toFixed(1)} ms (CPU ${r.loadCpuMs.toFixed(1)} ms), then ${r.count} messages in ${r.wallMs.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms`;
    case 'footprint':
      return r.rss !== undefined
        ? `RSS ${mb(r.rss)} MB, heap ${mb(r.heapUsed)} MB, wasm ${mb(r.wasmBytes)} MB`
        : `heap ${mb(r.heapUsed)} MB, wasm ${mb(r.wasmBytes)} MB`;
    case 'memory':
      return `heap ${mb(r.start.heapUsed)} → ${mb(r.afterCycles.heapUsed)} → ${mb(r.afterRequests.heapUsed)} MB, `
        + `wasm ${mb(r.start.wasmBytes)} → ${mb(r.afterCycles.wasmBytes)} → ${mb(r.afterRequests.wasmBytes)} MB`;
    default:
      return JSON.stringify(r);
  }
}

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);

try {
  if (flag('report-only')) reportOnly();
  else await main();
  await cleanup();
  process.exit(0);
} catch (error) {
  if (cleaning) await new Promise(() => {}); // stopped by a signal: its handler exits
  log(`FAILED: ${error?.stack ?? error}`);
  await cleanup();
  process.exit(1);
}
