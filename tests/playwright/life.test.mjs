// Life in a real tab, in Chromium (Playwright: offline emulation, history navigation): a client whose next planned
// attempt is a minute away tries at once when the network comes back, when the page becomes visible, and when it gets
// the focus; the back/forward cache closes the connection and restores it. The server is one upstream Python node
// (tests/support/cluster.mjs), stopped and started under the page; the page, served here, imports the package from /pkg/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

import { CHROMIUM_ARGS, playwright, ROOT } from './lib.mjs';
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
  const { PondClient } = window.pkg;
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

// The page's own server: the test server marks its files `Cache-Control: no-store`, which keeps a page that used a
// WebSocket out of the back/forward cache ("websocket-used-with-ccns"); a site would rather say no-cache.
async function serveSite() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = readFileSync(join(SITE, path));
      response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const waitIn = (page, fn, arg, timeout = 20_000) => page.waitForFunction(fn, arg, { timeout, polling: 20 });

test('in a real tab: online, visible and focus try at once; the back/forward cache closes and restores', { skip, timeout: 180_000 }, async (t) => {
  site();
  const cluster = await startCluster({ nodes: 1 });
  t.after(() => cluster.stop());
  const served = await serveSite();
  t.after(() => served.close());
  const [node] = cluster.nodes;
  // Playwright starts Chromium with --disable-back-forward-cache: without it, a page can be restored from the cache.
  const browser = await playwright().chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(new URL('/index.html', served.url).href);
  // Loaded while the server is up: the tests stop it under the page.
  await page.evaluate(async () => { window.pkg = await import('/pkg/index.js'); });
  t.afterEach(async () => {
    if (node.pid === null) await cluster.start(node.name);
  });

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
    await page.goto(new URL('/other.html', served.url).href);
    // A page restored from the cache gets no load event, only pageshow.
    await page.goBack({ waitUntil: 'commit' });
    // Restored, not reloaded: the page's state is still there (an open WebSocket would have kept it out of the cache).
    await waitIn(page, () => window.marker === 'still here', undefined, 5_000).catch(async (e) => {
      const why = await page.evaluate(() => JSON.stringify(performance.getEntriesByType('navigation')[0]?.notRestoredReasons));
      throw new Error(`not restored from the back/forward cache: ${why}`, { cause: e });
    });
    await waitIn(page, () => window.life.channel.channelState === 'JOINED', undefined, 5_000);
    const seen = await page.evaluate(() => window.life.channelStates);
    assert.deepEqual(seen.slice(-2), ['STALLED', 'JOINED'], `stalled into the cache, joined out of it: ${seen}`);
  });
  await t.test('AbortSignal and Symbol.dispose in the page', async () => {
    const outcome = await page.evaluate(async () => {
      const { client, channel } = window.life;
      const controller = new AbortController();
      const request = channel.sendForResponse('late', { delayMs: 300 }, { signal: controller.signal });
      controller.abort();
      const aborted = await request.then(() => 'resolved', (e) => `${e.constructor.name} ${e.name}`);
      let heard = 0;
      const listening = new AbortController();
      channel.onMessageEvent('message', () => { heard += 1; }, { signal: listening.signal });
      listening.abort();
      let kept = 0;
      channel.onMessageEvent('message', () => { kept += 1; });
      channel.sendMessage('broadcast', { n: 1 });
      // The server answers in order: the broadcast has come back before the echo does.
      const echo = await channel.sendForResponse('echo', { n: 2 });
      if (kept !== 1) throw new Error(`the broadcast came back ${kept} times`);
      channel[Symbol.dispose]();
      client[Symbol.dispose]();
      return { aborted, heard, echo, disposed: typeof Symbol.dispose === 'symbol' };
    });
    assert.deepEqual(outcome, { aborted: 'DOMException AbortError', heard: 0, echo: { n: 2 }, disposed: true });
  });
  assert.deepEqual(problems, []);
});
