// tests/node/upstream-suite.mjs in the browser, built by Vite with the package imported by its subpath for browsers
// (as upstream's package has one; index.js, beside it, imports the root). The page's query says against what:
// `ws` the server's URL (by default this page's own server), `sse=1` when that server speaks SSE (adds SSEClient's
// case), `transport` the transport of every client (websocket, sse). The outcome goes to body[data-result] as JSON:
// [[name, null | failure message], ...].
import * as api from 'pondsocket-wasm/browser';
import { cases } from './upstream-suite.mjs';

const query = new URL(location.href).searchParams;
const url = query.get('ws') ?? `${location.origin.replace(/^http/, 'ws')}/socket`;
const transport = query.get('transport') ?? 'websocket';
const PondClient = class extends api.PondClient {
  constructor(endpoint, params, options) {
    super(endpoint, params, { transport, ...options });
  }
};
const results = [];
// The transport asked for is the one used (a client of the page's kind, connected and asked).
const probe = new PondClient(url, { token: 'good' });
await new Promise((resolve) => {
  probe.onConnectionChange((state) => state === 'connected' && resolve());
  probe.connect();
});
results.push([`the page's clients connect over ${transport}`,
  probe.getTransport() === transport ? null : `connected over ${probe.getTransport()}`]);
probe.disconnect();
for (const [name, run] of cases({ ...api, PondClient }, url, { sse: query.get('sse') === '1' })) {
  try {
    await run();
    results.push([name, null]);
  } catch (error) {
    results.push([name, String(error?.stack ?? error)]);
  }
}
document.getElementById('result').textContent = results.map(([n, e]) => (e ? 'FAIL ' : 'ok   ') + n).join('\n');
document.body.dataset.result = JSON.stringify(results);
