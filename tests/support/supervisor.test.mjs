// Self-test of tests/support/supervisor.mjs against the real test server.
//
//   cargo build --release --manifest-path tests/server/Cargo.toml
//   node --experimental-websocket --test tests/support/supervisor.test.mjs
//
// PONDSOCKET_TEST_SERVER_BIN overrides the server binary's path.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const SUPERVISOR = resolve(HERE, 'supervisor.mjs');
const SERVER_BIN =
  process.env.PONDSOCKET_TEST_SERVER_BIN ??
  resolve(ROOT, 'tests/server/target/release/pondsocket-test-server');

/** Rejects after `ms` with a message naming what was awaited. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (err.code === 'ESRCH') return false;
    throw err;
  }
}

/** A running supervisor: its control/server URLs, stderr lines, exit promise. */
async function startSupervisor(extraArgs = []) {
  const child = spawn(process.execPath, [SUPERVISOR, '--server', SERVER_BIN, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const stderr = [];
  const stderrWaiters = new Set();
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (process.env.SUPERVISOR_TEST_VERBOSE) process.stderr.write(`  | ${line}\n`);
    for (const waiter of stderrWaiters) waiter(line);
  });
  /** Resolves at the next stderr line matching `re`. */
  const nextStderr = (re) =>
    new Promise((res) => {
      const waiter = (line) => {
        if (re.test(line)) {
          stderrWaiters.delete(waiter);
          res(line);
        }
      };
      stderrWaiters.add(waiter);
    });
  const stdout = createInterface({ input: child.stdout });
  const firstLine = new Promise((res, rej) => {
    stdout.once('line', res);
    exited.then(({ code }) => rej(new Error(`supervisor exited (${code}): ${stderr.join('\n')}`)));
  });
  const line = await within(20_000, 'the SUPERVISOR line', firstLine);
  const m = /^SUPERVISOR (http:\/\/127\.0\.0\.1:\d+) SERVER (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
  assert.ok(m, `unexpected ready line ${JSON.stringify(line)}`);
  const control = m[1];
  const call = async (method, path, expectStatus = 200) => {
    const res = await within(30_000, `${method} ${path}`, fetch(control + path, { method }));
    const body = await res.json();
    assert.equal(res.status, expectStatus, `${method} ${path} → ${res.status} ${JSON.stringify(body)}`);
    return { body, headers: res.headers };
  };
  return { child, exited, stderr, nextStderr, control, http: m[2], port: Number(m[3]), call };
}

/**
 * Opens a PondSocket connection and waits for CONNECT/CONNECTION. Returns the
 * socket, its payload and a promise of its CloseEvent.
 */
async function connect(wsUrl) {
  const ws = new WebSocket(`${wsUrl}?token=good`);
  const closed = new Promise((res) => ws.addEventListener('close', res, { once: true }));
  const connected = new Promise((res, rej) => {
    ws.addEventListener('message', (ev) => {
      const frame = JSON.parse(ev.data);
      if (frame.action === 'CONNECT' && frame.event === 'CONNECTION') res(frame.payload);
    });
    closed.then((ev) => rej(new Error(`socket closed before CONNECTION (code ${ev.code})`)));
  });
  const payload = await within(10_000, 'CONNECTION', connected);
  return { ws, payload, closed };
}

/** Resolves with the error/close of a connection attempt that must fail. */
function connectFails(wsUrl) {
  const ws = new WebSocket(`${wsUrl}?token=good`);
  return new Promise((res, rej) => {
    ws.addEventListener('open', () => {
      ws.close();
      rej(new Error('connected while the server should be down'));
    });
    // Node 20's WebSocket (undici) fires only 'error' for a refused
    // connection (no 'close', readyState stays CONNECTING); browsers fire both.
    ws.addEventListener('error', (ev) => res(ev));
    ws.addEventListener('close', (ev) => res(ev));
  });
}

before(() => {
  assert.equal(typeof WebSocket, 'function', 'run node with --experimental-websocket (Node 20)');
  assert.ok(
    existsSync(SERVER_BIN),
    `${SERVER_BIN} is missing: cargo build --release --manifest-path tests/server/Cargo.toml`,
  );
});

describe('supervisor', { timeout: 60_000 }, () => {
  test('kill, start on the same port, shut down cleanly', async () => {
    const sup = await startSupervisor();
    try {
      let { body: info } = await sup.call('GET', '/info');
      assert.equal(info.running, true);
      assert.equal(info.starts, 1);
      assert.equal(info.http, sup.http);
      assert.equal(info.ws, `ws://127.0.0.1:${sup.port}/socket`);
      const firstPid = info.pid;
      assert.ok(isAlive(firstPid));

      const a = await connect(info.ws);
      assert.ok(a.payload.connectionId);

      ({ body: info } = await sup.call('POST', '/kill'));
      assert.equal(info.running, false);
      assert.equal(info.pid, null);
      const closeA = await within(10_000, 'the socket to close after /kill', a.closed);
      assert.equal(closeA.wasClean, false, `close code ${closeA.code}`);
      assert.equal(isAlive(firstPid), false);
      await within(10_000, 'a refused connection', connectFails(info.ws));

      ({ body: info } = await sup.call('POST', '/start'));
      assert.equal(info.running, true);
      assert.equal(info.starts, 2);
      assert.equal(info.port, sup.port);
      assert.notEqual(info.pid, firstPid);
      const b = await connect(`ws://127.0.0.1:${sup.port}/socket`);
      assert.notEqual(b.payload.connectionId, a.payload.connectionId);

      // SIGTERM: the server is stopped gracefully (Close frame), supervisor exits 0.
      const serverPid = info.pid;
      sup.child.kill('SIGTERM');
      const closeB = await within(10_000, 'the socket to close on shutdown', b.closed);
      assert.ok(closeB.code === 1005 || closeB.code === 1006, `close code ${closeB.code}`);
      assert.deepEqual(await within(10_000, 'the supervisor to exit', sup.exited), { code: 0, signal: null });
      assert.equal(isAlive(serverPid), false, 'server process still alive after the supervisor exited');
    } finally {
      sup.child.kill('SIGKILL');
    }
  });

  test('restart with downMs, concurrent actions, unexpected death, HTTP details', async () => {
    const sup = await startSupervisor();
    try {
      // restart?downMs: the server is unreachable for that long, then back.
      const a = await connect(`ws://127.0.0.1:${sup.port}/socket`);
      const t0 = Date.now();
      let { body: info } = await sup.call('POST', '/restart?downMs=300');
      assert.ok(Date.now() - t0 >= 300);
      assert.equal(info.running, true);
      assert.equal(info.starts, 2);
      assert.equal(info.port, sup.port);
      await within(10_000, 'close after restart', a.closed);
      const b = await connect(info.ws);

      // Concurrent actions are serialised: three restarts → three more starts.
      const results = await Promise.all([
        sup.call('POST', '/restart'),
        sup.call('GET', '/restart'),
        sup.call('POST', '/restart'),
      ]);
      for (const r of results) assert.equal(r.body.running, true);
      ({ body: info } = await sup.call('GET', '/info'));
      assert.equal(info.starts, 5);
      assert.equal(info.running, true);
      assert.equal(info.port, sup.port);
      await within(10_000, 'close after concurrent restarts', b.closed);

      // Idempotent start/kill.
      ({ body: info } = await sup.call('POST', '/start'));
      assert.equal(info.starts, 5);

      // The server dies on its own: no auto-restart, /info reports it.
      const died = sup.nextStderr(/exited unexpectedly/);
      process.kill(info.pid, 'SIGKILL');
      await within(10_000, 'the supervisor to notice the death', died);
      ({ body: info } = await sup.call('GET', '/info'));
      assert.equal(info.running, false);
      assert.equal(info.lastExit.expected, false);
      ({ body: info } = await sup.call('POST', '/kill'));
      assert.equal(info.running, false);
      ({ body: info } = await sup.call('GET', '/start'));
      assert.equal(info.running, true);
      assert.equal(info.starts, 6);

      // kill with SIGTERM: the client gets the server's Close frame (1005).
      const c = await connect(info.ws);
      ({ body: info } = await sup.call('POST', '/kill?signal=SIGTERM'));
      assert.equal(info.running, false);
      assert.equal(info.lastExit.code, 0);
      assert.equal((await within(10_000, 'graceful close', c.closed)).code, 1005);
      await sup.call('POST', '/start');

      // CORS and errors.
      const { headers } = await sup.call('GET', '/info');
      assert.equal(headers.get('access-control-allow-origin'), '*');
      const pre = await fetch(`${sup.control}/restart`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://localhost:9999',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), '*');
      assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
      assert.match(pre.headers.get('access-control-allow-headers'), /content-type/);
      const { body: missing } = await sup.call('GET', '/nope', 404);
      assert.match(missing.error, /no such endpoint/);
      await sup.call('POST', '/restart?downMs=-1', 400);
      await sup.call('POST', '/kill?signal=SIGWHAT', 400);
      ({ body: info } = await sup.call('GET', '/info'));
      assert.equal(info.running, true);

      const serverPid = info.pid;
      sup.child.kill('SIGINT');
      assert.deepEqual(await within(10_000, 'the supervisor to exit', sup.exited), { code: 0, signal: null });
      assert.equal(isAlive(serverPid), false);
    } finally {
      sup.child.kill('SIGKILL');
    }
  });

  test('--port: the first start on that port; a taken port fails at once', async () => {
    const free = await new Promise((res, rej) => {
      const probe = createServer();
      probe.once('error', rej);
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => res(port));
      });
    });
    const sup = await startSupervisor(['--port', String(free)]);
    try {
      assert.equal(sup.port, free);
      const { body: info } = await sup.call('POST', '/restart');
      assert.equal(info.port, free);
      assert.equal(info.running, true);

      // A second supervisor on the same port gives up without the 10 s rebind window of a restart.
      const t0 = Date.now();
      await assert.rejects(startSupervisor(['--port', String(free)]), /supervisor exited \(1\)/);
      assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);

      const serverPid = info.pid;
      sup.child.kill('SIGTERM');
      assert.deepEqual(await within(10_000, 'the supervisor to exit', sup.exited), { code: 0, signal: null });
      assert.equal(isAlive(serverPid), false);
    } finally {
      sup.child.kill('SIGKILL');
    }
  });

  test('--exit-with-parent: the server goes away with the parent', async () => {
    // A throwaway parent (sh) starts the supervisor, prints its line, and is killed.
    const sh = spawn(
      'sh',
      ['-c', `"$0" "$1" --server "$2" --exit-with-parent & wait`, process.execPath, SUPERVISOR, SERVER_BIN],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stderr = [];
    createInterface({ input: sh.stderr }).on('line', (l) => stderr.push(l));
    const line = await within(20_000, 'the SUPERVISOR line', new Promise((res) => {
      createInterface({ input: sh.stdout }).once('line', res);
    }));
    const control = line.split(' ')[1];
    const info = await (await fetch(`${control}/info`)).json();
    assert.equal(info.running, true);
    sh.kill('SIGKILL');
    // Event-free by necessity (the supervisor is not our child): poll its pid's server.
    const deadline = Date.now() + 10_000;
    while (isAlive(info.pid)) {
      assert.ok(Date.now() < deadline, `server still alive 10 s after its supervisor lost its parent:\n${stderr.join('\n')}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  });
});
