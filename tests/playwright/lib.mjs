// Shared by the demo's tests (demo.test.mjs, vite.test.mjs) and `scripts/demo.sh --check` (check.mjs): the browser
// of PONDSOCKET_BROWSER (chromium, the default, firefox or webkit: scripts/lib/browsers.sh) and the demo page's
// controls by their data-testid. Chromium is driven by playwright-core from the tools folder (scripts/setup.sh
// --browser installs it); Firefox ESR and WebKitGTK, which Playwright cannot drive, by webdriver.mjs, the same calls
// over W3C WebDriver. Every wait is on DOM state; nothing sleeps.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchWebDriver } from './webdriver.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOOLS = process.env.PONDSOCKET_TOOLS || join(homedir(), '.cache/pondsocket-wasm-tools');

/** playwright-core, from $PONDSOCKET_TOOLS/node_modules (or NODE_PATH). */
export function playwright() {
  try {
    return createRequire(join(TOOLS, 'node_modules', 'noop.js'))('playwright-core');
  } catch {
    try {
      return createRequire(import.meta.url)('playwright-core');
    } catch {
      throw new Error(`playwright-core is not installed in ${TOOLS}/node_modules: run scripts/setup.sh --browser`);
    }
  }
}

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
  '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync',
];

/** The engine the tests run in. */
export const ENGINE = process.env.PONDSOCKET_BROWSER || 'chromium';

export function launch() {
  if (ENGINE !== 'chromium') return launchWebDriver(ENGINE);
  return playwright().chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/** The demo site's root (`http://127.0.0.1:P/`), from the server the script started. */
export function siteUrl() {
  const http = process.env.PONDSOCKET_HTTP_URL;
  if (!http) throw new Error('PONDSOCKET_HTTP_URL is not set: run through scripts/test-demo.sh or scripts/demo.sh --check');
  return new URL('/', http).href;
}

export const WAIT_MS = 15_000;
export const tid = (id) => `[data-testid="${id}"]`;

/**
 * Opens the demo as `name` in `room` (over `transport`, if given) and waits until it is connected and joined. Page errors and console
 * errors are collected in `page.problems` (the tests expect none).
 */
export async function openDemo(context, { name, room, transport }) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
  page.on('console', (msg) => {
    // Chromium itself logs each WebSocket that cannot connect (the server is down): expected while it restarts.
    if (msg.type() === 'error' && !/^WebSocket connection to .* failed/.test(msg.text())) {
      page.problems.push(`console.error: ${msg.text()}`);
    }
  });
  const url = new URL(siteUrl());
  url.search = new URLSearchParams({ name, room, ...(transport ? { transport } : {}) }).toString();
  await page.goto(url.href);
  await page.waitForSelector('html[data-ready="true"]');
  await waitJoined(page);
  return page;
}

/** Connected, and the channel joined. */
export async function waitJoined(page, timeout = WAIT_MS) {
  await page.waitForSelector(`${tid('connection-state')}[data-state="connected"]`, { timeout });
  await page.waitForSelector(`${tid('channel-state')}[data-state="JOINED"]`, { timeout });
}

export async function send(page, text) {
  await page.fill(tid('composer-input'), text);
  await page.click(tid('send-button'));
}

/** Waits for a message with this text from `from` in the page's list; returns whether it is marked as ours. */
export async function waitMessage(page, from, text) {
  const item = page.locator(`${tid('message')}[data-from="${from}"]`).filter({ hasText: text }).last();
  await item.waitFor();
  return (await item.getAttribute('data-own')) === 'true';
}

/** Waits until the presence list shows every one of `names` (others may be there too); returns the names. */
export async function waitPresence(page, names) {
  await page.waitForFunction(
    ({ selector, names }) => {
      const shown = [...document.querySelectorAll(selector)].map((el) => el.dataset.name);
      return names.every((n) => shown.includes(n));
    },
    { selector: tid('presence-item'), names },
    { polling: 50, timeout: WAIT_MS },
  );
  return page.$$eval(tid('presence-item'), (els) => els.map((el) => el.dataset.name));
}

/** Clicks Ping and returns the round trip the page shows, in ms. */
export async function ping(page) {
  const before = await page.getAttribute(tid('ping-result'), 'data-seq');
  await page.click(tid('ping-button'));
  await page.waitForFunction(
    ({ selector, before }) => {
      const el = document.querySelector(selector);
      return el && el.dataset.seq !== before && el.dataset.kind;
    },
    { selector: tid('ping-result'), before },
    { polling: 50, timeout: WAIT_MS },
  );
  const rtt = await page.getAttribute(tid('ping-result'), 'data-rtt');
  const text = await page.textContent(tid('ping-result'));
  if (rtt === null) throw new Error(`ping failed: ${text}`);
  return { rtt: Number(rtt), text };
}

// PONDSOCKET_SCREENSHOT_DIR sends the screenshots meant for docs/ there instead: the test suite sets it, so that
// running the tests leaves the committed docs/demo.png alone (scripts/demo.sh --check updates it on purpose, in
// Chromium). The other engines' screenshots go to a folder of their own under target/playwright/.
export function screenshotPath(relative) {
  const redirect = process.env.PONDSOCKET_SCREENSHOT_DIR;
  if (ENGINE !== 'chromium') relative = join('target/playwright', ENGINE, basename(relative));
  else if (redirect && relative.startsWith('docs/')) relative = join(redirect, basename(relative));
  const path = resolve(ROOT, relative);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}
