// The part of Playwright's API that the demo tests use (tests/playwright/*.mjs), over W3C WebDriver, for the
// engines Playwright cannot drive here: Debian's Firefox ESR (geckodriver) and WebKitGTK's MiniBrowser
// (WebKitWebDriver). Playwright drives only its own patched builds of those two, which nothing here can download.
//
// Each context is a browser of its own (one driver process, one session), as a Playwright context is a profile of
// its own. Waits poll the page's DOM (every 50 ms) until the condition holds or the timeout fails the call; nothing
// sleeps. Page errors (uncaught exceptions, unhandled rejections) and console.error calls are recorded by a hook the
// page gets right after each navigation, and handed to `page.on('pageerror' | 'console')` listeners after every
// call; an error thrown while the page first loads is not seen that way, but then the page never gets ready, which
// the tests wait for.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const ELEMENT = 'element-6066-11e4-a52e-4a0ad8ec6e0b';
const POLL_MS = 50;

const ENGINES = {
  firefox: {
    driver: () => [process.env.GECKODRIVER || 'geckodriver', []],
    capabilities: () => ({
      browserName: 'firefox',
      'moz:firefoxOptions': { binary: process.env.FIREFOX || '/usr/bin/firefox-esr', args: ['-headless'] },
    }),
  },
  webkit: {
    driver: () => {
      if (!process.env.DISPLAY) throw new Error('WebKit needs an X display (scripts/lib/browsers.sh starts Xvfb)');
      return [process.env.WEBKITDRIVER || 'WebKitWebDriver', []];
    },
    capabilities: () => ({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': {
        binary: process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
        args: ['--automation'],
      },
    }),
  },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One driver process and its session. */
class Session {
  static async start(engine) {
    const spec = ENGINES[engine];
    if (!spec) throw new Error(`webdriver.mjs: no engine ${engine} (firefox, webkit)`);
    const [binary, args] = spec.driver();
    const port = await freePort();
    const child = spawn(binary, [...args, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const session = new Session(child, `http://127.0.0.1:${port}`, exited);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const status = await fetch(`${session.base}/status`);
        if (status.ok) break;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) throw new Error(`${binary} exited (${child.exitCode}): ${log}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${binary} did not start in 30 s: ${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const created = await session.send('POST', '/session', { capabilities: { alwaysMatch: spec.capabilities() } });
    session.id = created.sessionId;
    return session;
  }

  constructor(child, base, exited) {
    this.child = child;
    this.base = base;
    this.exited = exited;
    this.id = null;
  }

  async send(method, path, body) {
    const url = this.id && path !== '/session' ? `${this.base}/session/${this.id}${path}` : `${this.base}${path}`;
    const response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = await response.json();
    if (!response.ok || (reply.value && reply.value.error)) {
      const error = new Error(`WebDriver ${method} ${path}: ${reply.value?.error}: ${reply.value?.message}`);
      error.code = reply.value?.error;
      throw error;
    }
    return reply.value;
  }

  async close() {
    if (this.child.exitCode !== null) return;
    try {
      if (this.id) await this.send('DELETE', '');
    } catch {
      // the browser is gone already
    }
    this.child.kill();
    await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

// Installed after each navigation: what Playwright reports as `pageerror` and as console messages of type error.
const HOOK = `
if (!window.__problems) {
  const problems = window.__problems = [];
  addEventListener('error', (e) => problems.push(['pageerror', String(e.message)]));
  addEventListener('unhandledrejection', (e) => problems.push(['pageerror', String(e.reason && e.reason.message || e.reason)]));
  const error = console.error;
  console.error = (...args) => { problems.push(['console', args.map(String).join(' ')]); error.apply(console, args); };
}`;

// Runs `body` (a function body reading `arguments`) in the page and, in the same round trip, takes what the hook
// recorded. A promise is awaited (WebDriver awaits the promise a script returns).
const WRAP = (body) => `const result = (function () { ${body} }).apply(null, arguments);
const taken = () => (window.__problems ? window.__problems.splice(0) : []);
return result && typeof result.then === 'function' ? result.then((value) => [value, taken()]) : [result, taken()];`;

// Is the element there and visible, as Playwright means it (a box, not visibility:hidden)?
const VISIBLE = `function visible(el) {
  if (!el) return false;
  const style = getComputedStyle(el);
  return style.visibility !== 'hidden' && el.getClientRects().length > 0;
}`;

class Page {
  constructor(session, viewport) {
    this.session = session;
    this.viewport = viewport;
    this.timeout = 30_000;
    this.listeners = { pageerror: [], console: [] };
    this.lastUrl = 'about:blank';
    this.mouse = { move: (x, y) => this.#mouseMove(x, y) };
  }

  setDefaultTimeout(ms) { this.timeout = ms; }
  /** Hands what the page recorded since the last call to the listeners. */
  async drain() {
    if (this.session.child.exitCode === null) await this.#script('return null;');
  }
  on(name, listener) { (this.listeners[name] ??= []).push(listener); }
  url() { return this.lastUrl; }

  async #script(body, args = []) {
    const [result, problems] = await this.session.send('POST', '/execute/sync', { script: WRAP(body), args });
    for (const [kind, text] of problems ?? []) {
      if (kind === 'pageerror') this.listeners.pageerror.forEach((l) => l({ message: text }));
      else this.listeners.console.forEach((l) => l({ type: () => 'error', text: () => text }));
    }
    return result;
  }

  /** Polls `body` until it returns something truthy; throws after `timeout` ms, saying what it waited for. */
  async #until(what, body, args, timeout = this.timeout) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const result = await this.#script(body, args);
      if (result) return result;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async goto(url) {
    await this.session.send('POST', '/url', { url });
    this.lastUrl = url;
    await this.#script(HOOK);
  }

  waitForSelector(selector, { timeout, state = 'visible' } = {}) {
    const check = state === 'attached' ? 'return !!document.querySelector(arguments[0]);'
      : `${VISIBLE} return visible(document.querySelector(arguments[0]));`;
    return this.#until(`${selector} (${state})`, check, [selector], timeout);
  }

  async waitForFunction(fn, arg, { timeout } = {}) {
    return this.#until(`${fn}`, `return (${fn})(arguments[0]);`, [arg ?? null], timeout);
  }

  evaluate(fn, arg) { return this.#script(`return (${fn})(arguments[0]);`, [arg ?? null]); }
  $$eval(selector, fn) {
    return this.#script(`return (${fn})([...document.querySelectorAll(arguments[0])]);`, [selector]);
  }

  async #read(selector, expression) {
    await this.waitForSelector(selector, { state: 'attached' });
    return this.#script(`const el = document.querySelector(arguments[0]); return ${expression};`, [selector]);
  }

  getAttribute(selector, name) { return this.#read(selector, `el.getAttribute(${JSON.stringify(name)})`); }
  textContent(selector) { return this.#read(selector, 'el.textContent'); }
  inputValue(selector) { return this.#read(selector, 'el.value'); }
  isDisabled(selector) { return this.#read(selector, 'el.disabled'); }
  isHidden(selector) {
    return this.#script(`${VISIBLE} return !visible(document.querySelector(arguments[0]));`, [selector]);
  }

  /** The element, once visible (and enabled, for what takes input). */
  async #element(selector, enabled) {
    const check = `${VISIBLE} const el = document.querySelector(arguments[0]);
      return visible(el) && !(${enabled} && el.disabled);`;
    await this.#until(`${selector} (visible${enabled ? ', enabled' : ''})`, check, [selector]);
    const found = await this.session.send('POST', '/element', { using: 'css selector', value: selector });
    return found[ELEMENT] ?? Object.values(found)[0];
  }

  // An element found a moment ago may be replaced (the demo re-renders lists): find it again and retry.
  async #withElement(selector, action) {
    const deadline = Date.now() + this.timeout;
    for (;;) {
      try {
        await action(await this.#element(selector, true));
        return this.drain();
      } catch (error) {
        const retry = ['stale element reference', 'element click intercepted', 'element not interactable'];
        if (!retry.includes(error.code) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  }

  click(selector) { return this.#withElement(selector, (id) => this.session.send('POST', `/element/${id}/click`, {})); }
  // Typed over the selected old value, as a user would: WebDriver's Element Clear would blur the field and fire a
  // `change` with it empty, which Playwright's fill does not.
  fill(selector, text) {
    return this.#withElement(selector, async (id) => {
      await this.session.send('POST', '/execute/sync', {
        script: 'const el = document.querySelector(arguments[0]); el.focus(); el.select();', args: [selector] });
      await this.session.send('POST', `/element/${id}/value`, { text: text || '\uE003' });
    });
  }
  press(selector, key) {
    const keys = { Enter: '\uE007', Escape: '\uE00C', Tab: '\uE004' };
    if (!(key in keys)) throw new Error(`webdriver.mjs: press(${key}) is not supported`);
    return this.#withElement(selector, (id) => this.session.send('POST', `/element/${id}/value`, { text: keys[key] }));
  }

  locator(selector) { return new Locator(this, selector); }
  /** `[found, attribute]` of the last element matching `selector` whose text contains `text`. */
  findLast(selector, text, attribute) {
    return this.#script(`const els = [...document.querySelectorAll(arguments[0])]
        .filter((el) => arguments[1] === null || el.textContent.includes(arguments[1]));
      const el = els[els.length - 1];
      return el ? [true, arguments[2] === null ? null : el.getAttribute(arguments[2])] : [false, null];`,
    [selector, text, attribute]);
  }
  waitLast(selector, text) {
    return this.#until(`${selector} containing ${JSON.stringify(text)}`,
      `return [...document.querySelectorAll(arguments[0])].some((el) => arguments[1] === null
        || el.textContent.includes(arguments[1]));`, [selector, text]);
  }

  async #mouseMove(x, y) {
    await this.session.send('POST', '/actions', { actions: [{ type: 'pointer', id: 'mouse',
      parameters: { pointerType: 'mouse' }, actions: [{ type: 'pointerMove', x, y, origin: 'viewport', duration: 0 }] }] });
    await this.session.send('DELETE', '/actions');
  }

  /** The viewport as a PNG; with `fullPage`, the window is made as tall as the page first. */
  async screenshot({ path, fullPage = false } = {}) {
    let restore = null;
    if (fullPage) {
      const height = await this.#script('return document.documentElement.scrollHeight;');
      restore = await this.session.send('GET', '/window/rect');
      await this.session.send('POST', '/window/rect', { width: restore.width, height: restore.height + height });
    }
    const png = await this.session.send('GET', '/screenshot');
    if (restore) await this.session.send('POST', '/window/rect', { width: restore.width, height: restore.height });
    if (path) writeFileSync(path, Buffer.from(png, 'base64'));
    await this.drain();
  }

  /** Sizes the window so that the page's viewport is `viewport` (the window's frame, if any, added). */
  async fitViewport() {
    if (!this.viewport) return;
    const { width, height } = this.viewport;
    await this.session.send('POST', '/window/rect', { width, height });
    const [innerWidth, innerHeight] = await this.#script('return [innerWidth, innerHeight];');
    if (innerWidth !== width || innerHeight !== height) {
      await this.session.send('POST', '/window/rect',
        { width: width + (width - innerWidth), height: height + (height - innerHeight) });
    }
  }
}

class Locator {
  constructor(page, selector, text = null) {
    this.page = page;
    this.selector = selector;
    this.text = text;
  }

  filter({ hasText }) { return new Locator(this.page, this.selector, hasText); }
  last() { return this; }
  async waitFor() { await this.page.waitLast(this.selector, this.text); }
  async getAttribute(name) {
    await this.waitFor();
    const [, value] = await this.page.findLast(this.selector, this.text, name);
    return value;
  }
}

class Context {
  constructor(engine, options) {
    this.engine = engine;
    this.options = options;
    this.pages = [];
  }

  async newPage() {
    const session = await Session.start(this.engine);
    const page = new Page(session, this.options.viewport ?? { width: 1280, height: 720 });
    this.pages.push(page);
    await page.fitViewport();
    return page;
  }

  async close() {
    await Promise.all(this.pages.splice(0).map(async (page) => {
      await page.drain().catch(() => {});
      await page.session.close();
    }));
  }
}

/** A browser of `engine` ('firefox' or 'webkit'), shaped as Playwright's `Browser` for what the tests use. */
export function launchWebDriver(engine) {
  const contexts = [];
  return {
    async newContext(options = {}) {
      const context = new Context(engine, options);
      contexts.push(context);
      return context;
    },
    async newPage() {
      return (await this.newContext()).newPage();
    },
    async close() {
      await Promise.all(contexts.splice(0).map((c) => c.close()));
    },
  };
}
