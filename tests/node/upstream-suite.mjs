// Code written for @eleven-am/pondsocket-client (0.0.32 and 0.0.39), in that client's own style (its README's
// examples, its schema example with '/chat/:roomId', route events, sendForResponse with params and a timeout),
// run against our package. Plain JS with no test framework, so that the same file runs in Node
// (upstream.test.mjs) and in browsers (tests/vite/upstream.js, tests/playwright/upstream.test.mjs).
//
//   cases(api, url, { sse }) -> [[name, async () => {...}], ...]
//     api: the package's exports; url: the server's ws URL; sse: the server also speaks SSE (adds SSEClient's case)
// A case throws on failure; each one makes its own client and disconnects it.

const fail = (message) => { throw new Error(message); };
const ok = (condition, message) => { if (!condition) fail(message); };
const same = (actual, expected, what) => {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
};
let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

/** Resolves with the first value `subscribe(callback)` reports that passes `accept`; rejects after `ms`. */
const first = (subscribe, what, accept = () => true, ms = 5000) => new Promise((resolve, reject) => {
  let unsubscribe = () => {};
  const timer = setTimeout(() => { unsubscribe(); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)); }, ms);
  unsubscribe = subscribe((...args) => {
    if (!accept(...args)) return;
    clearTimeout(timer);
    // Called from inside the subscription; unsubscribing there is allowed, but not before it returned a function.
    queueMicrotask(() => unsubscribe());
    resolve(args);
  });
});

export function cases(api, url, { sse = false } = {}) {
  const { PondClient, SSEClient, ConnectionState, ChannelState, PondRouteError, ResponseTimeoutError, definePondSchema,
    definePondChannel } = api;

  const connected = async (params = { token: 'good' }) => {
    const socket = new PondClient(url, params);
    const up = first((cb) => socket.onConnectionChange(cb), 'the connection', (state) => state === ConnectionState.CONNECTED);
    socket.connect();
    await up;
    return socket;
  };
  const joined = async (socket, channel) => {
    const state = first((cb) => channel.onChannelStateChange(cb), `${channel.name} to join`,
      (s) => s === ChannelState.JOINED || s === ChannelState.DECLINED);
    channel.join();
    const [final] = await state;
    same(final, ChannelState.JOINED, `${channel.name}'s state`);
    return channel;
  };
  const withClient = (body) => async () => {
    const socket = await connected();
    try {
      await body(socket);
    } finally {
      socket.disconnect();
    }
  };

  const sseCases = !sse ? [] : [
    ['README (0.0.39): SSEClient for networks that block WebSocket upgrades', async () => {
      const socket = new SSEClient(url.replace(/^ws/, 'http'), { token: 'good' }, { withCredentials: false });
      const up = first((cb) => socket.onConnectionChange(cb), 'the SSE connection', (s) => s === ConnectionState.CONNECTED);
      socket.connect();
      try {
        await up;
        same(socket.getTransport(), 'sse', 'getTransport()');
        ok(typeof socket.getConnectionId() === 'string' && socket.getConnectionId().length > 0, 'getConnectionId()');
        const channel = socket.createChannel(`/chat/${unique('sse')}`, { username: 'cy' });
        const message = first((cb) => channel.onMessageEvent('message', cb), 'the broadcast over SSE');
        await joined(socket, channel);
        channel.sendMessage('broadcast', { over: 'sse' });
        same((await message)[0], { over: 'sse' }, 'the message');
        same(await channel.sendForResponse('item/:id', { n: 3 }, { id: 'x y' }, 3000), { id: 'x y', payload: { n: 3 } },
          'a request with route params');
      } finally {
        socket.disconnect();
      }
      same(socket.getConnectionId(), undefined, 'no connection id once disconnected');
    }],
  ];

  return [
    ...sseCases,
    ['README (0.0.32): connect, join, listen, broadcast, presence', withClient(async (socket) => {
      same(socket.getState(), ConnectionState.CONNECTED, 'getState()');
      const channel = socket.createChannel(`/chat/${unique('readme')}`, { username: 'ann' });
      const message = first((cb) => channel.onMessageEvent('message', cb), 'the broadcast');
      const users = first((cb) => channel.onUsersChange(cb), 'the presence', (list) => list.length === 1);
      await joined(socket, channel);
      channel.sendMessage('broadcast', { text: 'Hello, PondSocket!' });
      const [payload] = await message;
      same(payload, { text: 'Hello, PondSocket!' }, 'the message');
      const [[me]] = await users;
      same(me.username, 'ann', 'presence from the join params');
      same(channel.presence.map((p) => p.username), ['ann'], 'channel.presence (a getter)');
      const reply = await channel.sendForResponse('echo', { n: 1 });
      same(reply, { n: 1 }, 'sendForResponse with the default timeout');
      channel.leave();
      same(channel.channelState, ChannelState.CLOSED, 'after leave()');
    })],

    ['README (0.0.39): a schema channel for /chat/:roomId, made with its params, join params and timeout', withClient(async (socket) => {
      const chatSchema = definePondSchema();
      same(chatSchema.kind, 'pondsocket.schema', 'the schema token');
      const chatChannel = definePondChannel(chatSchema, '/chat/:roomId');
      same([chatChannel.kind, chatChannel.path], ['pondsocket.channel', '/chat/:roomId'], 'the definition');
      const room = unique('room a');
      same(chatChannel.build({ roomId: room }), `/chat/${encodeURIComponent(room)}`, 'build()');
      const channel = socket.createChannel(chatChannel, { params: { roomId: room }, joinParams: { username: 'bo' }, joinTimeout: 4000 });
      same(channel.name, `/chat/${encodeURIComponent(room)}`, 'the channel name built from the path');
      const users = first((cb) => channel.onUsersChange(cb), 'the presence', (list) => list.length === 1);
      await joined(socket, channel);
      const [[me]] = await users;
      same(me.username, 'bo', 'join params from the options');
      const again = socket.createChannel(chatChannel, { params: { roomId: room } });
      same([again.name, again.channelState], [channel.name, ChannelState.JOINED], 'the same definition and params: the live channel');
    })],

    ['a definition made by upstream\'s common package is recognised by its kind', withClient(async (socket) => {
      const room = unique('up');
      const upstreamDefinition = { kind: 'pondsocket.channel', path: '/chat/:roomId', schema: { kind: 'pondsocket.schema' },
        build: () => fail('our client builds the name itself') };
      const channel = socket.createChannel(upstreamDefinition, { params: { roomId: room } });
      same(channel.name, `/chat/${room}`, 'the name');
      await joined(socket, channel);
    })],

    ['route events both ways: note/:id sent with params, heard with params and query', withClient(async (socket) => {
      const channel = await joined(socket, socket.createChannel(`/chat/${unique('notes')}`));
      const byPattern = first((cb) => channel.onMessageEvent('note/:id', cb), 'note/:id');
      const byWildcard = first((cb) => channel.onMessageEvent('note/*', cb), 'note/*');
      const byName = first((cb) => channel.onMessageEvent('note/a%20b', cb), 'note/a%20b by its name');
      const other = [];
      channel.onMessageEvent('item/:id', (payload) => other.push(payload));
      channel.sendMessage('note/:id', { query: 'a=1&b=x%20y', text: 'hi' }, { id: 'a b' });
      const [payload, eventParams] = await byPattern;
      same(payload, { query: 'a=1&b=x%20y', text: 'hi' }, 'the payload');
      same(eventParams, { params: { id: 'a b' }, query: { a: '1', b: 'x y' } }, 'eventParams of the pattern');
      const [, wildcard] = await byWildcard;
      same(wildcard.params, { '*': '/a%20b' }, 'the wildcard, as upstream gives it');
      const [, plain] = await byName;
      same(plain, { params: {}, query: { a: '1', b: 'x y' } }, 'a plain name hears the event whatever its query');
      same(other, [], 'item/:id heard nothing');
    })],

    ['sendForResponse(event, payload, params, timeoutMs) and (event, payload, timeoutMs)', withClient(async (socket) => {
      const channel = await joined(socket, socket.createChannel(`/chat/${unique('items')}`));
      const reply = await channel.sendForResponse('item/:id', { n: 7 }, { id: '42' }, 3000);
      same(reply, { id: '42', payload: { n: 7 } }, 'the reply to item/42');
      const encoded = await channel.sendForResponse('item/:id', {}, { id: 'a/b c' });
      same(encoded.id, 'a/b c', 'a value with / and a space goes encoded and comes back whole');
      same(await channel.sendForResponse('echo', { n: 2 }, 3000), { n: 2 }, 'a timeout as the third argument');
      const late = await channel.sendForResponse('late', { delayMs: 1000 }, 50).then(() => 'resolved', (e) => e);
      ok(late instanceof Error && late instanceof ResponseTimeoutError, `a request past its timeout rejects (${late})`);
    })],

    ['bad routes throw PondRouteError naming the problem, before anything is sent', withClient(async (socket) => {
      const channel = await joined(socket, socket.createChannel(`/chat/${unique('bad')}`));
      const sent = [];
      channel.onMessage((event) => sent.push(event));
      const thrown = (fn) => { try { fn(); } catch (e) { return e; } return null; };
      const missing = thrown(() => channel.sendMessage('note/:id', {}, {}));
      ok(missing instanceof PondRouteError && /missing value for parameter "id"/.test(missing.message), `missing: ${missing}`);
      same(missing.route, 'note/:id', 'the error\'s route');
      const empty = thrown(() => channel.sendMessage('note/:id', {}, { id: '' }));
      ok(empty instanceof PondRouteError, 'an empty value');
      const twoStars = thrown(() => definePondChannel(definePondSchema(), '/a/*/*'));
      ok(twoStars instanceof PondRouteError && /wildcard/.test(twoStars.message), `two wildcards: ${twoStars}`);
      const duplicate = thrown(() => channel.onMessageEvent('x/:id/:id', () => {}));
      ok(duplicate instanceof PondRouteError && /duplicate parameter "id"/.test(duplicate.message), `duplicate: ${duplicate}`);
      const notIdentifier = thrown(() => channel.sendMessage('x/:1d', {}, { '1d': 'v' }));
      ok(notIdentifier instanceof PondRouteError && /identifiers/.test(notIdentifier.message), `identifier: ${notIdentifier}`);
      const rejected = await channel.sendForResponse('item/:id', {}, 1000).then(() => null, (e) => e);
      ok(rejected instanceof PondRouteError, `sendForResponse without its params rejects: ${rejected}`);
      // Names upstream would refuse stay plain names here.
      const typing = first((cb) => channel.onMessageEvent('message', cb), 'a broadcast after the errors');
      channel.sendMessage('broadcast', { after: true });
      await typing;
      same(sent, ['message'], 'only the last broadcast reached the server');
    })],

    ['ConnectionState and ChannelState as upstream uses them; joinTimeout per channel', async () => {
      const socket = new PondClient(url, { token: 'good' });
      same(socket.getState(), ConnectionState.DISCONNECTED, 'before connect()');
      const states = [];
      socket.onConnectionChange((state) => states.push(state));
      const up = first((cb) => socket.onConnectionChange(cb), 'connected', (s) => s === ConnectionState.CONNECTED);
      socket.connect();
      await up;
      try {
        const silent = socket.createChannel(`/silent/${unique('slow')}`, {}, { joinTimeout: 200 });
        const started = Date.now();
        const declined = first((cb) => silent.onChannelStateChange(cb), 'the join timeout', (s) => s === ChannelState.DECLINED, 3000);
        silent.join();
        await declined;
        const waited = Date.now() - started;
        ok(waited >= 150 && waited < 2000, `declined after ${waited} ms, for a joinTimeout of 200`);
        same([silent.joinError.status, silent.joinError.statusCode], [408, 408], 'joinError');
      } finally {
        socket.disconnect();
      }
      same(socket.getState(), ConnectionState.DISCONNECTED, 'after disconnect()');
      same(states, ['disconnected', 'connecting', 'connected', 'disconnected'], 'the states, in upstream\'s lowercase');
    }],
  ];
}
