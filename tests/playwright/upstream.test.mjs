// tests/node/upstream-suite.mjs in a browser engine (PONDSOCKET_BROWSER, lib.mjs): the Vite build's upstream.html
// (scripts/test-demo.sh builds and serves it) against each real server, whose ws URLs are in
// PONDSOCKET_UPSTREAM_SERVERS ("name=ws://... name=ws://...").
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { launch, siteUrl } from './lib.mjs';

const servers = (process.env.PONDSOCKET_UPSTREAM_SERVERS ?? '').split(/\s+/).filter(Boolean).map((s) => s.split('='));
if (servers.length === 0) throw new Error('PONDSOCKET_UPSTREAM_SERVERS is not set: run through scripts/test-demo.sh');

for (const [name, ws] of servers) {
  test(`code written for the JS client runs unchanged in the browser, against the ${name} server`, async (t) => {
    const browser = await launch();
    t.after(() => browser.close());
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(new URL(`upstream.html?ws=${encodeURIComponent(ws)}`, siteUrl()).href);
    await page.waitForSelector('body[data-result]', { timeout: 60_000 });
    const results = JSON.parse(await page.getAttribute('body', 'data-result'));
    assert.ok(results.length >= 7, `${results.length} cases ran`);
    const failed = results.filter(([, error]) => error !== null);
    assert.deepEqual(failed, [], failed.map(([n, e]) => `${n}: ${e}`).join('\n'));
    assert.deepEqual(problems, []);
  });
}
