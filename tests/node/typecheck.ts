// Type-checked (not run) by scripts/test-node.sh against the installed package's index.d.ts: the API as users
// write it compiles, and misuse does not.
import { PondClient, Channel, ChannelState, ConnectionState, ResponseTimeoutError, type PondErrorPayload, type PondEventMap } from 'pondsocket-wasm';
import defaultApi from 'pondsocket-wasm';

interface Presence extends Record<string, unknown> { name: string }

const client = new PondClient('wss://example.com/socket', { token: 't' }, { responseTimeout: 1000, maxReconnectAttempts: -1 });
client.connect();
const state: ConnectionState = client.getState();
const off: () => void = client.onConnectionChange((s: ConnectionState) => void s);
client.onError((e: Error) => void e.message);
client.onReconnectScheduled(({ attempt, delayMs }) => void (attempt + delayMs));
// An untyped channel (any event) with a presence type: Channel<EventMap, Presence> as upstream has it.
const channel: Channel<PondEventMap, Presence> = client.createChannel<PondEventMap, Presence>('/chat/1', { name: 'ann' });
channel.onJoin((p) => void p.name.toUpperCase());
channel.onUsersChange((users) => void users.map((u) => u.name));
channel.onPresenceChange(({ changed, presence }) => void [changed.name, presence.length]);
channel.onMessage((event: string, payload) => void [event, payload]);
channel.onMessageEvent<{ text: string }>('message', (m) => void m.text.length);
channel.onChannelStateChange((s) => void (s === ChannelState.JOINED));
channel.onError((e: PondErrorPayload) => void [e.code, e.message, e.status]);
const error: PondErrorPayload | null = channel.joinError;
const joined: boolean = channel.channelState === 'JOINED';
channel.sendMessage('message', { text: 'hi' });
const reply: Promise<{ ok: boolean }> = channel.sendForResponse<{ ok: boolean }>('ping', {}, 500);
reply.catch((e) => void (e instanceof ResponseTimeoutError && e.timeoutMs));
const sameClass: typeof PondClient = defaultApi.PondClient;
off();
void [state, error, joined, sameClass];

// @ts-expect-error the channel state is a closed set of names
const wrong: ChannelState = 'OPEN';
// @ts-expect-error payloads are objects
channel.sendMessage('message', 'text');
// @ts-expect-error options are checked
new PondClient('ws://x', {}, { connectTimeout: 5 });
void wrong;

// A cluster: a list of endpoints, params from a function (sync or async), the endpoint in use.
const nodes = ['wss://a.example/socket', 'wss://b.example/socket'] as const;
const cluster = new PondClient(nodes, async () => ({ token: 'fresh' }), { maxReconnectAttempts: 10 });
const clusterSse = new PondClient(['wss://a.example/socket'], () => ({ token: 'now' }));
const inUse: string = cluster.getEndpoint();
void [clusterSse, inUse];
// @ts-expect-error the params function returns params, not a string
new PondClient(nodes, () => 'token');
