// The Rust example (examples/leptos-chat: the demo's chat on the pondsocket-web crate, in Leptos) in Chromium: two
// pages in one room see each other in presence and each other's messages, and a ping shows a round trip. The server
// that serves the page (PONDSOCKET_RUST_DEMO_URL; scripts/test-demo.sh builds the example and starts it) is its
// PondSocket endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { launch, tid } from './lib.mjs';

const site = process.env.PONDSOCKET_RUST_DEMO_URL;
const skip = site ? false : 'PONDSOCKET_RUST_DEMO_URL is not set: run through scripts/test-demo.sh';

test('the Rust example: presence, messages both ways and a ping, between two pages', { skip, timeout: 90_000 }, async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const room = `rust-${process.pid}-${Date.now()}`;
  const problems = [];
  const open = async (name) => {
    const page = await browser.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(new URL(`/?name=${name}&room=${room}`, site).href);
    await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === 'connected',
      null, { timeout: 20_000 });
    return page;
  };
  const ada = await open('ada');
  const bob = await open('bob');
  const names = (page) => page.$$eval('[data-testid="presence-item"]', (items) => items.map((i) => i.textContent).sort());
  await ada.waitForFunction(() => document.querySelectorAll('[data-testid="presence-item"]').length === 2, null, { timeout: 10_000 });
  assert.deepEqual(await names(ada), ['ada', 'bob']);

  await bob.fill(tid('message-input'), 'hello from bob');
  await bob.click(tid('send'));
  await ada.waitForFunction(() => [...document.querySelectorAll('[data-testid="message"]')]
    .some((m) => m.textContent === 'bob: hello from bob'), null, { timeout: 10_000 });
  await ada.fill(tid('message-input'), 'hi bob');
  await ada.click(tid('send'));
  await bob.waitForFunction(() => [...document.querySelectorAll('[data-testid="message"]')]
    .some((m) => m.textContent === 'ada: hi bob'), null, { timeout: 10_000 });

  await ada.click(tid('ping'));
  await ada.waitForFunction(() => /round trip/.test(document.querySelector('[data-testid="ping-result"]').textContent),
    null, { timeout: 10_000 });

  // Closing a page: the other sees it leave.
  await bob.close();
  await ada.waitForFunction(() => document.querySelectorAll('[data-testid="presence-item"]').length === 1, null, { timeout: 10_000 });
  assert.equal(await ada.textContent(tid('problem')), '');
  assert.deepEqual(problems, []);
});
