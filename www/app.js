// The pondsocket-wasm demo: a chat room with presence, imported the way an application would import the package.
// Served by scripts/demo.sh next to a copy of pkg/; talks to the bundled server at /socket on the same origin.
import { PondClient, ChannelState, ConnectionState } from './pkg/index.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const ui = {
  connection: $('connection-state'),
  connectionLabel: $('connection-label'),
  countdown: $('reconnect-countdown'),
  toggle: $('connect-toggle'),
  name: $('name-input'),
  statusForm: $('status-form'),
  status: $('status-input'),
  roomForm: $('room-form'),
  room: $('room-input'),
  channelName: $('channel-name'),
  channelState: $('channel-state'),
  leave: $('leave-button'),
  joinError: $('join-error'),
  presenceCount: $('presence-count'),
  presence: $('presence-list'),
  presenceEmpty: $('presence-empty'),
  anotherTab: $('another-tab'),
  chatTitle: $('chat-title'),
  messages: $('message-list'),
  composer: $('composer'),
  text: $('composer-input'),
  send: $('send-button'),
  ping: $('ping-button'),
  slow: $('slow-button'),
  pingResult: $('ping-result'),
  errorCount: $('error-count'),
  errors: $('error-list'),
  errorsEmpty: $('errors-empty'),
  clearErrors: $('clear-errors'),
  endpoint: $('endpoint'),
  node: $('node'),
  transport: $('transport'),
  transportSelect: $('transport-select'),
};

// ------------------------------------------------------------------------------------------------ identity

const ADJECTIVES = ['brave', 'calm', 'eager', 'gentle', 'jolly', 'lucky', 'quiet', 'swift', 'witty', 'sunny'];
const ANIMALS = ['otter', 'heron', 'badger', 'lynx', 'panda', 'koala', 'falcon', 'marten', 'gecko', 'puffin'];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const query = new URLSearchParams(location.search);

let myName = (query.get('name') || '').trim().slice(0, 32) || `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
let myStatus = '';
// Join params become our presence on the server (plus its `id`); clientId tells our own messages and entry apart.
const clientId = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

/** `lobby` → `/chat/lobby`; anything starting with `/` is used as it is (e.g. `/private/x`). */
function channelPath(input) {
  const text = input.trim();
  if (!text) return '/chat/lobby';
  return text.startsWith('/') ? text : `/chat/${text}`;
}

// ------------------------------------------------------------------------------------------------ client

// The transport is the page's choice (?transport=websocket|sse|auto); SSE needs a server that speaks it (the Python
// one: scripts/demo.sh --server python).
const TRANSPORTS = ['websocket', 'sse', 'auto'];
const chosenTransport = TRANSPORTS.includes(query.get('transport')) ? query.get('transport') : 'websocket';
// The endpoints: this page's server, or the nodes of a cluster (?endpoints=ws://a/socket,ws://b/socket: what
// scripts/demo.sh --cluster opens); the client goes round them when one dies.
const endpoints = query.get('endpoints')?.split(',').filter(Boolean) ?? [];
const client = new PondClient(endpoints.length ? endpoints : '/socket', { token: 'demo' }, { transport: chosenTransport });
ui.endpoint.textContent = client.getEndpoint();
ui.transportSelect.value = chosenTransport;
ui.transportSelect.addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('transport', ui.transportSelect.value);
  url.searchParams.set('name', myName);
  location.assign(url.href);
});
/** Shows the transport in use, and the endpoint as it is reached over it. */
function showTransport() {
  const transport = client.getTransport();
  ui.transport.textContent = transport === 'sse' ? 'Server-Sent Events' : 'WebSocket';
  ui.transport.dataset.transport = transport;
  ui.endpoint.textContent = client.getEndpoint();
}
/** Asks the server which node this connection is on (the test servers' `whoami` event), once per join. */
async function showNode(ch) {
  ui.node.textContent = '…';
  try {
    const { node } = await ch.sendForResponse('whoami', {}, 5000);
    ui.node.textContent = String(node);
  } catch {
    ui.node.textContent = 'unknown';
  }
}

let connects = 0; // times the client reached `connected`, for the page's readers (and tests)
let reconnectAt = 0; // performance.now() of the next planned attempt, 0 if none
let reconnectAttempt = 0;
let countdownTimer = 0;
let stoppedByUser = false;
let lost = false; // the connection dropped (not by us) and has not come back yet
let connectionState = ConnectionState.DISCONNECTED;

client.onConnectionChange((state) => {
  const previous = connectionState;
  connectionState = state;
  ui.connection.dataset.state = state;
  ui.connectionLabel.textContent = state;
  document.body.dataset.connection = state;
  if (state === ConnectionState.CONNECTED) {
    showTransport();
    connects += 1;
    ui.connection.dataset.connects = String(connects);
    reconnectAt = 0;
    reconnectAttempt = 0;
    if (lost) systemLine('Connection restored.');
    lost = false;
  } else if (state === ConnectionState.DISCONNECTED && previous === ConnectionState.CONNECTED && !stoppedByUser) {
    lost = true;
    systemLine('Connection lost; the client reconnects by itself.');
  }
  renderCountdown();
  ui.toggle.textContent = stoppedByUser ? 'Connect' : 'Disconnect';
});

client.onReconnectScheduled(({ attempt, delayMs }) => {
  reconnectAttempt = attempt;
  reconnectAt = performance.now() + delayMs;
  ui.countdown.dataset.attempt = String(attempt);
  ui.countdown.dataset.delayMs = String(Math.round(delayMs));
  renderCountdown();
});

function renderCountdown() {
  clearTimeout(countdownTimer);
  let text = '';
  if (connectionState !== ConnectionState.CONNECTED && !stoppedByUser && reconnectAttempt > 0) {
    const left = reconnectAt - performance.now();
    if (left > 0 && connectionState === ConnectionState.DISCONNECTED) {
      text = `retrying in ${(left / 1000).toFixed(1)} s · attempt ${reconnectAttempt}`;
      countdownTimer = setTimeout(renderCountdown, 100);
    } else {
      text = `attempt ${reconnectAttempt}…`;
    }
  }
  ui.countdown.textContent = text;
  ui.countdown.hidden = !text;
}

client.onError((error) => addError(error.name || 'Error', error.message));

ui.toggle.addEventListener('click', () => {
  if (stoppedByUser) {
    stoppedByUser = false;
    client.connect();
    joinRoom(currentRoom); // disconnect() closed every channel: join anew
  } else {
    stoppedByUser = true;
    client.disconnect();
    systemLine('Disconnected by you. Press Connect to come back.');
  }
  ui.toggle.textContent = stoppedByUser ? 'Connect' : 'Disconnect';
  renderCountdown();
});

// ------------------------------------------------------------------------------------------------ channel

let channel = null;
let channelSubscriptions = [];
let currentRoom = '';
const firstRoom = channelPath(query.get('room') || '/chat/lobby');
let joinParams = null;
let wasJoined = false;
let announced = false;

const usable = (ch) => ch && ch.channelState !== ChannelState.CLOSED && ch.channelState !== ChannelState.DECLINED;

function dropChannel() {
  for (const unsubscribe of channelSubscriptions) unsubscribe();
  channelSubscriptions = [];
  if (usable(channel)) channel.leave();
  channel = null;
}

function joinRoom(room) {
  dropChannel();
  const next = channelPath(room);
  if (next !== currentRoom) ui.messages.replaceChildren(); // same room (new name, reconnect): keep the history
  currentRoom = next;
  ui.room.value = currentRoom;
  renderPresence([]);
  ui.joinError.hidden = true;
  wasJoined = false;
  announced = false;
  joinParams = { name: myName, clientId, ...(myStatus ? { status: myStatus } : {}) };
  const url = new URL(location.href);
  url.search = new URLSearchParams({ room: currentRoom, name: myName }).toString();
  history.replaceState(null, '', url);
  ui.anotherTab.href = `?${new URLSearchParams({ room: currentRoom })}`;
  ui.channelName.textContent = currentRoom;
  ui.chatTitle.textContent = currentRoom;

  try {
    channel = client.createChannel(currentRoom, joinParams);
  } catch (error) {
    addError(error.name || 'Error', error.message);
    renderChannelState('NONE');
    return;
  }
  const ch = channel;
  channelSubscriptions = [
    ch.onChannelStateChange((state) => onChannelState(ch, state)),
    ch.onMessageEvent('message', (payload) => addMessage(payload)),
    ch.onUsersChange((users) => renderPresence(users)),
    ch.onJoin((who) => {
      if (!isMe(who)) systemLine(`${label(who)} joined.`);
      else if (!wasJoined || !announced) systemLine(`You joined ${ch.name} as ${label(who)}.`);
      if (isMe(who)) announced = true; // a rejoin says so once ("Rejoined"), not again here
    }),
    ch.onLeave((who) => systemLine(`${label(who)} left.`)),
    // A declined join is reported once, by the DECLINED state below (with the same code, message and status).
    ch.onError((error) => {
      if (ch.channelState !== ChannelState.DECLINED) {
        addError(`Channel ${error.code}`, `${ch.name}: ${error.message} (status ${error.status})`);
      }
    }),
  ];
  try {
    ch.join();
  } catch (error) {
    addError(error.name || 'Error', error.message);
  }
}

function onChannelState(ch, state) {
  renderChannelState(state);
  if (state === ChannelState.JOINED) {
    // Join params are fixed at createChannel; after a rejoin the server only knows those, so restore the status.
    if (myStatus !== (joinParams.status || '')) ch.sendMessage('status', { status: myStatus });
    if (wasJoined) systemLine(`Rejoined ${ch.name}.`);
    showNode(ch);
    wasJoined = true;
  } else if (state === ChannelState.STALLED) {
    systemLine('Channel stalled: messages you send now wait for the rejoin.');
  } else if (state === ChannelState.DECLINED) {
    const why = ch.joinError;
    const text = why ? `${why.status} ${why.message} (${why.code})` : 'declined';
    ui.joinError.textContent = `The server declined the join: ${text}`;
    ui.joinError.hidden = false;
    addError('Join declined', `${ch.name}: ${text}`);
    systemLine(`The server declined the join of ${ch.name}.`);
  } else if (state === ChannelState.CLOSED && ch.evictedReason) {
    addError('Evicted', `${ch.name}: ${ch.evictedReason}`);
  }
}

function renderChannelState(state) {
  ui.channelState.dataset.state = state;
  ui.channelState.textContent = state === 'NONE' ? 'no channel' : state;
  const open = state !== 'NONE' && state !== ChannelState.CLOSED && state !== ChannelState.DECLINED;
  ui.leave.disabled = !open;
  ui.text.disabled = ui.send.disabled = ui.ping.disabled = ui.slow.disabled = !open;
  ui.text.placeholder = !open
    ? 'Join a room to write'
    : state === ChannelState.JOINED
      ? `Message ${currentRoom}`
      : 'Write now; it is sent once joined…';
  document.body.dataset.channel = state;
}

ui.roomForm.addEventListener('submit', (event) => {
  event.preventDefault();
  joinRoom(ui.room.value);
});
for (const chip of document.querySelectorAll('[data-room]')) {
  chip.addEventListener('click', () => joinRoom(chip.dataset.room));
}
ui.leave.addEventListener('click', () => {
  if (!usable(channel)) return;
  channel.leave();
  renderPresence([]);
  systemLine(`You left ${channel.name}.`);
});

// A new name is a new presence: rejoin with it (join params cannot change on a live channel).
ui.name.value = myName;
ui.name.addEventListener('change', () => {
  const name = ui.name.value.trim().slice(0, 32);
  if (!name || name === myName) {
    ui.name.value = myName;
    return;
  }
  myName = name;
  joinRoom(currentRoom);
});

ui.statusForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!usable(channel)) return;
  myStatus = ui.status.value.trim().slice(0, 40);
  try {
    channel.sendMessage('status', { status: myStatus });
  } catch (error) {
    addError(error.name || 'Error', error.message);
  }
});

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.text.value.trim();
  if (!text || !channel) return;
  try {
    channel.sendMessage('message', { text, from: myName, clientId });
    ui.text.value = '';
  } catch (error) {
    addError(error.name || 'Error', error.message);
  }
});

ui.ping.addEventListener('click', async () => {
  if (!channel) return;
  const ch = channel;
  const started = performance.now();
  ui.ping.disabled = true;
  try {
    await ch.sendForResponse('ping', { sentAt: Date.now() }, 3000);
    const rtt = performance.now() - started;
    showResult(`round trip ${rtt < 10 ? rtt.toFixed(1) : Math.round(rtt)} ms`, 'ok', rtt);
  } catch (error) {
    showResult('ping failed', 'error');
    addError(error.name || 'Error', error.message);
  } finally {
    ui.ping.disabled = !usable(channel);
  }
});

// The server answers `late` after delayMs; asking with a shorter timeout shows a ResponseTimeoutError.
ui.slow.addEventListener('click', async () => {
  if (!channel) return;
  try {
    await channel.sendForResponse('late', { delayMs: 3000 }, 1000);
    showResult('slow request answered', 'ok');
  } catch (error) {
    showResult('request timed out', 'error');
    addError(error.name || 'Error', error.message);
  }
});

let results = 0;
function showResult(text, kind, rtt) {
  results += 1;
  ui.pingResult.dataset.seq = String(results);
  ui.pingResult.hidden = false;
  ui.pingResult.textContent = text;
  ui.pingResult.dataset.kind = kind;
  if (rtt !== undefined) ui.pingResult.dataset.rtt = rtt.toFixed(2);
  else delete ui.pingResult.dataset.rtt;
}

// ------------------------------------------------------------------------------------------------ rendering

const isMe = (who) => who && who.clientId === clientId;
const label = (who) => (who && typeof who.name === 'string' && who.name) || 'someone';
const timeNow = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function avatar(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const node = el('span', 'avatar', name.replace(/[^\p{L}\p{N}]+/gu, ' ').trim().split(/\s+/).map((w) => w[0])
    .join('').slice(0, 2).toUpperCase() || '?');
  node.style.setProperty('--hue', String(hash % 360));
  node.setAttribute('aria-hidden', 'true');
  return node;
}

function scrollToEnd() {
  const list = ui.messages;
  list.scrollTop = list.scrollHeight;
}

function trimMessages() {
  while (ui.messages.children.length > 300) ui.messages.firstElementChild.remove();
}

function addMessage(payload) {
  const from = typeof payload.from === 'string' && payload.from ? payload.from : 'someone';
  const text = typeof payload.text === 'string' ? payload.text : JSON.stringify(payload);
  const own = payload.clientId === clientId;
  const item = el('li', own ? 'message own' : 'message');
  item.dataset.testid = 'message';
  item.dataset.from = from;
  item.dataset.own = String(own);
  const meta = el('div', 'meta');
  meta.append(el('span', 'who', own ? `${from} (you)` : from), el('time', 'when', timeNow()));
  const bubble = el('div', 'bubble');
  bubble.append(meta, el('p', 'text', text));
  item.append(avatar(from), bubble);
  ui.messages.append(item);
  trimMessages();
  scrollToEnd();
}

function systemLine(text) {
  const item = el('li', 'system', text);
  item.dataset.testid = 'system-line';
  ui.messages.append(item);
  trimMessages();
  scrollToEnd();
}

function renderPresence(users) {
  const list = [...users].sort((a, b) => (isMe(b) - isMe(a)) || label(a).localeCompare(label(b)));
  ui.presence.replaceChildren(
    ...list.map((who) => {
      const item = el('li', isMe(who) ? 'person me' : 'person');
      item.dataset.testid = 'presence-item';
      item.dataset.name = label(who);
      if (typeof who.status === 'string' && who.status) item.dataset.status = who.status;
      const text = el('div', 'person-text');
      const name = el('span', 'person-name', label(who));
      if (isMe(who)) name.append(el('span', 'tag', 'you'));
      text.append(name, el('span', 'person-status', (typeof who.status === 'string' && who.status) || 'online'));
      item.append(avatar(label(who)), text);
      return item;
    }),
  );
  ui.presenceCount.textContent = String(list.length);
  ui.presenceEmpty.hidden = list.length > 0;
}

let errorTotal = 0;
function addError(kind, message) {
  errorTotal += 1;
  const item = el('li', 'error-item');
  item.dataset.testid = 'error-item';
  item.dataset.kind = kind;
  item.append(el('time', 'when', timeNow()), el('strong', 'kind', kind), el('span', 'message', message));
  ui.errors.prepend(item);
  while (ui.errors.children.length > 50) ui.errors.lastElementChild.remove();
  ui.errorCount.textContent = String(errorTotal);
  ui.errorsEmpty.hidden = true;
}

ui.clearErrors.addEventListener('click', () => {
  errorTotal = 0;
  ui.errors.replaceChildren();
  ui.errorCount.textContent = '0';
  ui.errorsEmpty.hidden = false;
});

// ------------------------------------------------------------------------------------------------ start

renderChannelState('NONE');
client.connect();
joinRoom(firstRoom);
// For the console and the page's tests: the live objects.
window.demo = { client, get channel() { return channel; }, clientId };
document.documentElement.dataset.ready = 'true';
