// Life in a real tab, in Chromium (Playwright: offline emulation, history navigation): a client whose next planned
// attempt is a minute away tries at once when the network comes back, when the page becomes visible, and when it gets
// the focus; the back/forward cache closes the connection and restores it. The server is one upstream Python node
// (tests/support/cluster.mjs), stopped and started under the page; the page imports the package from /pkg/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { launch, playwright, ROOT } from './lib.mjs';
import { clusterAvailable, startCluster } from '../support/cluster.mjs';

const skip = clusterAvailable() ? false : 'redis-server is not installed (scripts/setup.sh installs it)';
const SITE = join(ROOT, 'target/life-site');

function site() {
  rmSync(SITE, { recursive: true, force: true });
  mkdirSync(SITE, { recursive: true });
  cpSync(join(ROOT, 'pkg'), join(SITE, 'pkg'), { recursive: true });
  writeFileSync(join(SITE, 'index.html'), '<!doctype html><title>life</title><p>pondsocket-wasm tab life</p>\n');
  writeFileSync(join(SITE, 'other.html'), '<!doctype html><title>other</title><p>another page</p>\n');
}

// In the page: a client with a minute's backoff, its events logged on `window.life`.
async function openClient(endpoint) {
  const { PondClient } = await import('/pkg/index.js');
  const client = new PondClient(endpoint, { token: 'good' }, { baseReconnectDelay: 60_000, maxReconnectDelay: 120_000 });
  const life = { client, states: [], planned: [], channelStates: [] };
  client.onConnectionChange((state) => life.states.push([state, performance.now()]));
  client.onReconnectScheduled((info) => life.planned.push(info.delayMs));
  client.connect();
  const channel = client.createChannel('/chat/life', { name: 'tab' });
  channel.onChannelStateChange((state) => life.channelStates.push(state));
  channel.join();
  life.channel = channel;
  window.life = life;
}

const waitIn = (page, fn, arg, timeout = 20_000) => page.waitForFunction(fn, arg, { timeout, polling: 20 });

test('in a real tab: online, visible and focus try at once; the back/forward cache closes and restores', { skip, timeout: 180_000 }, async (t) => {
  site();
  const cluster = await startCluster({ nodes: 1, staticDir: SITE });
  t.after(() => cluster.stop());
  const [node] = cluster.nodes;
  const browser = await launch();
  t.after(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(new URL('/index.html', node.url).href);

  /** With the server down, a new client fails its first attempt and plans the next half a minute or more away. */
  async function waitingClient() {
    await page.evaluate(() => window.life?.client.disconnect());
    await cluster.kill(node.name);
    await page.evaluate(openClient, node.ws);
    await waitIn(page, () => window.life.planned.some((d) => d >= 20_000));
    await cluster.start(node.name);
  }
  /** How long after `trigger` the client was connected again (it would otherwise wait half a minute or more). */
  async function reconnectsAfter(what, trigger) {
    const before = await page.evaluate(() => performance.now());
    await trigger();
    await waitIn(page, (since) => window.life.states.some(([s, at]) => s === 'connected' && at >= since), before, 5_000)
      .catch(() => { throw new Error(`${what}: not connected within 5 s`); });
    const took = await page.evaluate((since) => window.life.states.find(([s, at]) => s === 'connected' && at >= since)[1] - since, before);
    assert.ok(took < 1_000, `${what}: connected ${Math.round(took)} ms after it`);
    await waitIn(page, () => window.life.channel.channelState === 'JOINED');
    return took;
  }

  await t.test('online: one attempt at once', async () => {
    await waitingClient();
    await context.setOffline(true);
    await waitIn(page, () => navigator.onLine === false);
    await reconnectsAfter('online', () => context.setOffline(false));
  });

  await t.test('visible: one attempt at once', async () => {
    await waitingClient();
    // Headless pages never change visibility: the event is dispatched with the state overridden.
    await reconnectsAfter('visibilitychange', () => page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }));
  });

  await t.test('focus: one attempt at once', async () => {
    await waitingClient();
    await reconnectsAfter('focus', () => page.evaluate(() => window.dispatchEvent(new Event('focus'))));
  });

  await t.test('the back/forward cache: closed cleanly on the way in, rejoined on the way back', async () => {
    await page.evaluate(() => { window.life.client.disconnect(); });
    await page.evaluate(openClient, node.ws);
    await waitIn(page, () => window.life.channel.channelState === 'JOINED');
    await page.evaluate(() => { window.marker = 'still here'; });
    await page.goto(new URL('/other.html', node.url).href);
    await page.goBack();
    const restored = await page.evaluate(() => window.marker === 'still here');
    if (!restored) {
      // Chromium under automation may refuse to restore from the cache; then the same page runs the lifecycle with the
      // events it would have seen (pagehide and pageshow with `persisted`).
      t.diagnostic('the page was not restored from the back/forward cache: dispatching pagehide/pageshow instead');
      await page.evaluate(openClient, node.ws);
      await waitIn(page, () => window.life.channel.channelState === 'JOINED');
      await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
      await waitIn(page, () => window.life.channel.channelState === 'STALLED');
      await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
    }
    await waitIn(page, () => window.life.channel.channelState === 'JOINED', undefined, 5_000);
    const seen = await page.evaluate(() => window.life.channelStates);
    assert.deepEqual(seen.slice(-2), ['STALLED', 'JOINED'], `stalled into the cache, joined out of it: ${seen}`);
    console.log(`# back/forward cache: ${restored ? 'restored by the browser' : 'events dispatched'}`);
  });
  assert.deepEqual(problems, []);
});
