// The package's JS surface around the wasm classes: state names as objects and the error classes.
// scripts/build-pkg.sh wraps this file as an ES module (api.mjs) and as CommonJS (node/api.cjs).

function definePondSocket(wasm) {
  const ConnectionState = Object.freeze({
    DISCONNECTED: 'disconnected',
    CONNECTING: 'connecting',
    CONNECTED: 'connected',
  });

  const ChannelState = Object.freeze({
    IDLE: 'IDLE',
    JOINING: 'JOINING',
    JOINED: 'JOINED',
    STALLED: 'STALLED',
    CLOSED: 'CLOSED',
    DECLINED: 'DECLINED',
  });

  // Explicit names: a minifier may rename the classes, and `error.name` must not change with it.
  class PondSocketError extends Error {
    constructor(message, name) {
      super(message);
      Object.defineProperty(this, 'name', { value: name ?? 'PondSocketError', configurable: true, writable: true });
    }
  }
  const errorClass = (name) => ({ [name]: class extends PondSocketError {
    constructor(message) { super(message, name); }
  } })[name];

  // The subscription methods, each a call of the class's one `__on` export (one shim in the wasm, not eleven).
  const subscriptions = (Class, names) => names.forEach((name, kind) => {
    const method = name === 'onMessageEvent'
      ? function (event, callback) { return this.__on(kind, event, callback); }
      : Class === wasm.Channel
        ? function (callback) { return this.__on(kind, undefined, callback); }
        : function (callback) { return this.__on(kind, callback); };
    Object.defineProperty(Class.prototype, name, { value: method, writable: true, configurable: true });
  });
  subscriptions(wasm.PondClient, ['onConnectionChange', 'onError', 'onReconnectScheduled']);
  subscriptions(wasm.Channel, ['onMessage', 'onMessageEvent', 'onJoin', 'onLeave', 'onPresenceChange', 'onUsersChange',
    'onChannelStateChange', 'onError']);

  const errors = {
    ResponseTimeoutError: errorClass('ResponseTimeoutError'),
    RequestCancelledError: errorClass('RequestCancelledError'),
    ChannelUnavailableError: errorClass('ChannelUnavailableError'),
    MalformedFrameError: errorClass('MalformedFrameError'),
    ServerError: errorClass('ServerError'),
    ConnectionError: errorClass('ConnectionError'),
    CallbackError: errorClass('CallbackError'),
  };
  wasm.__registerErrorClasses(errors);

  return Object.freeze({
    // Not API: what memory tests and benchmarks read ({ liveBytes, memoryBytes } of the wasm instance).
    __diagnostics: wasm.__diagnostics,
    PondClient: wasm.PondClient,
    Channel: wasm.Channel,
    ConnectionState,
    ChannelState,
    PondSocketError,
    ...errors,
  });
}
