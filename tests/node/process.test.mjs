// The package in a Node process of its own: it lets the process exit, and finds a WebSocket where there is no
// global one. Each case is a child process running a short ES module against the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { url } from './helpers.mjs';

/**
 * Runs `script` as an ES module in a child process (cwd: this folder, or `cwd`), with the flags this process has
 * unless `bare`. Resolves with its output, exit code, and how long it took to exit after printing `mark`.
 */
function child(script, { cwd = process.cwd(), bare = false, mark = null, timeoutMs = 20_000 } = {}) {
  const flags = bare ? [] : process.execArgv;
  const proc = spawn(process.execPath, [...flags, '--input-type=module', '-e', script],
    { cwd, env: { ...process.env, PONDSOCKET_TEST_URL: url } });
  let [stdout, stderr, markedAt] = ['', '', null];
  proc.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (mark !== null && markedAt === null && stdout.includes(mark)) markedAt = performance.now();
  });
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => proc.on('exit', (code, signal) => {
    clearTimeout(killer);
    resolve({ code, signal, stdout, stderr, afterMark: markedAt === null ? null : performance.now() - markedAt });
  }));
}

test('a Node process exits by itself after disconnect(), even with a request timer left', async () => {
  // A 30 s responseTimeout leaves the client's one timer armed for that deadline after the reply: disconnect() must
  // clear it rather than let it hold the event loop.
  const run = await child(`
    import { PondClient } from 'pondsocket-wasm';
    const client = new PondClient(process.env.PONDSOCKET_TEST_URL, { token: 'good' }, { responseTimeout: 30000 });
    client.connect();
    const channel = client.createChannel('/chat/exit-' + process.pid);
    const joined = new Promise((resolve) => channel.onChannelStateChange((s) => s === 'JOINED' && resolve()));
    channel.join();
    await joined;
    await channel.sendForResponse('echo', { n: 1 });
    client.disconnect();
    console.log('disconnected');
  `, { mark: 'disconnected' });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.afterMark !== null && run.afterMark < 1000, `exited ${run.afterMark?.toFixed(0)} ms after disconnect()`);
});

test('a Node process that never connects exits by itself', async () => {
  const run = await child(`
    import { PondClient } from 'pondsocket-wasm';
    const client = new PondClient(process.env.PONDSOCKET_TEST_URL, { token: 'good' });
    client.createChannel('/chat/idle').onMessage(() => {});
    console.log('made');
  `, { mark: 'made' });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.afterMark !== null && run.afterMark < 1000, `exited ${run.afterMark?.toFixed(0)} ms after the last line`);
});

// Node 20 has no global WebSocket without a flag; the child removes it whatever the Node version, before loading us.
const withoutGlobalWebSocket = `
  delete globalThis.WebSocket;
  const { PondClient } = await import('pondsocket-wasm');
  const client = new PondClient(process.env.PONDSOCKET_TEST_URL, { token: 'good' }, { baseReconnectDelay: 50, maxReconnectAttempts: 0 });
  const outcome = await new Promise((resolve) => {
    client.onError((error) => resolve(error.name + ': ' + error.message));
    client.onConnectionChange((state) => state === 'connected' && resolve('connected'));
    client.connect();
  });
  client.disconnect();
  console.log(outcome);
`;

test('with no global WebSocket, the optional peer dependency ws is used', async () => {
  const run = await child(withoutGlobalWebSocket, { bare: true });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'connected');
});

test('with no global WebSocket and no ws, connect() reports a ConnectionError saying so', async (t) => {
  // The package alone, in a folder where `ws` cannot be found.
  const folder = mkdtempSync(join(tmpdir(), 'pondsocket-no-ws-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  cpSync(join(process.cwd(), 'node_modules', 'pondsocket-wasm'), join(folder, 'node_modules', 'pondsocket-wasm'),
    { recursive: true });
  const run = await child(withoutGlobalWebSocket, { bare: true, cwd: folder });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout.trim(),
    /^ConnectionError: .*no global WebSocket and no `WebSocket` option, and the `ws` package is not installed: install `ws`/);
});
