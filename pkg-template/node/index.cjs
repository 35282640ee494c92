// Entry for Node's require(): the wasm is loaded synchronously from the file beside this one.
'use strict';
const wasm = require('./pondsocket_wasm.js');
const definePondSocket = require('./api.cjs');

module.exports = definePondSocket(wasm);
