// tests/node/upstream-suite.mjs in the browser, built by Vite with the package imported by its subpath for browsers
// (as upstream's package has one; index.js, beside it, imports the root). The server to run
// against is the page's `ws` query parameter (a real server of either kind; this page is served by the Rust one).
// The outcome goes to body[data-result] as JSON: [[name, null | failure message], ...].
import * as api from 'pondsocket-wasm/browser';
import { cases } from './upstream-suite.mjs';

const url = new URL(location.href).searchParams.get('ws');
const results = [];
for (const [name, run] of cases(api, url)) {
  try {
    await run();
    results.push([name, null]);
  } catch (error) {
    results.push([name, String(error?.stack ?? error)]);
  }
}
document.getElementById('result').textContent = results.map(([n, e]) => (e ? 'FAIL ' : 'ok   ') + n).join('\n');
document.body.dataset.result = JSON.stringify(results);
