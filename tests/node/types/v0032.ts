// Type-checked (not run) by scripts/test-node.sh: a program written against @eleven-am/pondsocket-client 0.0.32's
// dist.d.ts and README (client side), with the import changed to pondsocket-wasm: event maps and presence types as
// Channel<EventMap, Presence> and createChannel<EventMap, Presence>, ConnectionState and ChannelState as its enums.
// Where that README and dist.d.ts disagree with 0.0.32's runtime, the runtime is followed: `presence` is a property
// (the d.ts says a method) and there is no `broadcast` (the README's older name of sendMessage). The
// `@ts-expect-error` lines must fail.
import { ChannelState, ConnectionState, PondClient, type Channel } from 'pondsocket-wasm';

// 0.0.32 users took these shapes from @eleven-am/pondsocket-common (PondEventMap, PondPresence).
type ChatEvents = {
  message: { text: string; sentAt?: number };
  'profanity-warning': { message: string };
  history: [{ before: number }, { messages: { text: string }[] }];
};
type ChatPresence = {
  username: string;
  status: 'online' | 'away';
};

// Your server URL
const serverUrl = 'ws://your-server-url/api/socket';
// Your authenticated user's token (replace with actual token)
const authToken = 'your-auth-token';
// Your username (replace with actual username)
const username = 'user123';

// Create a new PondClient instance
const socket = new PondClient(serverUrl, { token: authToken }, { connectionTimeout: 5000, maxReconnectDelay: 30000 });

// Connect to the server
socket.connect();

// Add event listeners to handle various scenarios
socket.onConnectionChange((connected) => {
  if (connected) {
    console.log('Connected to the server.');
  } else {
    console.log('Disconnected from the server.');
  }
});
socket.onConnectionChange((state) => {
  if (state === ConnectionState.CONNECTED) console.log('connected');
});
socket.onError((error) => console.error(error.message));

// Create a channel and join it
const channel = socket.createChannel<ChatEvents, ChatPresence>('/channel/123', { username });
channel.join();

// Send a message to the server
const message = 'Hello, PondSocket!';
channel.sendMessage('message', { text: message });

// Handle received messages
// Certain methods in the channel instance returns a subscription function, which can be used to unsubscribe from the event
const subscription = channel.onMessage((event, message) => {
  console.log(`Received ${event} from server`, message);
});

// Unsubscribe from the event
subscription();

channel.onMessageEvent('message', (message) => console.log(message.text.toUpperCase()));
channel.onMessageEvent('profanity-warning', (warning) => console.warn(warning.message));
channel.onJoin((presence) => console.log(`${presence.username} joined`));
channel.onLeave((presence) => console.log(`${presence.username} left`));
channel.onPresenceChange(({ changed, presence }) => console.log(changed.status, presence.length));
channel.onUsersChange((users) => console.log(users.map((user) => user.username)));
channel.onChannelStateChange((state) => {
  if (state === ChannelState.JOINED) console.log('joined');
  else if (state === ChannelState.DECLINED) console.log('declined');
});

async function loadHistory(): Promise<string[]> {
  const { messages } = await channel.sendForResponse('history', { before: Date.now() });
  return messages.map((m) => m.text);
}

// The types by name, as a 0.0.32 program would annotate them.
const typed: Channel<ChatEvents, ChatPresence> = channel;
const users: ChatPresence[] = channel.presence;
const channelState: ChannelState = channel.channelState;
const connection: ConnectionState = socket.getState();
let joinedState: ChannelState.JOINED | ChannelState.STALLED = ChannelState.JOINED;
joinedState = ChannelState.STALLED;
function isConnected(state: ConnectionState): state is ConnectionState.CONNECTED {
  return state === ConnectionState.CONNECTED;
}
const labels: Record<ChannelState, string> = {
  [ChannelState.IDLE]: 'idle',
  [ChannelState.JOINING]: 'joining',
  [ChannelState.JOINED]: 'joined',
  [ChannelState.STALLED]: 'stalled',
  [ChannelState.CLOSED]: 'closed',
  [ChannelState.DECLINED]: 'declined',
};

// An untyped channel, as `createChannel(name)` gave in 0.0.32 (whose types made its payloads a union with a tuple;
// here they are objects).
const other = socket.createChannel('/channel/456');
other.join();
other.sendMessage('anything', { any: 'payload' });
other.onMessage((event, payload) => console.log(event, payload.any));
other.onMessageEvent('anything', (payload) => console.log(payload.any));
other.leave();

// @ts-expect-error a wrong payload type for an event of the map
channel.sendMessage('message', { text: 1 });
// @ts-expect-error not an event of the map
channel.sendMessage('broadcast', { text: message });
// @ts-expect-error 'message' has no response
void channel.sendForResponse('message', { text: message });
// @ts-expect-error the presence has no `online`
channel.onJoin((presence) => presence.online);

channel.leave();
socket.disconnect();
void [loadHistory, typed, users, channelState, connection, joinedState, isConnected, labels];
