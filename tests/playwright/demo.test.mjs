// The demo page (www/) in one browser engine (PONDSOCKET_BROWSER, see lib.mjs) against the bundled server: two
// tabs chat and see each other, the server restarts under them, errors show on the page. Run by
// scripts/test-demo.sh, which serves the site and sets PONDSOCKET_HTTP_URL and PONDSOCKET_CONTROL_URL.
// Screenshots: docs/demo.png, target/playwright/*.png (target/playwright/ENGINE/ for Firefox and WebKit).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  launch, openDemo, ping, screenshotPath, send, tid, waitJoined, waitMessage, waitPresence, WAIT_MS,
} from './lib.mjs';

const control = process.env.PONDSOCKET_CONTROL_URL;
const ROOM = '/chat/lobby';
const VIEWPORT = { width: 1280, height: 800 };

let browser;
const pages = [];

before(async () => {
  assert.ok(control, 'PONDSOCKET_CONTROL_URL is not set: run through scripts/test-demo.sh');
  browser = await launch();
});

after(async () => {
  await browser?.close(); // first: an open browser would keep this process alive
  for (const page of pages) {
    assert.deepEqual(page.problems, [], `errors in the page's console (${page.url()})`);
  }
});

// A context (window) per page: a page in the background of its window gets no frames, and Playwright's clicks
// and screenshots then wait about a second for one.
async function open(name, room = ROOM) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await openDemo(context, { name, room });
  pages.push(page);
  return page;
}

describe('demo page', { timeout: 120_000 }, () => {
  let ada;
  let linus;

  test('two tabs in one room see each other and chat both ways', async () => {
    ada = await open('Ada');
    linus = await open('Linus');

    for (const page of [ada, linus]) {
      const names = await waitPresence(page, ['Ada', 'Linus']);
      assert.equal(names.length, 2, `presence list: ${names}`);
    }
    assert.equal(await ada.getAttribute(`${tid('presence-item')}.me`, 'data-name'), 'Ada');
    assert.equal(await linus.getAttribute(`${tid('presence-item')}.me`, 'data-name'), 'Linus');

    await send(ada, 'Hi Linus! This page runs the PondSocket client compiled from Rust to WebAssembly.');
    assert.equal(await waitMessage(ada, 'Ada', 'Hi Linus!'), true, 'own message marked as ours');
    assert.equal(await waitMessage(linus, 'Ada', 'Hi Linus!'), false);

    await send(linus, 'Nice. Presence and broadcasts arrive in both tabs.');
    assert.equal(await waitMessage(ada, 'Linus', 'Presence and broadcasts'), false);
    assert.equal(await waitMessage(linus, 'Linus', 'Presence and broadcasts'), true);

    // status → PRESENCE UPDATE for everyone
    await linus.fill(tid('status-input'), 'reviewing');
    await linus.click(tid('status-button'));
    for (const page of [ada, linus]) {
      await page.waitForSelector(`${tid('presence-item')}[data-name="Linus"][data-status="reviewing"]`);
    }

    await send(ada, 'Ping says the round trip is tiny.');
    await waitMessage(linus, 'Ada', 'round trip is tiny');
    const { rtt, text } = await ping(ada);
    assert.ok(rtt > 0 && rtt < 5000, `rtt ${rtt}`);
    assert.match(text, /round trip [\d.]+ ms/);

    await ada.mouse.move(0, 0); // no hover highlight in the picture
    await ada.screenshot({ path: screenshotPath('docs/demo.png') });
  });

  test('both tabs reconnect and rejoin after the server restarts', async () => {
    assert.ok(ada && linus, 'needs the first test');
    const connects = await Promise.all(
      [ada, linus].map(async (page) => Number(await page.getAttribute(tid('connection-state'), 'data-connects'))),
    );
    // While the server is down each page shows `disconnected` and the countdown to the next attempt.
    const countdowns = [ada, linus].map((page) =>
      page.waitForFunction(
        (selector) => {
          const el = document.querySelector(selector);
          return !el.hidden && /retrying in [\d.]+ s · attempt \d+/.test(el.textContent);
        },
        tid('reconnect-countdown'),
        { polling: 50, timeout: WAIT_MS },
      ),
    );
    const response = await fetch(`${control}/restart?downMs=500`, { method: 'POST' });
    assert.equal(response.status, 200, await response.text());
    await Promise.all(countdowns);

    await Promise.all(
      [ada, linus].map(async (page, i) => {
        await page.waitForFunction(
          ({ selector, before }) => Number(document.querySelector(selector).dataset.connects) > before,
          { selector: tid('connection-state'), before: connects[i] },
          { polling: 50, timeout: WAIT_MS },
        );
        await waitJoined(page);
        await waitPresence(page, ['Ada', 'Linus']);
        assert.equal(await page.isHidden(tid('reconnect-countdown')), true, 'countdown gone once connected');
      }),
    );
    // The status was merged into presence on the old server; the page sends it again after the rejoin.
    await ada.waitForSelector(`${tid('presence-item')}[data-name="Linus"][data-status="reviewing"]`);

    await send(linus, 'Back after the restart?');
    await waitMessage(ada, 'Linus', 'Back after the restart?');
    await send(ada, 'Yes, both tabs rejoined on their own.');
    await waitMessage(linus, 'Ada', 'both tabs rejoined');
    await ping(linus);

    await ada.screenshot({ path: screenshotPath('target/playwright/after-restart-ada.png') });
    await linus.screenshot({ path: screenshotPath('target/playwright/after-restart-linus.png') });
  });

  test('a declined join and a timed-out request show on the page', async () => {
    const grace = await open('Grace', '/chat/errors');
    await grace.click(`${tid('room-chip')}[data-room="/private/x"]`);
    await grace.waitForSelector(`${tid('channel-state')}[data-state="DECLINED"]`);
    assert.match(await grace.textContent(tid('join-error')), /403 private room/);
    await grace.waitForSelector(`${tid('error-item')}[data-kind="Join declined"]`);
    assert.equal(await grace.isDisabled(tid('send-button')), true, 'no composer on a declined channel');

    await grace.fill(tid('room-input'), 'errors');
    await grace.click(tid('join-button'));
    await waitJoined(grace);
    assert.equal(await grace.inputValue(tid('room-input')), '/chat/errors');
    await grace.click(tid('slow-button'));
    await grace.waitForSelector(`${tid('error-item')}[data-kind="ResponseTimeoutError"]`, { timeout: WAIT_MS });
    assert.match(await grace.textContent(tid('ping-result')), /timed out/);
    await grace.screenshot({ path: screenshotPath('target/playwright/errors.png'), fullPage: true });
  });

  test('renaming rejoins under the new name; Disconnect and Connect', async () => {
    const page = await open('Grace', '/chat/errors');
    await page.fill(tid('name-input'), 'Grace H');
    await page.press(tid('name-input'), 'Enter');
    await page.waitForSelector(`${tid('presence-item')}.me[data-name="Grace H"]`);
    await waitJoined(page);

    await page.click(tid('connect-toggle'));
    await page.waitForSelector(`${tid('connection-state')}[data-state="disconnected"]`);
    await page.waitForSelector(`${tid('channel-state')}[data-state="CLOSED"]`);
    assert.equal(await page.isHidden(tid('reconnect-countdown')), true, 'no countdown after a disconnect()');
    assert.equal(await page.textContent(tid('connect-toggle')), 'Connect');

    await page.click(tid('connect-toggle'));
    await waitJoined(page);
    await waitPresence(page, ['Grace H']);
    await send(page, 'still here');
    await waitMessage(page, 'Grace H', 'still here');
  });

  test('a narrow screen gets one column and no sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    try {
      const page = await openDemo(phone, { name: 'Mobile', room: ROOM });
      await waitPresence(page, ['Ada', 'Linus', 'Mobile']);
      await send(page, 'Hello from a small screen');
      await waitMessage(ada, 'Mobile', 'small screen');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
      await page.screenshot({ path: screenshotPath('target/playwright/narrow.png'), fullPage: true });
      assert.deepEqual(page.problems, []);
    } finally {
      await phone.close();
    }
  });
});
