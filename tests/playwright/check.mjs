// `scripts/demo.sh --check`: a short session on the demo page in one browser engine (PONDSOCKET_BROWSER, see
// lib.mjs), against the server the script started (PONDSOCKET_HTTP_URL). Connect, join a room, send a message and
// see it, ping, see yourself in the presence list; then a second user joins and answers, for the screenshot
// (docs/demo.png, from Chromium). Exits 0 only if every step worked. PONDSOCKET_DEMO_TRANSPORT=sse runs it over
// Server-Sent Events (scripts/demo.sh --check does, against the Python server), without the screenshot.
import { ENGINE, launch, openDemo, ping, screenshotPath, send, siteUrl, tid, waitMessage, waitPresence } from './lib.mjs';

const ROOM = '/chat/lobby';
const VIEWPORT = { width: 1280, height: 800 };
const started = Date.now();
let failed = false;

async function step(what, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    console.log(`  ok   ${what}${detail ? ` (${detail})` : ''}  ${Date.now() - t0} ms`);
  } catch (error) {
    console.log(`  FAIL ${what}: ${error.message.split('\n')[0]}`);
    failed = true;
    throw error;
  }
}

const TRANSPORT = process.env.PONDSOCKET_DEMO_TRANSPORT ?? 'websocket';
console.log(`demo check in ${ENGINE} over ${TRANSPORT}: ${siteUrl()}`);
const browser = await launch();
try {
  let ada;
  let linus;
  const newWindow = () => browser.newContext({ viewport: VIEWPORT });
  await step(`open the page, connect, join ${ROOM}`, async () => {
    ada = await openDemo(await newWindow(), { name: 'Ada', room: ROOM, transport: TRANSPORT });
  });
  await step('the page shows the transport in use', async () => {
    const shown = await ada.getAttribute(tid('transport'), 'data-transport');
    if (shown !== TRANSPORT) throw new Error(`the page says ${shown}`);
    return await ada.textContent(tid('transport'));
  });
  await step('the page shows the node it is connected to (the server\'s whoami)', async () => {
    await ada.waitForFunction(() => !['…', ''].includes(document.querySelector('[data-testid="node"]').textContent),
      null, { timeout: 10_000 });
    const node = await ada.textContent(tid('node'));
    if (node === 'unknown') throw new Error('the server did not answer whoami');
    return node;
  });
  await step('send a message and see it come back', async () => {
    await send(ada, 'Hi! This page runs the PondSocket client, compiled from Rust to WebAssembly.');
    if (!(await waitMessage(ada, 'Ada', 'compiled from Rust'))) throw new Error('own message not marked as ours');
  });
  await step('ping shows a round trip', async () => (await ping(ada)).text);
  await step('presence lists the user', async () => (await waitPresence(ada, ['Ada'])).join(', '));
  await step('a second user joins and answers', async () => {
    linus = await openDemo(await newWindow(), { name: 'Linus', room: ROOM, transport: TRANSPORT });
    await send(linus, 'Hello Ada! I see you in the presence list.');
    await waitMessage(ada, 'Linus', 'presence list');
    await linus.fill(tid('status-input'), 'reviewing');
    await linus.click(tid('status-button'));
    await ada.waitForSelector(`${tid('presence-item')}[data-name="Linus"][data-status="reviewing"]`);
    return (await waitPresence(ada, ['Ada', 'Linus'])).join(', ');
  });
  if (TRANSPORT === 'websocket') await step('screenshot docs/demo.png', async () => {
    await ping(ada);
    await ada.mouse.move(0, 0); // no hover highlight in the picture
    await ada.screenshot({ path: screenshotPath('docs/demo.png') });
  });
  for (const page of [ada, linus]) {
    if (page.problems.length) {
      console.log(`  FAIL errors in the page's console:\n    ${page.problems.join('\n    ')}`);
      failed = true;
    }
  }
} catch {
  failed = true;
} finally {
  await browser.close();
}
console.log(`demo check: ${failed ? 'FAILED' : 'ok'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
