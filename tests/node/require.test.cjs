// The package through require(), as a CommonJS user would load it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { PondClient, ChannelState, ResponseTimeoutError } = require('pondsocket-wasm');

const url = process.env.PONDSOCKET_TEST_URL;

function waitFor(subscribe, accept) {
  return new Promise((resolve) => {
    const unsubscribe = subscribe((value) => {
      if (accept(value)) {
        queueMicrotask(() => unsubscribe());
        resolve(value);
      }
    });
  });
}

test('require: join, request, timeout, disconnect', async () => {
  const client = new PondClient(url, { token: 'good' });
  client.connect();
  const channel = client.createChannel(`/chat/cjs-${process.pid}`, { name: 'cjs' });
  channel.join();
  await waitFor((cb) => channel.onChannelStateChange(cb), (s) => s === ChannelState.JOINED);
  assert.deepEqual(await channel.sendForResponse('ping', { x: 1 }), { x: 1 });
  await assert.rejects(channel.sendForResponse('late', { delayMs: 500 }, 20), ResponseTimeoutError);
  assert.equal(channel.presence.length, 1);
  assert.equal(channel.presence[0].name, 'cjs');
  client.disconnect();
  assert.equal(channel.channelState, 'CLOSED');
});
