// tests/node/upstream-suite.mjs in a browser engine (PONDSOCKET_BROWSER, lib.mjs): the Vite build's upstream.html
// (scripts/test-demo.sh builds it and has each real server serve it), loaded from each server's own origin and run
// against it. PONDSOCKET_UPSTREAM_SERVERS lists them: "name=http://127.0.0.1:P ...". The Python one, which speaks SSE,
// runs it twice: over WebSocket with SSEClient's case, and with every client over SSE (same-origin: no CORS).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { launch } from './lib.mjs';

const servers = (process.env.PONDSOCKET_UPSTREAM_SERVERS ?? '').split(/\s+/).filter(Boolean).map((s) => s.split('='));
if (servers.length === 0) throw new Error('PONDSOCKET_UPSTREAM_SERVERS is not set: run through scripts/test-demo.sh');

const runs = servers.flatMap(([name, http]) => (name === 'python'
  ? [[name, http, 'websocket', '&sse=1'], [name, http, 'sse', '&sse=1']]
  : [[name, http, 'websocket', '']]));

for (const [name, http, transport, extra] of runs) {
  test(`code written for the JS client runs unchanged in the browser, against the ${name} server over ${transport}`,
    async (t) => {
      const browser = await launch();
      t.after(() => browser.close());
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(new URL(`upstream.html?transport=${transport}${extra}`, http).href);
      await page.waitForSelector('body[data-result]', { timeout: 60_000 });
      const results = JSON.parse(await page.getAttribute('body', 'data-result'));
      assert.ok(results.length >= 7, `${results.length} cases ran`);
      const failed = results.filter(([, error]) => error !== null);
      assert.deepEqual(failed, [], failed.map(([n, e]) => `${n}: ${e}`).join('\n'));
      assert.deepEqual(problems, []);
    });
}
