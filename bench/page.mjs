// The benchmark page: loads one client (?client=ours|peer|floor&pkg=/path/of/pkg[&lazy=1]) and runs scenarios from bench/scenarios.mjs on
// request of the driver (bench/run.mjs), which exposes __benchSample (CDP Performance.getMetrics) and __benchMemory
// (CDP HeapProfiler.collectGarbage + Runtime.getHeapUsage) to the page.
import { FloorClient, runScenario } from './scenarios.mjs';

const query = new URLSearchParams(location.search);
const which = query.get('client');
// Where the package is (run.mjs measures a copy of pkg/); module URLs relative to the page otherwise.
const pkg = new URL(`${query.get('pkg') ?? '../pkg'}/`, location.href).href;
const url = `ws://${location.host}/socket`;

async function load() {
  switch (which) {
    case 'ours': {
      const mod = await import(`${pkg}index.js`);
      // The package does not export its wasm instance; the wasm-bindgen glue's init() hands back the exports of
      // the instance pkg/index.js already made (the same module, so the same instance), memory included.
      const init = (await import(`${pkg}web/pondsocket_wasm.js`)).default;
      const exports = await init();
      return { Client: mod.PondClient, wasmBytes: () => exports.memory.buffer.byteLength };
    }
    case 'peer': {
      const mod = await import('../target/bench-deps/build/peer.browser.mjs');
      return { Client: mod.PondClient, wasmBytes: () => 0 };
    }
    case 'floor':
      return { Client: FloorClient, wasmBytes: () => 0 };
    default:
      throw new Error(`unknown client ${which}`);
  }
}

// With &lazy=1 the client is loaded only when asked (coldStart below times its load); otherwise at once.
let loaded = null;
const ensureLoaded = () => (loaded ??= load());
window.bench = {
  ready: query.get('lazy') === '1' ? Promise.resolve(true) : ensureLoaded().then(() => true),
  async run(scenario, params, load = undefined) {
    const { Client, wasmBytes } = await ensureLoaded();
    const hooks = {
      timeoutMs: params.timeoutMs ?? 60_000,
      settleMs: 250,
      load,
      sample: () => window.__benchSample(),
      async memory() {
        const m = await window.__benchMemory();
        return { ...m, wasmBytes: wasmBytes() };
      },
    };
    return runScenario(scenario, Client, url, params, hooks);
  },
  /** The cold-start scenario on a page opened with &lazy=1: times the client's load, then runs it at once. */
  async coldStart(params) {
    const before = await window.__benchSample();
    const t0 = performance.now();
    await ensureLoaded();
    const wallMs = performance.now() - t0;
    const after = await window.__benchSample();
    return this.run('cold-start', params, { wallMs, cpuMs: after.cpuMs - before.cpuMs });
  },
};
