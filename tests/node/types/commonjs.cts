// A CommonJS project's TypeScript (a .cts file: `import` compiles to `require`), type-checked by scripts/test-node.sh
// with TypeScript 5.9 and 5.4: before 5.8, TypeScript refuses the types of an ES module here (TS1479), so the package
// gives require() its own (index.d.cts).
import { PondClient, SSEClient, ChannelState, ConnectionState, type Channel } from 'pondsocket-wasm';
import { PondClient as FromNode } from 'pondsocket-wasm/node';

const client = new PondClient('ws://localhost/socket', { token: 't' }, { transport: 'auto' });
const channel: Channel = client.createChannel('/chat/1', { name: 'ann' }, { joinTimeout: 5000 });
channel.onMessageEvent('note/:id', (payload, { params }) => void [payload, params.id]);
const state: ConnectionState = client.getState();
void [channel.channelState === ChannelState.JOINED, state, SSEClient, FromNode === PondClient];
