// A real PondSocket cluster for tests: scripts/cluster.sh (one Redis, N upstream
// Python server nodes sharing its pub/sub), driven through its stdin. Node >= 20,
// no dependencies.
//
//   import { startCluster, clusterAvailable } from './cluster.mjs';
//   if (!clusterAvailable()) skip('redis-server is not installed (scripts/setup.sh installs it)');
//   const cluster = await startCluster({ nodes: 3 });
//   cluster.nodes      [{ name: 'node-a', url: 'http://127.0.0.1:P', ws: 'ws://127.0.0.1:P/socket', pid }, ...]
//   cluster.redis      'redis://127.0.0.1:P'
//   await cluster.kill('node-a')    SIGKILL (a crash); resolves once it is gone; its pid becomes null
//   await cluster.start('node-a')   again on the same port; resolves once it answers /health (new pid)
//   await cluster.stopRedis()       SIGKILL Redis (nodes keep serving their own clients; what they publish meanwhile
//                                   is lost); await cluster.startRedis(): again on the same port, nodes reconnect and
//                                   resubscribe on their own (seen within 200 ms)
//   await cluster.stop()            stops every node and Redis; resolves with the script's exit code
//
// startCluster({ nodes = 3, tokenFile, staticDir, readyTimeoutMs = 60000 }): tokenFile and staticDir are passed to
// every node (--token-file: only token=<the file's content> is accepted, re-read at every connection; --static).
// Rejects when the script exits before READY, or READY does not come within readyTimeoutMs (the script is then
// stopped); the error carries the end of the script's stderr. kill/start reject on an ERROR answer or when the
// script has gone. Commands are answered in order; concurrent calls are fine.
//
// The script runs only while something is pending: between calls it does not keep this process alive, and if this
// process exits without stop(), the script sees its stdin close and stops the cluster on its own.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));
const STDERR_TAIL_LINES = 40;

/** True iff `redis-server` is on PATH (scripts/setup.sh installs Debian's). */
export function clusterAvailable() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export async function startCluster({ nodes = 3, tokenFile, staticDir, readyTimeoutMs = 60_000 } = {}) {
  const args = [SCRIPT, '--nodes', String(nodes)];
  if (tokenFile != null) args.push('--token-file', String(tokenFile));
  if (staticDir != null) args.push('--static', String(staticDir));
  const child = spawn('bash', args, { stdio: ['pipe', 'pipe', 'pipe'] });

  const stderrTail = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });
  const withStderr = (message) =>
    new Error(stderrTail.length ? `${message}\n--- scripts/cluster.sh stderr (end):\n${stderrTail.join('\n')}` : message);

  // Keep this process alive only while something waits for the script.
  let busy = 0;
  const handles = [child, child.stdin, child.stdout, child.stderr];
  const hold = (delta) => {
    busy += delta;
    for (const h of handles) (busy > 0 ? h.ref : h.unref)?.call(h);
  };
  hold(+1);

  let exited = null; // {code, signal} once the script is gone
  const exitWaiters = [];
  const pending = []; // commands waiting for their answer line, in order
  const cluster = { nodes: [], redis: null, kill, start, stopRedis, startRedis, stop };
  const byName = new Map();

  // The stdin pipe may break when the script is gone: its exit is reported instead.
  child.stdin.on('error', () => {});

  const ready = new Promise((resolve, reject) => {
    let isReady = false;
    const timer = setTimeout(() => {
      reject(withStderr(`scripts/cluster.sh: no READY within ${readyTimeoutMs} ms`));
      child.kill('SIGTERM');
    }, readyTimeoutMs);

    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!isReady) {
        let m;
        if ((m = /^REDIS (\S+)$/.exec(line))) {
          cluster.redis = m[1];
        } else if ((m = /^NODE (\S+) (\S+) (\d+)$/.exec(line))) {
          updateNode(m[1], m[2], Number(m[3]));
        } else if (line === 'READY') {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
        return;
      }
      const waiter = pending.shift();
      if (!waiter) return; // e.g. --print-kill lines; not used here
      waiter.settle(line);
    });

    child.on('exit', (code, signal) => {
      exited = { code, signal };
      clearTimeout(timer);
      if (!isReady) {
        reject(withStderr(`scripts/cluster.sh exited before READY (code ${code}, signal ${signal})`));
      }
      for (const waiter of pending.splice(0)) {
        waiter.reject(withStderr(`scripts/cluster.sh exited (code ${code}) before answering "${waiter.command}"`));
      }
      for (const resolve of exitWaiters.splice(0)) resolve(code);
      busy = 0;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run scripts/cluster.sh: ${err.message}`));
    });
  });

  try {
    await ready;
  } finally {
    hold(-1);
  }
  return cluster;

  function updateNode(name, url, pid) {
    let node = byName.get(name);
    if (!node) {
      node = { name, url, ws: null, pid };
      byName.set(name, node);
      cluster.nodes.push(node);
    }
    node.url = url;
    node.ws = `${url.replace(/^http/, 'ws')}/socket`;
    node.pid = pid;
  }

  function command(text, expect) {
    if (exited) return Promise.reject(new Error(`scripts/cluster.sh has exited; cannot "${text}"`));
    return new Promise((resolve, reject) => {
      hold(+1);
      pending.push({
        command: text,
        settle(line) {
          hold(-1);
          if (line.startsWith('ERROR ')) reject(new Error(`cluster: ${text}: ${line.slice(6)}`));
          else if (!expect(line)) reject(new Error(`cluster: ${text}: unexpected answer "${line}"`));
          else resolve(line);
        },
        reject(err) {
          hold(-1);
          reject(err);
        },
      });
      child.stdin.write(`${text}\n`);
    });
  }

  async function kill(name) {
    await command(`kill ${name}`, (line) => line === `KILLED ${name}`);
    const node = byName.get(name);
    if (node) node.pid = null;
    return node;
  }

  async function start(name) {
    const line = await command(`start ${name}`, (l) => l.startsWith(`NODE ${name} `));
    const m = /^NODE (\S+) (\S+) (\d+)$/.exec(line);
    updateNode(m[1], m[2], Number(m[3]));
    return byName.get(name);
  }

  async function stopRedis() {
    await command('stop-redis', (line) => line === 'REDIS-STOPPED');
  }

  async function startRedis() {
    const line = await command('start-redis', (l) => l.startsWith('REDIS '));
    cluster.redis = line.slice('REDIS '.length);
    return cluster.redis;
  }

  function stop() {
    if (exited) return Promise.resolve(exited.code);
    return new Promise((resolve) => {
      exitWaiters.push(resolve);
      hold(+1);
      child.stdin.end();
    });
  }
}
