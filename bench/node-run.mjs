// One scenario for one client in this (fresh) Node process; prints `RESULT {json}` on stdout.
//   node --experimental-websocket --expose-gc bench/node-run.mjs CLIENT SCENARIO URL PARAMS_JSON
// CLIENT: ours (pkg/node/index.cjs, or $BENCH_PKG/node/index.cjs), peer (@eleven-am/pondsocket-client as shipped: in Node it uses the `websocket`
// package), peer-gws (the peer's own browser class, on Node's global WebSocket like ours and the floor), floor.
// BENCH_DEPS names the folder whose node_modules hold the peer (target/bench-deps).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FloorClient, FloorSseClient, overSse, runScenario } from './scenarios.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [clientName, scenario, url, paramsJson] = process.argv.slice(2);
const params = JSON.parse(paramsJson);
const deps = process.env.BENCH_DEPS || join(ROOT, 'target', 'bench-deps');
const requireDeps = createRequire(join(deps, 'noop.js'));
const PKG = resolve(process.env.BENCH_PKG || join(ROOT, 'pkg'));

if (typeof WebSocket !== 'function') throw new Error('no global WebSocket: run Node 20 with --experimental-websocket');
if (typeof gc !== 'function') throw new Error('run with --expose-gc');

let wasmInstance = null;
function loadClient(name) {
  switch (name) {
    case 'ours': {
      // The package does not export its wasm instance; catch it as the wasm-bindgen glue creates it, to read the
      // size of its linear memory (instance.exports.memory).
      const Instance = WebAssembly.Instance;
      WebAssembly.Instance = function (module, imports) {
        const instance = new Instance(module, imports);
        wasmInstance = instance;
        return instance;
      };
      try {
        return createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs')).PondClient;
      } finally {
        WebAssembly.Instance = Instance;
      }
    }
    case 'peer':
      return requireDeps('@eleven-am/pondsocket-client').PondClient;
    case 'peer-gws':
      return requireDeps('@eleven-am/pondsocket-client/browser/client').PondClient;
    case 'floor':
      return FloorClient;
    case 'ours-sse':
      return overSse(loadClient('ours'));
    case 'floor-sse':
      return FloorSseClient;
    default:
      throw new Error(`unknown client ${name}`);
  }
}

// The client's module load (for ours: reading, compiling and instantiating the wasm, synchronously), timed for the
// cold-start scenario. Everything before it (Node itself, this script, the global WebSocket) is the same for all.
const loadCpu = process.cpuUsage();
const loadStart = performance.now();
const Client = loadClient(clientName);
const loadWallMs = performance.now() - loadStart;
const loadUsage = process.cpuUsage(loadCpu);
if (clientName.startsWith('ours') && !wasmInstance) throw new Error('could not find the wasm instance of pkg/node');

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Linux: the resident set split into anonymous memory (heaps, malloc, code) and mapped files (the node binary). */
function residentParts() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kB = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rssAnon: kB('RssAnon'), rssFile: kB('RssFile') };
  } catch {
    return {};
  }
}
const hooks = {
  timeoutMs: params.timeoutMs ?? 60_000,
  settleMs: 50,
  load: { wallMs: loadWallMs, cpuMs: (loadUsage.user + loadUsage.system) / 1000 },
  async sample() {
    const { user, system } = process.cpuUsage();
    return { cpuMs: (user + system) / 1000, extra: { userMs: user / 1000, systemMs: system / 1000 } };
  },
  async memory() {
    // Twice, with turns of the event loop between: FinalizationRegistry callbacks (wasm-bindgen's weak refs free
    // the wasm side of dropped objects) run after a collection.
    for (let i = 0; i < 3; i++) {
      gc();
      await tick();
      await tick();
    }
    const usage = process.memoryUsage();
    return {
      wasmBytes: wasmInstance ? wasmInstance.exports.memory.buffer.byteLength : 0,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      rss: usage.rss,
      ...residentParts(),
    };
  },
};

try {
  const result = await runScenario(scenario, Client, url, params, hooks);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Sockets may still be closing; the result is out, so leave now.
  process.exit(0);
} catch (error) {
  process.stderr.write(`${clientName} ${scenario}: ${error?.stack ?? error}\n`);
  process.exit(1);
}
