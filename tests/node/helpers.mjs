// Shared by the Node suites: the server's address, unique names, waiting for events instead of sleeping, a TCP relay.
import { connect, createServer } from 'node:net';

export const url = process.env.PONDSOCKET_TEST_URL;
if (!url) throw new Error('PONDSOCKET_TEST_URL is not set: run through scripts/test-node.sh');
export const control = process.env.PONDSOCKET_CONTROL_URL;
/** The transport the suites run over (PONDSOCKET_TRANSPORT: websocket, sse or auto; scripts/test-node.sh sets it). */
export const transport = process.env.PONDSOCKET_TRANSPORT || 'websocket';
/** `Client` with the suite's transport in its options, unless they name one (a subclass: `instanceof` holds). */
export const overTransport = (Client) => (transport === 'websocket' ? Client : class extends Client {
  constructor(endpoint, params, options) {
    const given = options === undefined || options === null ? {} : options;
    super(endpoint, params, typeof given === 'object' ? { transport, ...given } : given);
  }
});
/** Skips a test that is about the WebSocket transport itself when the suite runs over another. */
export const webSocketOnly = { skip: transport !== 'websocket' && `about WebSocket; this run is over ${transport}` };

let counter = 0;
export const unique = (prefix) => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;

/** Resolves once `predicate()` is true, checked after each event the `subscribe` callback reports. */
export function until(predicate, what, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }
    }, 5);
  });
}

/** The next value a subscription method reports that satisfies `accept`. */
export function next(subscribe, accept = () => true, what = 'an event', timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    unsubscribe = subscribe((...args) => {
      if (accept(...args)) {
        clearTimeout(timer);
        queueMicrotask(() => unsubscribe());
        resolve(args.length > 1 ? args : args[0]);
      }
    });
  });
}

export const stateIs = (channel, state, timeoutMs) =>
  next((cb) => channel.onChannelStateChange(cb), (s) => s === state, `channel ${channel.name} ${state}`, timeoutMs);

export const connected = (client) =>
  next((cb) => client.onConnectionChange(cb), (s) => s === 'connected', 'connected');

export async function joinedClient(api, room, params = {}, options = {}) {
  const client = new (overTransport(api.PondClient))(url, { token: 'good' }, options);
  client.connect();
  const channel = client.createChannel(room, params);
  channel.join();
  await stateIs(channel, 'JOINED');
  return { client, channel };
}

/** Collects uncaught exceptions and rejections while a suite runs, and fails it at the end if there were any. */
export function watchUncaught(before, after) {
  const uncaught = [];
  const onUncaught = (error) => uncaught.push(error);
  before(() => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  after(() => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    if (uncaught.length) throw new Error(`escaped to the process: ${uncaught.map(String).join('; ')}`);
  });
}

/** A TCP relay to `target`'s host and port: `dropAll()` cuts every connection through it, as a dying server would. */
export async function proxy(target) {
  const { hostname, port, pathname, protocol } = new URL(target);
  const sockets = new Set();
  let paused = false;
  const server = createServer((inbound) => {
    if (paused) {
      inbound.destroy();
      return;
    }
    const outbound = connect(Number(port), hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${protocol}//127.0.0.1:${server.address().port}${pathname}`,
    dropAll: () => { for (const s of sockets) s.destroy(); },
    /** While paused, connections are cut as they arrive: the server looks down. */
    pause: () => { paused = true; },
    resume: () => { paused = false; },
    close: () => server.close(),
  };
}
