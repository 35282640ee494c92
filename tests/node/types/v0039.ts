// Type-checked (not run) by scripts/test-node.sh: a program written against @eleven-am/pondsocket-client 0.0.39's
// README (basic use, the shared schema, join failures) with the import changed to pondsocket-wasm, plus the route
// events that 0.0.39 types: `:param` and `*` events both ways, sendForResponse with params and a timeout. The
// `@ts-expect-error` lines must fail.
import {
  ChannelState,
  ConnectionState,
  PondClient,
  PondRouteError,
  definePondChannel,
  definePondSchema,
  type AnyPondSchema,
  type Channel,
  type EventParams,
  type Params,
  type PondChannelDefinition,
  type PondErrorPayload,
  type PondSchema,
} from 'pondsocket-wasm';

// --- Basic use

const client = new PondClient('wss://example.com/v1/socket', {
  token: 'connection-token',
});

client.onConnectionChange((state) => {
  if (state === ConnectionState.CONNECTED) {
    console.log('connected');
  }
});

client.onError(console.error);
client.connect();

const general = client.createChannel('/chat/general', {
  displayName: 'Ada',
});

general.onMessageEvent('message', (payload) => console.log(payload));
general.onMessageEvent('message', (payload) => payload.text.toUpperCase());
general.join();
general.sendMessage('message', { text: 'hello' });
const untyped: Channel = general;
const anyChannel: Channel<AnyPondSchema> = general;

// --- Shared schema

interface ChatSchema {
  events: {
    message: { text: string };
    ping: [{ sentAt: number }, { receivedAt: number }];
    'typing/:userId': { typing: boolean };
    'rooms/:roomId/reactions/:messageId': { emoji: string };
    'files/*': { size: number };
    'rpc/:method': [{ args: number[] }, { result: number }];
  };
  presence: {
    online: boolean;
  };
  assigns: {
    role: 'admin' | 'member';
  };
  joinParams: {
    token: string;
  };
}

export const Chat = definePondChannel(
  definePondSchema<ChatSchema>(),
  '/chat/:roomId',
);

async function sharedSchema() {
  const client = new PondClient('wss://example.com/v1/socket');
  const channel = client.createChannel(Chat, {
    params: { roomId: 'general' },
    joinParams: { token: 'join-token' },
  });

  channel.onMessageEvent('message', (payload) => {
    payload.text.toUpperCase();
  });

  const response = await channel.sendForResponse('ping', {
    sentAt: Date.now(),
  });

  response.receivedAt.toFixed();
  channel.join();

  // Route events, received: the pattern's params by name, `*` under '*', and the query string.
  channel.onMessageEvent('typing/:userId', (payload, { params, query }) => {
    const typing: boolean = payload.typing;
    const userId: string = params.userId;
    void [typing, userId, query['since']];
  });
  type ReactionParams = EventParams<'rooms/:roomId/reactions/:messageId'>;
  channel.onMessageEvent('rooms/:roomId/reactions/:messageId', (payload, eventParams: ReactionParams) => {
    void [payload.emoji, eventParams.params.roomId, eventParams.params.messageId];
  });
  channel.onMessageEvent('files/*', (payload, { params }) => void [payload.size, params['*']]);
  // ... and sent: the params fill the pattern in.
  channel.sendMessage('typing/:userId', { typing: true }, { userId: 'ada' });
  channel.sendMessage('rooms/:roomId/reactions/:messageId', { emoji: '+1' }, { roomId: 'general', messageId: 'm1' });
  channel.sendMessage('files/*', { size: 3 }, { '*': 'docs/a.txt' });
  channel.sendMessage('message', { text: 'hello' });
  const sum = await channel.sendForResponse('rpc/:method', { args: [1, 2] }, { method: 'sum' }, 5_000);
  const result: number = sum.result;
  const pong = await channel.sendForResponse('ping', { sentAt: Date.now() }, 1_000);
  void [result, pong.receivedAt];

  // The schema's presence.
  channel.onJoin((presence) => void presence.online);
  channel.onUsersChange((users) => void users.filter((user) => user.online));
  channel.onPresenceChange(({ changed, presence }) => void [changed.online, presence.length]);
  const online: boolean[] = channel.presence.map((p) => p.online);
  const typed: Channel<ChatSchema> = channel;
  channel.onMessage((event, payload) => void [event, payload]);
  void [online, typed];

  // The definition itself.
  const definition: PondChannelDefinition<ChatSchema, '/chat/:roomId'> = Chat;
  const name: string = Chat.build({ roomId: 'general' });
  const roomParams: Params<typeof Chat.path> = { roomId: 'r' };
  const kind: 'pondsocket.channel' = Chat.kind;
  const schemaKind: 'pondsocket.schema' = Chat.schema.kind;
  void [definition, name, roomParams, kind, schemaKind];

  // A path without params and a schema whose join params are optional: nothing else to give.
  interface LobbySchema extends PondSchema<{ hello: { name: string } }, { name: string }> {}
  const Lobby = definePondChannel(definePondSchema<LobbySchema>(), '/lobby');
  const lobby = client.createChannel(Lobby);
  lobby.sendMessage('hello', { name: 'ada' });
  client.createChannel(Lobby, { joinTimeout: 2_000 });
  // The default path is '*'.
  const Anywhere = definePondChannel(definePondSchema<ChatSchema>());
  const star: '*' = Anywhere.path;
  client.createChannel(Anywhere, { params: { '*': 'rooms/1' }, joinParams: { token: 't' } });
  void star;

  try {
    Chat.build({ roomId: '' });
  } catch (error) {
    if (error instanceof PondRouteError) void error.route.length;
  }

  // @ts-expect-error the definition's path has a route param
  client.createChannel(Chat, { joinParams: { token: 'join-token' } });
  // @ts-expect-error the schema's join params are required
  client.createChannel(Chat, { params: { roomId: 'general' } });
  // @ts-expect-error options are required for this definition
  client.createChannel(Chat);
  // @ts-expect-error a route param is missing
  channel.sendMessage('typing/:userId', { typing: true });
  // @ts-expect-error the route param is named userId
  channel.sendMessage('typing/:userId', { typing: true }, { user: 'ada' });
  // @ts-expect-error a wrong payload type for a schema event
  channel.sendMessage('message', { text: 42 });
  // @ts-expect-error not an event of the schema
  channel.sendMessage('shout', { text: 'hi' });
  // @ts-expect-error 'message' has no response
  void channel.sendForResponse('message', { text: 'hi' });
  // @ts-expect-error the request has params before the timeout
  void channel.sendForResponse('rpc/:method', { args: [] }, 5_000);
  // @ts-expect-error the request payload of 'ping'
  void channel.sendForResponse('ping', { receivedAt: 1 });
  // @ts-expect-error the payload of 'message' has no `size`
  channel.onMessageEvent('message', (payload) => void payload.size);
  // @ts-expect-error build needs roomId
  Chat.build({});
}

// --- Join failures

function joinFailures() {
  const client = new PondClient('wss://example.com/v1/socket', {}, {
    connectionTimeout: 10_000,
    joinTimeout: 8_000,
    maxReconnectDelay: 30_000,
  });

  const channel = client.createChannel(Chat, {
    params: { roomId: 'general' },
    joinParams: { token: 'join-token' },
    joinTimeout: 5_000,
  });

  channel.onError((error) => {
    console.error(error.code, error.status, error.message);
  });

  channel.onChannelStateChange(console.log);
  channel.join();

  const error: PondErrorPayload | null = channel.joinError;
  const statusCode: number | undefined = error?.statusCode;
  const details: unknown = error?.details;
  const byName = client.createChannel('/chat/general', { token: 't' }, { joinTimeout: 1_000 });
  void [statusCode, details, byName];
}

// --- The states as types, as upstream's enums are

let connected: ConnectionState.CONNECTED = ConnectionState.CONNECTED;
const joined: ChannelState.JOINED = ChannelState.JOINED;
function isJoined(state: ChannelState): state is ChannelState.JOINED {
  return state === ChannelState.JOINED;
}
function describe(state: ConnectionState): string {
  switch (state) {
    case ConnectionState.CONNECTED: return 'up';
    case ConnectionState.CONNECTING: return 'coming';
    case ConnectionState.DISCONNECTED: return 'down';
  }
}
// @ts-expect-error one state is not another
connected = ConnectionState.DISCONNECTED;

void [untyped, anyChannel, sharedSchema, joinFailures, connected, joined, isJoined, describe];
