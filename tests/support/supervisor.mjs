#!/usr/bin/env node
// Supervisor for the PondSocket test server (tests/server): lets tests kill
// the server abruptly and start it again on the SAME port while their clients
// stay alive, through a small HTTP control API. Node >= 20, no dependencies.
//
//   node tests/support/supervisor.mjs --server <binary> [--static DIR]
//        [--port N] [--control-port N] [--exit-with-parent] [-- <extra server args>]
//
// * The first start uses `--port 0` (or `--port N`: that port, failing at once
//   if it is taken); the port printed in the server's
//   `LISTENING http://127.0.0.1:<port>` line is reused by every later start
//   (retried for up to 10 s while the port is not bindable yet).
// * Once ready, exactly one line goes to stdout:
//   `SUPERVISOR http://127.0.0.1:<control> SERVER http://127.0.0.1:<port>`.
//   Everything else (the server's stderr and later stdout, prefixed
//   `[server] `, and the supervisor's own `[supervisor] ` notes) goes to stderr.
// * Control API on 127.0.0.1:<control>, CORS `*` (preflights answered), JSON:
//     GET  /info     {http, ws, running, starts, pid, port, control, lastExit}
//     POST /kill     SIGKILL the server (like a crash), wait for its exit.
//                    `?signal=SIGTERM` sends that signal instead (the server
//                    then closes every socket with a Close frame first).
//     POST /start    start it on the same port; answers once it is LISTENING.
//     POST /restart  kill, wait `?downMs=N` ms (default 0), start.
//                    Also takes `?signal=`.
//   GET works for kill/start/restart too. kill/start are idempotent (killing a
//   stopped server or starting a running one succeeds and changes nothing).
//   Every action answers the /info object after the action. Actions are
//   serialised (one at a time, in arrival order). Unknown paths: 404 JSON;
//   failures: 500 `{error}`.
// * The server is never restarted on its own: if it dies unexpectedly,
//   /info shows `running: false` until someone calls /start.
// * SIGTERM/SIGINT: stop the server (SIGTERM, SIGKILL after 3 s) and exit 0.
//   `--exit-with-parent`: do the same when the parent process goes away
//   (checked every 500 ms), so a killed test script leaves nothing behind.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = '127.0.0.1';
const LISTEN_TIMEOUT_MS = 30_000; // one start attempt: spawn → LISTENING
const REBIND_WINDOW_MS = 10_000; // keep retrying a fixed port this long
const STOP_GRACE_MS = 3_000; // SIGTERM → SIGKILL on supervisor shutdown

const USAGE =
  'usage: node supervisor.mjs --server <binary> [--static DIR] [--port N] [--control-port N] ' +
  '[--exit-with-parent] [-- <extra server args>]';

function note(msg) {
  process.stderr.write(`[supervisor] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`supervisor: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { server: null, staticDir: null, port: 0, controlPort: 0, exitWithParent: false, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--server': opts.server = value(); break;
      case '--static': opts.staticDir = value(); break;
      case '--port': {
        const v = value();
        opts.port = Number(v);
        if (!/^\d+$/.test(v) || opts.port > 65535) fail(`invalid --port ${v}`);
        break;
      }
      case '--control-port': {
        const v = value();
        opts.controlPort = Number(v);
        if (!/^\d+$/.test(v) || opts.controlPort > 65535) fail(`invalid --control-port ${v}`);
        break;
      }
      case '--exit-with-parent': opts.exitWithParent = true; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      case '--': opts.extra = argv.slice(i + 1); i = argv.length; break;
      default: fail(`unknown argument ${arg}`);
    }
  }
  if (!opts.server) fail('--server is required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------- server child

const state = {
  port: opts.port, // 0 (OS-chosen) until the first LISTENING line, unless --port
  child: null, // ChildProcess while running (or starting)
  exited: null, // Promise resolved when `child` exits
  running: false, // true between LISTENING and exit
  starts: 0, // successful starts
  lastExit: null, // {code, signal, expected}
  shuttingDown: false,
};

let expectedExit = false;

/** Forwards a stream line by line to stderr with `[server] ` in front. */
function forwardLines(stream, onLine) {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (onLine && onLine(line)) return;
    process.stderr.write(`[server] ${line}\n`);
  });
}

/**
 * One attempt: spawn the server, resolve with the port once it printed
 * LISTENING; reject (with `.exitedEarly = true` if it exited) otherwise.
 */
function spawnOnce(port) {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port)];
    if (opts.staticDir) args.push('--static', opts.staticDir);
    args.push(...opts.extra);
    const child = spawn(opts.server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const recentStderr = [];
    let listening = false;
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };

    state.child = child;
    state.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    state.exited.then(({ code, signal }) => {
      if (state.child === child) {
        state.child = null;
        state.running = false;
      }
      if (!listening) {
        const err = new Error(
          `server exited before LISTENING (code ${code}, signal ${signal})` +
            (recentStderr.length ? `: ${recentStderr.join(' | ')}` : ''),
        );
        err.exitedEarly = true;
        settle(reject, err);
        return;
      }
      state.lastExit = { code, signal, expected: expectedExit };
      if (!expectedExit && !state.shuttingDown) {
        note(`server (pid ${child.pid}) exited unexpectedly (code ${code}, signal ${signal}); not restarting`);
      }
    });
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): no 'exit' event follows.
      if (state.child === child) {
        state.child = null;
        state.running = false;
      }
      settle(reject, new Error(`cannot run ${opts.server}: ${err.message}`));
    });

    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(reject, new Error(`server printed no LISTENING line within ${LISTEN_TIMEOUT_MS} ms`));
    }, LISTEN_TIMEOUT_MS);

    forwardLines(child.stderr, (line) => {
      recentStderr.push(line);
      if (recentStderr.length > 10) recentStderr.shift();
      return false;
    });
    forwardLines(child.stdout, (line) => {
      if (listening) return false;
      const m = /^LISTENING http:\/\/127\.0\.0\.1:(\d+)\s*$/.exec(line);
      if (!m) {
        // Unexpected output before LISTENING (e.g. another host): keep it visible.
        return false;
      }
      listening = true;
      state.running = true;
      settle(resolve, Number(m[1]));
      return true;
    });
  });
}

/** Starts the server (no-op when running). Reuses the known port. */
async function startServer() {
  if (state.running) return;
  if (state.child) {
    // A child that is not running yet cannot exist outside the queue; be safe.
    throw new Error('server is in an unexpected state (child without LISTENING)');
  }
  const deadline = Date.now() + REBIND_WINDOW_MS;
  let delay = 50;
  for (;;) {
    if (state.shuttingDown) throw new Error('supervisor is shutting down');
    expectedExit = false;
    try {
      const port = await spawnOnce(state.port);
      if (state.port && port !== state.port) {
        throw new Error(`server came up on port ${port}, expected ${state.port}`);
      }
      state.port = port;
      state.starts += 1;
      note(`server started (pid ${state.child.pid}) on port ${port}, start #${state.starts}`);
      return;
    } catch (err) {
      // Only a server that exited early on its port after a kill is worth
      // retrying (typically EADDRINUSE for a moment); a first start on a
      // --port that is taken fails at once.
      if (!err.exitedEarly || !state.starts || Date.now() >= deadline) throw err;
      note(`start failed, retrying: ${err.message}`);
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
    }
  }
}

/** Sends `signal` to the server and waits for it to exit (no-op when stopped). */
async function killServer(signal = 'SIGKILL') {
  const child = state.child;
  if (!child) return;
  expectedExit = true;
  const exited = state.exited;
  child.kill(signal);
  await exited;
}

/** Stop for good: SIGTERM, then SIGKILL if it lingers. */
async function stopServer() {
  const child = state.child;
  if (!child) return;
  expectedExit = true;
  const exited = state.exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

// -------------------------------------------------------------- control server

let queue = Promise.resolve();
/** Runs `fn` after every previously queued action has finished. */
function serialized(fn) {
  const run = queue.then(fn);
  queue = run.catch(() => {});
  return run;
}

let controlPort = 0;

function info() {
  const http = state.port ? `http://${HOST}:${state.port}` : null;
  return {
    http,
    ws: state.port ? `ws://${HOST}:${state.port}/socket` : null,
    running: state.running,
    starts: state.starts,
    pid: state.running && state.child ? state.child.pid : null,
    port: state.port,
    control: `http://${HOST}:${controlPort}`,
    lastExit: state.lastExit,
  };
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Max-Age': '600',
  // Chrome's Private Network Access preflight (page on a non-local origin).
  'Access-Control-Allow-Private-Network': 'true',
};

function send(res, status, body) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...CORS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

const SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']);

function signalParam(url) {
  let signal = url.searchParams.get('signal') ?? 'SIGKILL';
  signal = signal.toUpperCase();
  if (!signal.startsWith('SIG')) signal = `SIG${signal}`;
  if (!SIGNALS.has(signal)) throw Object.assign(new Error(`unsupported signal ${signal}`), { status: 400 });
  return signal;
}

const ACTIONS = {
  async kill(url) {
    const signal = signalParam(url);
    await serialized(() => killServer(signal));
  },
  async start() {
    await serialized(() => startServer());
  },
  async restart(url) {
    const signal = signalParam(url);
    const raw = url.searchParams.get('downMs') ?? '0';
    const downMs = Number(raw);
    if (!Number.isFinite(downMs) || downMs < 0 || downMs > 600_000) {
      throw Object.assign(new Error(`invalid downMs ${raw}`), { status: 400 });
    }
    await serialized(async () => {
      await killServer(signal);
      if (downMs > 0) await sleep(downMs);
      await startServer();
    });
  },
};

async function handle(req, res) {
  const url = new URL(req.url, `http://${HOST}`);
  const name = url.pathname.replace(/^\/+|\/+$/g, '');
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      ...CORS,
      'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
    });
    res.end();
    return;
  }
  // Drain any request body; none is used.
  req.resume();
  if (name === 'info' || name === '') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
    return send(res, 200, info());
  }
  const action = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : null;
  if (!action) return send(res, 404, { error: `no such endpoint ${url.pathname}` });
  if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { error: 'use POST (or GET)' });
  try {
    await action(url);
    send(res, 200, info());
  } catch (err) {
    note(`${name} failed: ${err.message}`);
    send(res, err.status ?? 500, { error: err.message, ...info() });
  }
}

const control = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, 500, { error: String(err && err.message) });
  });
});
control.keepAliveTimeout = 1_000;

// -------------------------------------------------------------------- shutdown

let shutdownPromise = null;
function shutdown(reason, exitCode = 0) {
  if (shutdownPromise) return shutdownPromise;
  state.shuttingDown = true;
  note(`${reason}: stopping`);
  shutdownPromise = (async () => {
    try {
      await stopServer();
    } catch (err) {
      note(`stopping the server failed: ${err.message}`);
    }
    control.close();
    control.closeAllConnections?.();
    process.exit(exitCode);
  })();
  return shutdownPromise;
}

// A reader that went away (EPIPE) must not take the server down with us.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
// Last resort (uncaught error, process.exit elsewhere): never leave the server behind.
process.on('exit', () => {
  if (state.child) {
    try {
      state.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
process.on('uncaughtException', (err) => {
  process.stderr.write(`supervisor: uncaught ${err && err.stack}\n`);
  shutdown('uncaught exception', 1);
});

if (opts.exitWithParent) {
  const parent = process.ppid;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (err) {
      if (err.code === 'ESRCH') shutdown(`parent ${parent} is gone`);
    }
  }, 500).unref();
}

// ----------------------------------------------------------------------- main

try {
  await serialized(() => startServer());
} catch (err) {
  process.stderr.write(`supervisor: cannot start the server: ${err.message}\n`);
  process.exit(1);
}

control.on('error', (err) => {
  process.stderr.write(`supervisor: control server: ${err.message}\n`);
  shutdown('control server error', 1);
});
control.listen(opts.controlPort, HOST, () => {
  controlPort = control.address().port;
  process.stdout.write(`SUPERVISOR http://${HOST}:${controlPort} SERVER http://${HOST}:${state.port}\n`);
});
