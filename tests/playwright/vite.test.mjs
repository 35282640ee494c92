// The package in a bundler: tests/vite built by Vite (scripts/test-demo.sh builds and serves it), loaded in
// a browser engine (PONDSOCKET_BROWSER, lib.mjs), connects, joins, gets a reply and a ResponseTimeoutError.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { launch, siteUrl, WAIT_MS } from './lib.mjs';

test('a Vite build of an app that imports pondsocket-wasm works in the browser', async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(siteUrl());
  await page.waitForSelector('body[data-result]', { timeout: WAIT_MS });
  const result = JSON.parse(await page.getAttribute('body', 'data-result'));
  assert.deepEqual(result, {
    state: 'connected', channel: 'JOINED', echo: { bundled: true }, timedOut: true, presence: 1,
  });
  assert.deepEqual(problems, []);
});
