// Entry for Node's require(): the wasm is loaded synchronously from the file beside this one.
'use strict';
const wasm = require('./pondsocket_wasm.js');
const definePondSocket = require('./api.cjs');

// Node 20 has no global WebSocket (without --experimental-websocket): then the optional peer dependency `ws` is
// loaded the first time a client connects without the `WebSocket` option, and only then.
if (typeof globalThis.WebSocket !== 'function') {
  Object.defineProperty(globalThis, Symbol.for('pondsocket.WebSocket'), {
    configurable: true,
    value: () => require('ws'),
  });
}

module.exports = definePondSocket(wasm);
