// Self-test of scripts/cluster.sh and tests/support/cluster.mjs against a real cluster (Redis + 3 Python nodes):
//   node tests/support/cluster.selftest.mjs [--presence-wait SECONDS]
// Exits non-zero on failure. Checks: two clients on two nodes; `whoami` names each node and the connection id;
// presence and broadcasts cross nodes; --token-file rotation; kill -9 of a node (its clients lose their socket, the
// other nodes keep working) and its restart on the same URL; the `--` mode; nothing left running afterwards.
// With --presence-wait S, also polls (for up to S seconds) until the killed node's user is gone from the presence
// another node reports, and prints how long that took (pondsocket's heartbeat timeout: slow).
// Node 20 needs --experimental-websocket for the global WebSocket: then this re-runs itself with it.

import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterAvailable, startCluster } from './cluster.mjs';

if (typeof WebSocket !== 'function') {
  if (process.execArgv.includes('--experimental-websocket')) {
    console.error('cluster.selftest: no global WebSocket in this Node');
    process.exit(1);
  }
  const child = spawn(process.execPath, ['--experimental-websocket', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(`cluster.selftest: FAILED: ${err.stack ?? err}`);
      process.exit(1);
    },
  );
}

function note(msg) {
  console.log(`[selftest] ${msg}`);
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
  note(`ok - ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A bare PondSocket client on the global WebSocket (protocol in /work/shared/NOTES.md). */
class Client {
  constructor(label) {
    this.label = label;
    this.frames = [];
    this.waiters = [];
    this.closed = null;
  }

  /** Resolves with the client once the CONNECTION frame came; rejects if the socket closes before. */
  static connect(wsUrl, token, label) {
    const c = new Client(label);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
      c.ws = ws;
      const timer = setTimeout(() => reject(new Error(`${label}: no CONNECTION within 10 s`)), 10_000);
      ws.onmessage = (ev) => {
        for (const text of String(ev.data).split('\n')) {
          if (!text.trim()) continue;
          const frame = JSON.parse(text);
          if (frame.event === 'CONNECTION' && c.id == null) {
            c.id = frame.payload.connectionId ?? frame.payload.id;
            clearTimeout(timer);
            resolve(c);
          }
          c.frames.push(frame);
          for (const w of [...c.waiters]) if (w.pred(frame)) w.done(frame);
        }
      };
      ws.onclose = (ev) => {
        c.closed = { code: ev.code, reason: ev.reason };
        clearTimeout(timer);
        reject(new Error(`${label}: closed before CONNECTION (code ${ev.code})`));
        for (const w of [...c.waiters]) w.fail(new Error(`${label}: socket closed (code ${ev.code})`));
      };
      // Node 20's WebSocket (undici) fires only `error`, never `close`, when the upgrade is refused (HTTP 403).
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error(`${label}: socket error before CONNECTION`));
      };
    });
  }

  send(action, channelName, event, payload = {}) {
    const requestId = randomUUID();
    this.ws.send(JSON.stringify({ action, event, channelName, requestId, payload }));
    return requestId;
  }

  /** The first frame (already received after `from`, or coming) that matches. */
  waitFor(pred, what, timeoutMs = 10_000, from = 0) {
    const seen = this.frames.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.reject(new Error(`${this.label}: socket closed, waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        done: (f) => {
          cleanup();
          resolve(f);
        },
        fail: (e) => {
          cleanup();
          reject(e);
        },
      };
      const timer = setTimeout(() => w.fail(new Error(`${this.label}: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((x) => x !== w);
      };
      this.waiters.push(w);
    });
  }

  async join(channel, params) {
    const rid = this.send('JOIN_CHANNEL', channel, 'JOIN_CHANNEL', params);
    await this.waitFor((f) => f.requestId === rid && f.event === 'ACKNOWLEDGE', `join ${channel}`);
  }

  async request(channel, event, payload = {}) {
    const rid = this.send('BROADCAST', channel, event, payload);
    return this.waitFor((f) => f.requestId === rid && f.action === 'SYSTEM', `reply to ${event}`);
  }

  /** Resolves with the close event, or the one already seen. */
  waitClosed(timeoutMs = 10_000) {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: socket still open`)), timeoutMs);
      this.ws.addEventListener('close', (ev) => {
        clearTimeout(timer);
        resolve({ code: ev.code, reason: ev.reason });
      });
    });
  }

  close() {
    if (!this.closed) this.ws.close();
  }
}

/** Whether connecting with this token is accepted (CONNECTION) or refused (socket closed without it). */
async function accepted(wsUrl, token) {
  try {
    const c = await Client.connect(wsUrl, token, `probe(${token})`);
    c.close();
    return true;
  } catch {
    return false;
  }
}

function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

function pgrep(pattern) {
  const r = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
  return r.stdout.trim();
}

/** The presence list `client` gets after a `status` update of its own (its node's view of the channel). */
async function presenceSeenBy(client, channel) {
  const from = client.frames.length;
  client.send('BROADCAST', channel, 'status', { tick: randomUUID() });
  const frame = await client.waitFor(
    (f) => f.action === 'PRESENCE' && f.event === 'UPDATE' && f.channelName === channel,
    'PRESENCE UPDATE',
    10_000,
    from,
  );
  return frame.payload.presence;
}

async function main() {
  const presenceWait = (() => {
    const i = process.argv.indexOf('--presence-wait');
    return i < 0 ? 0 : Number(process.argv[i + 1]);
  })();
  if (!clusterAvailable()) {
    throw new Error('redis-server is not on PATH (scripts/setup.sh installs it): cannot run the cluster self-test');
  }
  const dir = mkdtempSync(join(tmpdir(), 'pondsocket-cluster-selftest-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'good\n');
  const clients = [];
  let cluster;
  try {
    let t = Date.now();
    cluster = await startCluster({ nodes: 3, tokenFile });
    note(`cluster READY in ${Date.now() - t} ms: redis ${cluster.redis}; ` +
      cluster.nodes.map((n) => `${n.name} ${n.url} pid ${n.pid}`).join('; '));
    check(cluster.nodes.length === 3 && cluster.nodes.every((n, i) => n.name === `node-${'abc'[i]}`), 'three nodes');
    check(new Set(cluster.nodes.map((n) => n.url)).size === 3, 'each node on its own port');
    const [a, b, c] = cluster.nodes;
    const room = `/chat/x-${randomUUID().slice(0, 8)}`;

    // Two clients on two nodes.
    const alice = await Client.connect(a.ws, 'good', 'alice@node-a');
    clients.push(alice);
    const bob = await Client.connect(b.ws, 'good', 'bob@node-b');
    clients.push(bob);
    await alice.join(room, { name: 'alice' });
    const bobJoinSeen = alice.frames.length;
    await bob.join(room, { name: 'bob' });

    for (const [client, node] of [[alice, a], [bob, b]]) {
      const reply = await client.request(room, 'whoami', {});
      check(reply.event === 'whoami' && reply.payload.node === node.name && reply.payload.id === client.id,
        `whoami on ${node.name} -> ${JSON.stringify(reply.payload)}`);
    }

    const join = await alice.waitFor(
      (f) => f.action === 'PRESENCE' && f.event === 'JOIN' && f.payload?.changed?.name === 'bob',
      'PRESENCE JOIN of bob', 10_000, bobJoinSeen);
    check(true, `presence crosses nodes: alice (node-a) got JOIN of bob (node-b): ${JSON.stringify(join.payload)}`);

    // Broadcasts, both directions.
    let from = bob.frames.length;
    alice.send('BROADCAST', room, 'broadcast', { text: 'hello from a' });
    const got = await bob.waitFor(
      (f) => f.action === 'BROADCAST' && f.event === 'message' && f.payload.text === 'hello from a', 'broadcast',
      10_000, from);
    check(got.channelName === room, 'broadcast from node-a reaches a client on node-b');
    from = alice.frames.length;
    bob.send('BROADCAST', room, 'broadcast-others', { text: 'hello from b' });
    await alice.waitFor((f) => f.event === 'message' && f.payload.text === 'hello from b', 'broadcast-others', 10_000,
      from);
    check(true, 'broadcast-others from node-b reaches a client on node-a');

    const seenByB = await presenceSeenBy(bob, room);
    note(`node-b's presence list: ${JSON.stringify(seenByB)}`);
    check(seenByB.some((p) => p.name === 'alice'), "node-b's presence holds alice (joined on node-a)");

    // Token rotation: --token-file is read at every connection.
    check(await accepted(c.ws, 'good'), 'token "good" accepted while the file says so');
    writeFileSync(tokenFile, 'rotated-1\n');
    check(!(await accepted(c.ws, 'good')), 'after rewriting the token file, "good" is declined');
    check(await accepted(c.ws, 'rotated-1'), 'and the new token is accepted');
    writeFileSync(tokenFile, 'good');

    // kill -9 node-a: alice loses her socket; bob (node-b) keeps working.
    const oldPid = a.pid;
    t = Date.now();
    await cluster.kill('node-a');
    note(`kill node-a answered in ${Date.now() - t} ms`);
    check(a.pid === null && processGone(oldPid), `node-a (pid ${oldPid}) is gone`);
    const closed = await alice.waitClosed();
    check(true, `alice's socket closed (code ${closed.code})`);
    const afterKill = await presenceSeenBy(bob, room);
    note(`node-b's presence list right after the kill: ${JSON.stringify(afterKill)}`);
    note(afterKill.some((p) => p.name === 'alice')
      ? 'alice (node-a, killed) is STILL in node-b\'s presence (no LEAVE: node-b only drops it after the heartbeat timeout)'
      : 'alice is no longer in node-b\'s presence');

    if (presenceWait > 0) {
      const killedAt = Date.now();
      let gone = false;
      while (Date.now() - killedAt < presenceWait * 1000) {
        const list = await presenceSeenBy(bob, room);
        if (!list.some((p) => p.name === 'alice')) {
          gone = true;
          break;
        }
        await sleep(2_000);
      }
      note(gone
        ? `alice left node-b's presence ${Math.round((Date.now() - killedAt) / 1000)} s after node-a was killed`
        : `alice still in node-b's presence after ${presenceWait} s`);
    }

    // Restart node-a on the same port.
    const oldUrl = a.url;
    t = Date.now();
    await cluster.start('node-a');
    note(`start node-a answered in ${Date.now() - t} ms (pid ${a.pid})`);
    check(a.url === oldUrl && a.pid > 0 && a.pid !== oldPid, `node-a back on the same URL ${a.url}`);
    const alice2 = await Client.connect(a.ws, 'good', 'alice2@node-a');
    clients.push(alice2);
    await alice2.join(room, { name: 'alice2' });
    const who = await alice2.request(room, 'whoami', {});
    check(who.payload.node === 'node-a', 'whoami on the restarted node-a');
    from = alice2.frames.length;
    bob.send('BROADCAST', room, 'broadcast', { text: 'after restart' });
    await alice2.waitFor((f) => f.event === 'message' && f.payload.text === 'after restart', 'broadcast', 10_000, from);
    check(true, 'broadcast from node-b reaches the restarted node-a');

    // Errors are answered, not fatal.
    await cluster.kill('node-z').then(
      () => { throw new Error('kill node-z succeeded'); },
      (err) => check(/unknown node/.test(err.message), `kill of an unknown node rejected: ${err.message}`));
    await cluster.start('node-b').then(
      () => { throw new Error('start of a running node succeeded'); },
      (err) => check(/is running/.test(err.message), `start of a running node rejected: ${err.message}`));

    for (const cl of clients) cl.close();
    const pids = cluster.nodes.map((n) => n.pid);
    const redisPort = new URL(cluster.redis).port;
    t = Date.now();
    const code = await cluster.stop();
    note(`stop answered in ${Date.now() - t} ms`);
    check(code === 0, 'scripts/cluster.sh exited 0 on EOF');
    check(pids.every(processGone), 'no node left running');
    check(pgrep(`redis-server 127.0.0.1:${redisPort}`) === '', 'no redis-server left running');
    cluster = null;

    // The `--` mode: the command sees the cluster, its status is the script's.
    const script = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));
    const run = spawnSync('bash', [script, '--nodes', '2', '--', 'bash', '-c',
      'echo "urls=$CLUSTER_URLS redis=$CLUSTER_REDIS"; curl -sf "${CLUSTER_URLS%% *}/health"; echo; exit 7'],
      { encoding: 'utf8', timeout: 120_000 });
    note(`-- mode stdout: ${JSON.stringify(run.stdout)}`);
    check(run.status === 7, `-- mode exits with the command's status (got ${run.status})`);
    check(/^urls=http:\/\/127\.0\.0\.1:\d+ http:\/\/127\.0\.0\.1:\d+ redis=redis:\/\/127\.0\.0\.1:\d+\nok\n$/
      .test(run.stdout), '-- mode: CLUSTER_URLS and CLUSTER_REDIS set, stdout left to the command');
    const pidsOfRun = [...run.stderr.matchAll(/^NODE \S+ \S+ (\d+)$/gm)].map((m) => Number(m[1]));
    check(pidsOfRun.length === 2 && pidsOfRun.every(processGone), '-- mode: its nodes are gone afterwards');
    note('all checks passed');
  } finally {
    for (const cl of clients) cl.close();
    if (cluster) await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
