// The package's JS surface around the wasm classes: state names as objects, the error classes, route-pattern events
// and channel definitions (what the host's RegExp, encodeURIComponent and URLSearchParams do for free).
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

  // Upstream's class of the same name (@eleven-am/pondsocket-common): its message and its `route`.
  class PondRouteError extends PondSocketError {
    constructor(message, route) {
      super('Invalid PondSocket route "' + route + '": ' + message, 'PondRouteError');
      this.route = route;
    }
  }

  const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
  const mustBeFunction = (callback) => {
    if (typeof callback !== 'function') throw new TypeError('`callback` must be a function, got ' + kind(callback));
  };

  // Routes as upstream's parsePondRoute/buildPondRoute define them: `:name` segments (JS identifiers), at most one
  // `*` segment. Compiled once per pattern: [keys, RegExp].
  const compiled = new Map();
  const compileRoute = (route) => {
    let found = compiled.get(route);
    if (found) return found;
    if (route.includes('?')) throw new PondRouteError('query strings are not allowed in route declarations', route);
    const keys = [];
    const source = route.split('/').map((segment) => {
      if (segment === '*') {
        if (keys.includes('*')) throw new PondRouteError('a wildcard can only appear once', route);
        keys.push('*');
        return '(.*)';
      }
      if (segment.includes('*')) throw new PondRouteError('wildcards must occupy an entire path segment', route);
      if (segment[0] === ':') {
        const key = segment.slice(1);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
          throw new PondRouteError('parameter names must be non-empty JavaScript identifiers', route);
        }
        if (keys.includes(key)) throw new PondRouteError('duplicate parameter "' + key + '"', route);
        keys.push(key);
        return '([^/]+)';
      }
      if (segment.includes(':')) throw new PondRouteError('parameters must occupy an entire path segment', route);
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
    found = [keys, new RegExp('^' + source.join('/') + '$')];
    if (compiled.size < 1000) compiled.set(route, found);
    return found;
  };
  // An event name is a pattern when a segment starts with `:` or is exactly `*`; any other name is matched as it
  // is (so names upstream refuses, like `user:typing`, keep working).
  const isPattern = (name) => typeof name === 'string' && /(^|\/)(:|\*(\/|$))/.test(name);

  const decode = (value) => {
    try { return decodeURIComponent(value); } catch { return value; }
  };
  const queryOf = (text) => {
    const query = {};
    new URLSearchParams(text).forEach((value, key) => { query[key] = value; });
    return query;
  };
  const NO_PARAMS = Object.freeze({ params: Object.freeze({}), query: Object.freeze({}) });
  // `{ params, query }` of an incoming event for a compiled pattern, or null when it does not match.
  const matchRoute = ([keys, regexp], event) => {
    const at = event.indexOf('?');
    const match = regexp.exec(at < 0 ? event : event.slice(0, at));
    if (!match) return null;
    const params = {};
    keys.forEach((key, i) => {
      params[key] = key === '*' ? ('/' + match[i + 1]).replace(/\/+/g, '/') : decode(match[i + 1]);
    });
    return { params, query: at < 0 ? {} : queryOf(event.slice(at + 1)) };
  };
  // The event name to send: a pattern's values URI-encoded (the wildcard's as it is, without leading slashes).
  const buildRoute = (route, params) => {
    compileRoute(route);
    if (params !== undefined && params !== null && typeof params !== 'object') {
      throw new TypeError('route params must be an object, got ' + kind(params));
    }
    return route.split('/').map((segment) => {
      const key = segment === '*' ? '*' : segment[0] === ':' ? segment.slice(1) : null;
      if (key === null) return segment;
      let value = params?.[key];
      if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
      if (typeof value !== 'string' || value === '') {
        throw new PondRouteError('missing value for parameter "' + key + '"', route);
      }
      return key === '*' ? value.replace(/^\/+/, '') : encodeURIComponent(value);
    }).join('/');
  };
  const eventName = (event, params) => (isPattern(event) ? buildRoute(event, params) : event);

  const define = (Class, name, value) =>
    Object.defineProperty(Class.prototype, name, { value, writable: true, configurable: true });

  // An AbortSignal option (`{ signal }`), checked; undefined when none is given.
  const signalOf = (options, name) => {
    if (options === undefined || options === null) return undefined;
    if (typeof options !== 'object') throw new TypeError('`' + name + '` must be an object, got ' + kind(options));
    const { signal } = options;
    if (signal !== undefined && (typeof signal !== 'object' || signal === null
      || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')) {
      throw new TypeError('`' + name + '.signal` must be an AbortSignal, got ' + kind(signal));
    }
    return signal;
  };
  const abortReason = (signal) => signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
  // A subscription that also ends when `signal` aborts (at once if it already has).
  const untilAborted = (unsubscribe, signal) => {
    if (signal === undefined) return unsubscribe;
    if (signal.aborted) {
      unsubscribe();
      return unsubscribe;
    }
    signal.addEventListener('abort', unsubscribe, { once: true });
    return () => {
      signal.removeEventListener('abort', unsubscribe);
      unsubscribe();
    };
  };

  // The subscription methods, each a call of the class's one `__on` export (one shim in the wasm, not eleven), with
  // the method's index in the list as its kind, and an optional last argument `{ signal }`. Kind 1 of a channel,
  // onMessageEvent, is defined below.
  const subscriptions = (Class, names) => names.forEach((name, at) => name && define(Class, name,
    function (callback, options) {
      const signal = signalOf(options, 'options');
      return untilAborted(Class === wasm.Channel ? this.__on(at, undefined, callback) : this.__on(at, callback), signal);
    }));
  subscriptions(wasm.PondClient, ['onConnectionChange', 'onError', 'onReconnectScheduled']);
  subscriptions(wasm.Channel, ['onMessage', null, 'onJoin', 'onLeave', 'onPresenceChange', 'onUsersChange',
    'onChannelStateChange', 'onError']);

  // `callback(payload, { params, query })`. A plain name is routed in the wasm by name (its query string, if any,
  // comes as a second argument); a pattern is matched here against every message of the channel.
  define(wasm.Channel, 'onMessageEvent', function (event, callback, options) {
    const signal = signalOf(options, 'options');
    if (!isPattern(event)) {
      return untilAborted(this.__on(1, event, typeof callback !== 'function' ? callback
        : (payload, query) => callback(payload, query === undefined ? NO_PARAMS : { params: {}, query: queryOf(query) })),
      signal);
    }
    // Compiled once, here: each message is only matched.
    const route = compileRoute(event);
    mustBeFunction(callback);
    return untilAborted(this.__on(0, undefined, (name, payload) => {
      const eventParams = matchRoute(route, name);
      if (eventParams !== null) callback(payload, eventParams);
    }), signal);
  });

  const { sendMessage, sendForResponse } = wasm.Channel.prototype;
  define(wasm.Channel, 'sendMessage', function (event, payload, params) {
    return sendMessage.call(this, eventName(event, params), payload);
  });
  // (event, payload, timeoutMs | { timeoutMs, signal }?) for a plain name, (event, payload, params, timeoutMs |
  // { timeoutMs, signal }?) for a pattern: a third-argument object is the route's params only when the event has
  // params; a number in either place is the timeout. Upstream's (event, payload, params, timeoutMs) on a plain name
  // still takes the timeout. Aborting the signal rejects with its reason, forgets the request and drops a late reply.
  define(wasm.Channel, 'sendForResponse', function (event, payload, third, fourth) {
    const pattern = isPattern(event);
    let params;
    let options = third;
    if (pattern && typeof third !== 'number') {
      params = third;
      options = fourth;
    } else if (!pattern && typeof fourth === 'number') {
      options = fourth;
    }
    let signal;
    let timeoutMs = options;
    try {
      if (typeof options !== 'number' && options !== undefined && options !== null) {
        signal = signalOf(options, 'options');
        timeoutMs = options.timeoutMs;
      }
      event = eventName(event, params);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const reply = sendForResponse.call(this, event, payload, timeoutMs);
    if (signal === undefined) return reply;
    const request = wasm.__lastRequest();
    return new Promise((resolve, reject) => {
      const abort = () => {
        reject(abortReason(signal));
        this.__abort(request);
      };
      signal.addEventListener('abort', abort, { once: true });
      const done = () => signal.removeEventListener('abort', abort);
      reply.then((value) => { done(); resolve(value); }, (error) => { done(); reject(error); });
    });
  });

  const isDefinition = (value) => typeof value === 'object' && value !== null && value.kind === 'pondsocket.channel';
  // createChannel(name, params?, { joinTimeout }?), or createChannel(definition, { params, joinParams, joinTimeout }?).
  define(wasm.PondClient, 'createChannel', function (nameOrDefinition, paramsOrOptions, options) {
    if (!isDefinition(nameOrDefinition)) {
      return this.__createChannel(nameOrDefinition, paramsOrOptions, options?.joinTimeout);
    }
    const given = paramsOrOptions ?? {};
    if (typeof given !== 'object') throw new TypeError('`options` must be an object, got ' + kind(given));
    const name = buildRoute(String(nameOrDefinition.path), given.params);
    return this.__createChannel(name, given.joinParams, given.joinTimeout);
  });

  // Upstream's schema helpers (@eleven-am/pondsocket-common): the schema is a type only; the path is checked now.
  const definePondSchema = () => Object.freeze({ kind: 'pondsocket.schema' });
  const definePondChannel = (schema, path = '*') => {
    compileRoute(path);
    return Object.freeze({
      kind: 'pondsocket.channel',
      path,
      schema,
      build: (params) => buildRoute(path, params),
    });
  };

  // Disposal (`using client = new PondClient(...)`, TypeScript 5.2+): a client disconnects and frees its handle; a
  // channel leaves and frees its handle. Once only: a disposed handle is gone.
  const dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');
  const disposed = new WeakSet();
  define(wasm.PondClient, dispose, function () {
    if (disposed.has(this)) return;
    disposed.add(this);
    this.disconnect();
    this.free();
  });
  define(wasm.Channel, dispose, function () {
    if (disposed.has(this)) return;
    disposed.add(this);
    this.leave();
    this.free();
  });

  // Upstream's class for Server-Sent Events: a PondClient whose transport is SSE (its options add withCredentials).
  class SSEClient extends wasm.PondClient {
    constructor(endpoint, params, options) {
      const sse = options === undefined || options === null ? { transport: 'sse' }
        : typeof options === 'object' ? { ...options, transport: 'sse' } : options;
      super(endpoint, params, sse);
    }
  }

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
    SSEClient,
    Channel: wasm.Channel,
    ConnectionState,
    ChannelState,
    PondSocketError,
    PondRouteError,
    definePondSchema,
    definePondChannel,
    ...errors,
  });
}
