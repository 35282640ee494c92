// The benchmark page: loads one client (?client=ours|peer|floor&pkg=/path/of/pkg[&lazy=1][&meter=handlers]) and runs
// scenarios from bench/scenarios.mjs on request of the driver (bench/run.mjs). In Chromium the driver exposes
// __benchSample (CDP Performance.getMetrics: the main thread's CPU time) and __benchMemory (CDP
// HeapProfiler.collectGarbage + Runtime.getHeapUsage) to the page. Firefox and WebKit have no such protocol here
// (&meter=handlers): the page sums the time its main thread spends inside WebSocket event handlers, where every
// client's receiving work runs (parsing, routing, the listeners it calls), timed with performance.now(), which the
// blast server's cross-origin isolation headers make precise to 20 µs or better in both engines.
import { FloorClient, FloorSseClient, overSse, runScenario } from './scenarios.mjs';

const query = new URLSearchParams(location.search);
const which = query.get('client');
// Where the package is (run.mjs measures a copy of pkg/); module URLs relative to the page otherwise.
const pkg = new URL(`${query.get('pkg') ?? '../pkg'}/`, location.href).href;
const url = `ws://${location.host}/socket`;

let handlerMs = 0;
/** Wraps every WebSocket event handler a client installs, before any client loads, to time it. */
function meterHandlers() {
  const timed = (listener) => function timedListener(event) {
    const t0 = performance.now();
    try {
      return typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event);
    } finally {
      handlerMs += performance.now() - t0;
    }
  };
  const proto = WebSocket.prototype;
  for (const name of ['onopen', 'onmessage', 'onclose', 'onerror']) {
    const own = Object.getOwnPropertyDescriptor(proto, name);
    const installed = new WeakMap();
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: own.enumerable,
      get() { return installed.get(this) ?? null; },
      set(listener) {
        installed.set(this, listener);
        own.set.call(this, listener ? timed(listener) : listener);
      },
    });
  }
  const wrappers = new WeakMap();
  const { addEventListener, removeEventListener } = EventTarget.prototype;
  proto.addEventListener = function (type, listener, options) {
    if (!listener) return addEventListener.call(this, type, listener, options);
    if (!wrappers.has(listener)) wrappers.set(listener, timed(listener));
    return addEventListener.call(this, type, wrappers.get(listener), options);
  };
  proto.removeEventListener = function (type, listener, options) {
    return removeEventListener.call(this, type, (listener && wrappers.get(listener)) ?? listener, options);
  };
  window.__benchSample = async () => ({ cpuMs: handlerMs });
}
if (query.get('meter') === 'handlers') meterHandlers();

async function load(name = which) {
  switch (name) {
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
    case 'ours-sse': {
      const ours = await load('ours');
      return { ...ours, Client: overSse(ours.Client) };
    }
    case 'floor-sse':
      return { Client: FloorSseClient, wasmBytes: () => 0 };
    default:
      throw new Error(`unknown client ${name}`);
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
