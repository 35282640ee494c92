//! The client state machine: the connection, its channels, their queues and the pending requests, with no I/O.
//!
//! Inputs are method calls (`connect`, `handle_frame`, `handle_timeout`, `join`, ...) that are given the current time
//! in milliseconds. Outputs wait in a queue the shell drains with [`ClientCore::poll`]: sockets to open or close,
//! frames to send, events to deliver. [`ClientCore::poll_timeout`] says when the shell must call
//! [`ClientCore::handle_timeout`] next. Nothing here calls user code, so the shell can release its borrow of the core
//! before it runs any callback.
//!
//! ```
//! use pondsocket_proto::{ClientCore, ConnectionState, Event, Options, Output};
//! let mut core = ClientCore::new("ws://localhost/socket".into(), Options::default(), [0; 32]).unwrap();
//! core.connect(0);
//! let Some(Output::Open { socket, .. }) = core.poll() else { panic!() };
//! core.handle_socket_open(socket, 5);
//! core.handle_frame(socket, r#"{"action":"CONNECT","event":"CONNECTION","channelName":"GATEWAY","requestId":"x","payload":{}}"#, 6);
//! assert_eq!(core.state(), ConnectionState::Connected);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::channel::{Channel, ChannelId, ChannelState, Ending, Queued};
use super::error::{CancelReason, ChannelError, Error};
use super::map::Map;
use super::memory::{shrink_map, shrink_queue};
use super::options::{check_duration, Options};
use super::rng::Rng;
use super::timers::{TimerKind, TimerSlot, Timers};
use super::wire::{
    encode_client_message, parse_frame, Body, ClientAction, FrameError, FrameErrorKind, JsonObject, Payload,
    PresenceKind, ServerAction, ServerMessage, GATEWAY,
};

/// The connection's state as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Initial; after `disconnect()`; while waiting to reconnect.
    Disconnected,
    /// The socket is opening, or open but the server has not accepted the connection yet.
    Connecting,
    /// The socket is open and the server sent its CONNECTION event.
    Connected,
}

impl ConnectionState {
    /// The name JS sees: `disconnected`, `connecting` or `connected`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one socket the core asked the shell to open. Events of an older socket are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketId(u32);

/// Identifies a `sendForResponse` call until its [`Event::Response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestHandle(pub u64);

/// Something the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Open a WebSocket to `url`; report its events with `socket`.
    Open { socket: SocketId, url: String },
    /// Close that socket with this code and reason; do not report its close.
    Close { socket: SocketId, code: u16, reason: &'static str },
    /// Send this text frame on the open socket.
    Send(String),
    /// Deliver this to subscribers.
    Event(Event),
}

/// Something subscribers are told.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The connection state changed.
    ConnectionState(ConnectionState),
    /// A reconnect attempt (1-based) will start at `at` (the same clock as `now`), `delay_ms` from now.
    ReconnectScheduled { attempt: u32, at: u64, delay_ms: u64 },
    /// An error for the client's `onError`: malformed frames, server errors, socket trouble.
    Error(Error),
    /// Something happened on a channel.
    Channel(ChannelId, ChannelEvent),
    /// A request ended: its response, or why there is none.
    Response(RequestHandle, Result<Payload, Error>),
}

/// What happened on a channel.
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelEvent {
    /// The channel moved to this state.
    State(ChannelState),
    /// A message for `onMessage`.
    Message { event: String, payload: Payload },
    /// Presence changed; `presence` is everyone present now.
    Presence { kind: PresenceKind, changed: JsonObject, presence: Rc<[JsonObject]> },
    /// The join was refused or timed out; the next event is `State(Declined)`.
    Declined(ChannelError),
    /// The server removed this user; the next event is `State(Closed)`.
    Evicted(String),
    /// The server reported an error about this channel that does not change its state.
    Error(ChannelError),
}

struct PendingRequest {
    channel: ChannelId,
    request_id: Box<str>,
    event: String,
    timeout_ms: u64,
    timer: TimerSlot,
    /// Written to the socket (not waiting in the queue).
    sent: bool,
}

/// How many timed-out request ids are remembered so that their late replies are dropped.
const EXPIRED_MEMORY: usize = 64;
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_TIMEOUT: u16 = 4000;
const CLOSE_FAILED: u16 = 4001;

/// The client: connection and channel state machines, outbound queues and pending requests.
pub struct ClientCore {
    url: String,
    options: Options,
    rng: Rng,
    timers: Timers,
    outputs: VecDeque<Output>,

    state: ConnectionState,
    want_connected: bool,
    socket: Option<SocketId>,
    socket_open: bool,
    sockets_opened: u32,
    failed_attempts: u32,
    connect_timer: TimerSlot,
    reconnect_timer: TimerSlot,
    liveness_timer: TimerSlot,
    last_received: u64,

    channels: Map<ChannelId, Channel>,
    live_names: Map<Rc<str>, ChannelId>,
    channels_created: u32,

    // Ordered by creation, so that cancelling a channel's requests rejects them in the order they were made.
    requests: Map<u64, PendingRequest>,
    request_keys: Map<Box<str>, u64>,
    requests_made: u64,
    expired: VecDeque<Box<str>>,
}

impl ClientCore {
    /// A disconnected client for `url` (see [`super::url::resolve_endpoint`]), seeded for ids and jitter.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when an option is out of range.
    pub fn new(url: String, options: Options, seed: [u8; 32]) -> Result<Self, Error> {
        options.validate()?;
        Ok(ClientCore {
            url,
            options,
            rng: Rng::from_seed(seed),
            timers: Timers::default(),
            outputs: VecDeque::new(),
            state: ConnectionState::Disconnected,
            want_connected: false,
            socket: None,
            socket_open: false,
            sockets_opened: 0,
            failed_attempts: 0,
            connect_timer: None,
            reconnect_timer: None,
            liveness_timer: None,
            last_received: 0,
            channels: Map::default(),
            live_names: Map::default(),
            channels_created: 0,
            requests: Map::default(),
            request_keys: Map::default(),
            requests_made: 0,
            expired: VecDeque::new(),
        })
    }

    // ----- what the shell reads -----

    /// The next thing the shell must do, in order.
    pub fn poll(&mut self) -> Option<Output> {
        let output = self.outputs.pop_front();
        if output.is_none() {
            shrink_queue(&mut self.outputs);
        }
        output
    }

    /// When [`Self::handle_timeout`] must be called next, if anything is waiting.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.timers.next_deadline()
    }

    pub fn state(&self) -> ConnectionState {
        self.state
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The channel's state; `None` once a terminal channel has been released.
    pub fn channel_state(&self, id: ChannelId) -> Option<ChannelState> {
        self.channels.get(&id).map(|c| c.state)
    }

    pub fn channel_name(&self, id: ChannelId) -> Option<&str> {
        self.channels.get(&id).map(|c| &*c.name)
    }

    /// Everyone present in the channel, as of the latest presence message.
    pub fn presence(&self, id: ChannelId) -> Option<Rc<[JsonObject]>> {
        let channel = self.channels.get(&id)?;
        Some(channel.live.as_ref().map_or_else(|| Rc::from(Vec::new()), |live| live.presence.clone()))
    }

    /// Why the join was declined, for a DECLINED channel.
    pub fn join_error(&self, id: ChannelId) -> Option<&ChannelError> {
        match self.channels.get(&id)?.ending.as_deref()? {
            Ending::Declined(error) => Some(error),
            Ending::Evicted(_) => None,
        }
    }

    /// Why the server evicted this user, for a channel CLOSED by eviction.
    pub fn evicted_reason(&self, id: ChannelId) -> Option<&str> {
        match self.channels.get(&id)?.ending.as_deref()? {
            Ending::Evicted(reason) => Some(reason),
            Ending::Declined(_) => None,
        }
    }

    /// Whether [`Self::handle_message`] reads its `now`: only to watch the connection's liveness, when
    /// [`Options::ping_interval`] is set. A shell whose clock costs something per call may pass 0 otherwise.
    pub fn needs_time_of_messages(&self) -> bool {
        self.options.ping_interval.is_some()
    }

    /// Channels the core still holds (live ones and terminal ones with handles).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Requests waiting for a response.
    pub fn pending_request_count(&self) -> usize {
        self.requests.len()
    }

    /// Timers armed; with [`Self::channel_count`] and [`Self::pending_request_count`], what tests check for leaks.
    pub fn armed_timer_count(&self) -> usize {
        self.timers.len()
    }

    // ----- connection inputs -----

    /// Starts connecting, unless a socket is already opening or open. Cancels a scheduled reconnect.
    pub fn connect(&mut self, now: u64) {
        if self.socket.is_some() {
            return;
        }
        self.want_connected = true;
        self.failed_attempts = 0;
        self.timers.cancel(&mut self.reconnect_timer);
        self.open_socket(now);
    }

    /// Closes the connection for good: every channel becomes CLOSED, pending requests are rejected, and no reconnect
    /// follows until [`Self::connect`].
    pub fn disconnect(&mut self, _now: u64) {
        self.want_connected = false;
        self.timers.cancel(&mut self.connect_timer);
        self.timers.cancel(&mut self.reconnect_timer);
        self.timers.cancel(&mut self.liveness_timer);
        self.close_socket(CLOSE_NORMAL, "client disconnected");
        let live = self.live_channel_ids();
        for id in live {
            self.close_channel(id, CancelReason::Disconnected);
        }
        self.set_state(ConnectionState::Disconnected);
    }

    /// The socket opened; the connection is accepted only when the CONNECTION event follows.
    pub fn handle_socket_open(&mut self, socket: SocketId, now: u64) {
        if self.socket != Some(socket) || self.socket_open {
            return;
        }
        self.socket_open = true;
        self.last_received = now;
        if let Some(interval) = self.options.ping_interval {
            self.timers.rearm(&mut self.liveness_timer, TimerKind::Liveness, now + 2 * interval);
        }
    }

    /// The socket closed (or failed to open).
    pub fn handle_socket_close(&mut self, socket: SocketId, now: u64, code: u16, reason: &str) {
        if self.socket != Some(socket) {
            return;
        }
        self.socket = None;
        self.connection_lost(now, Some(Error::ConnectionClosed { code, reason: reason.to_owned() }));
    }

    /// The socket reported an error. Once open, its close follows and does the rest; before it opened, the attempt
    /// has failed (Node 20's WebSocket reports a refused connection with an error and no close).
    pub fn handle_socket_error(&mut self, socket: SocketId, now: u64, message: &str) {
        if self.socket != Some(socket) {
            return;
        }
        self.emit(Event::Error(Error::Socket(message.to_owned())));
        if !self.socket_open {
            self.close_socket(CLOSE_FAILED, "connection failed");
            self.connection_lost(now, None);
        }
    }

    /// A text frame arrived. Each malformed object in it is reported as [`Error::MalformedFrame`] and dropped; the
    /// others are processed in order.
    pub fn handle_frame(&mut self, socket: SocketId, frame: &str, now: u64) {
        if self.socket != Some(socket) {
            return;
        }
        self.last_received = now;
        for message in parse_frame(frame) {
            match message {
                Ok(message) => self.route(message, now),
                Err(error) => self.emit(Event::Error(error.into())),
            }
        }
    }

    /// One message of a frame the host parsed itself, typically with its payload as a [`Body::Host`]; the host
    /// checked what [`parse_message`](super::wire::parse_message) checks. Frames of several objects, malformed ones
    /// and those whose payload the core reads ([`payload_is_read`](super::wire::payload_is_read)) go to
    /// [`ClientCore::handle_frame`] instead.
    pub fn handle_message(&mut self, socket: SocketId, message: ServerMessage<'_>, now: u64) {
        if self.socket != Some(socket) {
            return;
        }
        self.last_received = now;
        self.route(message, now);
    }

    /// A binary frame arrived: the protocol has none, so it is reported and dropped.
    pub fn handle_binary_frame(&mut self, socket: SocketId, now: u64) {
        if self.socket != Some(socket) {
            return;
        }
        self.last_received = now;
        self.emit(Event::Error(Error::MalformedFrame(FrameError {
            kind: FrameErrorKind::Binary,
            excerpt: String::new(),
        })));
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        while let Some((_, kind)) = self.timers.pop_expired(now) {
            match kind {
                TimerKind::Connect => {
                    self.connect_timer = None;
                    if self.state == ConnectionState::Connecting {
                        self.close_socket(CLOSE_TIMEOUT, "connection timeout");
                        let timeout_ms = self.options.connection_timeout;
                        self.connection_lost(now, Some(Error::ConnectionTimeout { timeout_ms }));
                    }
                }
                TimerKind::Reconnect => {
                    self.reconnect_timer = None;
                    if self.want_connected && self.socket.is_none() {
                        self.open_socket(now);
                    }
                }
                TimerKind::Liveness => {
                    self.liveness_timer = None;
                    let Some(interval) = self.options.ping_interval else { continue };
                    if !self.socket_open {
                        continue;
                    }
                    let silent_ms = now.saturating_sub(self.last_received);
                    if silent_ms >= 2 * interval {
                        self.close_socket(CLOSE_TIMEOUT, "liveness timeout");
                        self.connection_lost(now, Some(Error::LivenessTimeout { silent_ms }));
                    } else {
                        let due = self.last_received + 2 * interval;
                        self.timers.rearm(&mut self.liveness_timer, TimerKind::Liveness, due);
                    }
                }
                TimerKind::Join(id) => self.join_timed_out(id),
                TimerKind::Request(key) => {
                    if let Some(pending) = self.requests.get_mut(&key) {
                        pending.timer = None;
                        let error =
                            Error::ResponseTimeout { event: pending.event.clone(), timeout_ms: pending.timeout_ms };
                        self.finish_request(key, Err(error), true);
                    }
                }
            }
        }
    }

    // ----- channel inputs -----

    /// The live channel named `name`, or a new IDLE one with these join params. A CLOSED or DECLINED channel of that
    /// name is never returned. Each call counts as one handle: see [`Self::release_channel`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name.
    pub fn create_channel(&mut self, name: &str, params: JsonObject) -> Result<ChannelId, Error> {
        if name.is_empty() {
            return Err(Error::InvalidArgument { name: "name", reason: "the channel name is empty".into() });
        }
        if let Some(&id) = self.live_names.get(name) {
            if let Some(channel) = self.channels.get_mut(&id) {
                channel.handles += 1;
                return Ok(id);
            }
        }
        self.channels_created += 1;
        let id = ChannelId(self.channels_created);
        let channel = Channel::new(name, params);
        self.live_names.insert(channel.name.clone(), id);
        self.channels.insert(id, channel);
        Ok(id)
    }

    /// Counts one more handle on the channel (a clone of a shell's channel handle).
    pub fn retain_channel(&mut self, id: ChannelId) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.handles += 1;
        }
    }

    /// Drops one handle on the channel. A channel with no handles left is forgotten once it is terminal (or at once
    /// if it never joined); a joined one stays, since its subscribers may still be listening.
    pub fn release_channel(&mut self, id: ChannelId) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        channel.handles = channel.handles.saturating_sub(1);
        if channel.handles == 0 && channel.state == ChannelState::Idle {
            // Nobody can join it any more: drop it without a word, rejecting what was sent on it before a join.
            self.end_channel(id, CancelReason::Left);
            self.channels.remove(&id);
            shrink_map(&mut self.channels);
        }
        self.forget_if_unused(id);
    }

    /// Asks to join the channel: at once when connected, else as soon as the connection is accepted.
    /// Joining, joined and stalled channels are left as they are.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel.
    pub fn join(&mut self, id: ChannelId, now: u64) -> Result<(), Error> {
        let state = self.usable_channel(id)?.state;
        if state == ChannelState::Idle {
            self.set_channel_state(id, ChannelState::Joining);
            if self.state == ConnectionState::Connected {
                self.send_join(id, now);
            }
        }
        Ok(())
    }

    /// Leaves the channel: tells the server if it may think we are in it, rejects the channel's pending requests,
    /// drops its queue, and ends CLOSED. Leaving a CLOSED or DECLINED channel does nothing.
    pub fn leave(&mut self, id: ChannelId, _now: u64) {
        let Some(channel) = self.channels.get(&id) else { return };
        if channel.state.is_terminal() {
            return;
        }
        // A join in flight may still be accepted, so the server must hear the leave too.
        if channel.state == ChannelState::Joined || channel.join_pending() {
            let name = channel.name.clone();
            self.send_leave(&name);
        }
        self.close_channel(id, CancelReason::Left);
    }

    /// Broadcasts `event` on the channel: sent at once when joined, queued otherwise.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel; [`Error::InvalidArgument`] for an empty event.
    pub fn send_message(&mut self, id: ChannelId, event: &str, payload: &JsonObject) -> Result<(), Error> {
        check_event(event)?;
        let name = self.usable_channel(id)?.name.clone();
        let request_id = self.rng.uuid_v4();
        let frame = encode_client_message(ClientAction::Broadcast, event, &name, &request_id, payload);
        self.send_or_queue(id, frame, None);
        Ok(())
    }

    /// Broadcasts `event` and waits for the server message that carries the same requestId, whatever its event name.
    /// The outcome arrives as [`Event::Response`] with the returned handle.
    ///
    /// # Errors
    /// As [`Self::send_message`], and [`Error::InvalidOption`] for a timeout out of range.
    pub fn send_for_response(
        &mut self,
        id: ChannelId,
        event: &str,
        payload: &JsonObject,
        timeout_ms: Option<u64>,
        now: u64,
    ) -> Result<RequestHandle, Error> {
        check_event(event)?;
        let timeout_ms = timeout_ms.unwrap_or(self.options.response_timeout);
        check_duration("timeoutMs", timeout_ms)?;
        let name = self.usable_channel(id)?.name.clone();
        let request_id = self.rng.uuid_v4();
        let frame = encode_client_message(ClientAction::Broadcast, event, &name, &request_id, payload);
        self.requests_made += 1;
        let key = self.requests_made;
        let mut timer = None;
        self.timers.rearm(&mut timer, TimerKind::Request(key), now + timeout_ms);
        let request_id: Box<str> = request_id.into();
        self.request_keys.insert(request_id.clone(), key);
        self.requests.insert(
            key,
            PendingRequest { channel: id, request_id, event: event.to_owned(), timeout_ms, timer, sent: false },
        );
        self.send_or_queue(id, frame, Some(key));
        Ok(RequestHandle(key))
    }

    // ----- internals -----

    /// Channels that are not CLOSED or DECLINED, in creation order.
    fn live_channel_ids(&self) -> Vec<ChannelId> {
        // Sorted as u64, as request keys are: one instance of the sort in the wasm, not two.
        let mut ids: Vec<u64> =
            self.channels.iter().filter(|(_, c)| !c.state.is_terminal()).map(|(id, _)| u64::from(id.0)).collect();
        ids.sort_unstable();
        ids.into_iter().map(|id| ChannelId(id as u32)).collect()
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state;
            self.emit(Event::ConnectionState(state));
        }
    }

    fn set_channel_state(&mut self, id: ChannelId, state: ChannelState) {
        if let Some(channel) = self.channels.get_mut(&id) {
            if channel.state != state {
                channel.state = state;
                self.emit(Event::Channel(id, ChannelEvent::State(state)));
            }
        }
    }

    fn usable_channel(&self, id: ChannelId) -> Result<&Channel, Error> {
        match self.channels.get(&id) {
            Some(channel) if !channel.state.is_terminal() => Ok(channel),
            Some(channel) => Err(Error::ChannelUnavailable { channel: channel.name.to_string(), state: channel.state }),
            None => Err(Error::ChannelUnavailable { channel: String::new(), state: ChannelState::Closed }),
        }
    }

    fn open_socket(&mut self, now: u64) {
        self.sockets_opened += 1;
        let socket = SocketId(self.sockets_opened);
        self.socket = Some(socket);
        self.socket_open = false;
        self.outputs.push_back(Output::Open { socket, url: self.url.clone() });
        let deadline = now + self.options.connection_timeout;
        self.timers.rearm(&mut self.connect_timer, TimerKind::Connect, deadline);
        self.set_state(ConnectionState::Connecting);
    }

    fn close_socket(&mut self, code: u16, reason: &'static str) {
        if let Some(socket) = self.socket.take() {
            self.outputs.push_back(Output::Close { socket, code, reason });
        }
        self.socket_open = false;
    }

    /// The socket is gone while we wanted it: stall the channels, fail what was in flight, and plan a reconnect.
    fn connection_lost(&mut self, now: u64, error: Option<Error>) {
        self.socket_open = false;
        self.timers.cancel(&mut self.connect_timer);
        self.timers.cancel(&mut self.liveness_timer);
        if let Some(error) = error {
            self.emit(Event::Error(error));
        }

        let ids = self.live_channel_ids();
        for id in ids {
            let Some(channel) = self.channels.get_mut(&id) else { continue };
            let Some(live) = channel.live.as_deref_mut() else { continue };
            // A join in flight died with the socket; it is sent again on the next connection.
            live.join_request = None;
            self.timers.cancel(&mut live.join_timer);
            if channel.state == ChannelState::Joined {
                self.set_channel_state(id, ChannelState::Stalled);
            }
        }
        let in_flight = self.requests_where(|r| r.sent);
        self.cancel_requests(in_flight, &CancelReason::ConnectionLost);
        self.set_state(ConnectionState::Disconnected);
        self.schedule_reconnect(now);
    }

    fn schedule_reconnect(&mut self, now: u64) {
        if !self.want_connected {
            return;
        }
        if let Some(max) = self.options.max_reconnect_attempts {
            if self.failed_attempts >= max {
                self.want_connected = false;
                self.emit(Event::Error(Error::ReconnectGaveUp { attempts: self.failed_attempts }));
                return;
            }
        }
        let delay_ms = self.backoff_delay(self.failed_attempts);
        self.failed_attempts += 1;
        let at = now + delay_ms;
        self.timers.rearm(&mut self.reconnect_timer, TimerKind::Reconnect, at);
        self.emit(Event::ReconnectScheduled { attempt: self.failed_attempts, at, delay_ms });
    }

    /// The delay before reconnect attempt `n` (0-based): `min(max, base * 2^n)`, with "equal jitter": half of it
    /// fixed and half drawn uniformly, so clients that lost the same server spread out but none retries sooner than
    /// half the nominal delay.
    pub(crate) fn backoff_delay(&mut self, n: u32) -> u64 {
        let nominal =
            self.options.base_reconnect_delay.saturating_mul(1u64 << n.min(62)).min(self.options.max_reconnect_delay);
        let fixed = nominal / 2;
        fixed + self.rng.up_to(nominal - fixed)
    }

    fn route(&mut self, message: ServerMessage<'_>, now: u64) {
        if message.action == ServerAction::Connect {
            self.connection_accepted(now);
            return;
        }
        if let Some(request_id) = message.request_id.as_deref() {
            if let Some(&key) = self.request_keys.get(request_id) {
                if self.reply_to_request(key, &message) {
                    return;
                }
            }
        }
        match self.live_names.get(&*message.channel_name) {
            Some(&id) => self.route_to_channel(id, message),
            None => {
                // Messages for a channel we left are expected (EXIT_ACKNOWLEDGE, a late ACKNOWLEDGE): only errors
                // about the connection itself are worth a report.
                let about_connection = message.action == ServerAction::Error || message.channel_name == GATEWAY;
                let late = message.request_id.as_deref().is_some_and(|r| self.is_expired(r));
                if let (true, false, Some(payload)) = (about_connection, late, message.body.object()) {
                    let (event, channel) = (message.event, message.channel_name);
                    let (event, channel) = (event.into_owned(), channel.into_owned());
                    self.emit(Event::Error(Error::Server { event, channel, payload }));
                }
            }
        }
    }

    /// Completes the request `key` if `message` answers it; false if the message is not its reply.
    fn reply_to_request(&mut self, key: u64, message: &ServerMessage<'_>) -> bool {
        if matches!(message.body, Body::Presence { .. }) {
            return false;
        }
        let Some(pending) = self.requests.get(&key) else { return false };
        let same_channel = self.channels.get(&pending.channel).is_some_and(|c| *c.name == message.channel_name);
        let outcome = match message.action {
            ServerAction::Error => {
                let text = message.body.object().unwrap_or_else(JsonObject::empty);
                let error = ChannelError::from_payload(&message.event, &text, 400, "request rejected".into());
                Err(Error::RequestCancelled { event: pending.event.clone(), reason: CancelReason::Rejected(error) })
            }
            _ if same_channel => match message.body.clone().into_payload() {
                Some(payload) => Ok(payload),
                None => return false,
            },
            _ => return false,
        };
        self.finish_request(key, outcome, false);
        true
    }

    fn route_to_channel(&mut self, id: ChannelId, message: ServerMessage<'_>) {
        let body = match message.body {
            Body::Presence { kind, presence, changed } => {
                let Some(channel) = self.channels.get_mut(&id) else { return };
                let Some(live) = channel.live.as_deref_mut() else { return };
                // The snapshot follows the server even before the join is acknowledged; subscribers hear of changes
                // only once joined.
                live.presence = Rc::from(presence);
                if channel.state == ChannelState::Joined {
                    let presence = live.presence.clone();
                    self.emit(Event::Channel(id, ChannelEvent::Presence { kind, changed, presence }));
                }
                return;
            }
            body => body,
        };
        if message.request_id.as_deref().is_some_and(|r| self.is_expired(r)) {
            return;
        }
        let Some(channel) = self.channels.get(&id) else { return };
        let state = channel.state;
        // While a join is in flight it is the only thing this socket carries for the channel (everything else waits
        // in the queue), so a refusal answers the join whatever its requestId.
        let join_request = channel.live.as_ref().and_then(|live| live.join_request.as_deref());
        let join_pending = matches!(state, ChannelState::Joining | ChannelState::Stalled) && join_request.is_some();
        let answers_join = join_pending && join_request == message.request_id.as_deref();
        let name = channel.name.clone();
        match (message.action, &*message.event) {
            (ServerAction::System, "ACKNOWLEDGE") => {
                if answers_join {
                    self.channel_joined(id);
                }
            }
            (ServerAction::System, event @ ("UNAUTHORIZED" | "NOT_FOUND")) | (ServerAction::Error, event) => {
                let (status, default_message) = match event {
                    "UNAUTHORIZED" => (401, format!("not allowed to join \"{name}\"")),
                    "NOT_FOUND" => (404, format!("channel \"{name}\" not found")),
                    _ => (400, format!("server error on \"{name}\"")),
                };
                let payload = body.object().unwrap_or_else(JsonObject::empty);
                let error = ChannelError::from_payload(event, &payload, status, default_message);
                if join_pending {
                    self.decline(id, error);
                } else if state != ChannelState::Idle {
                    self.emit(Event::Channel(id, ChannelEvent::Error(error)));
                }
            }
            (ServerAction::System, "EVICTED") => {
                let payload = body.object().unwrap_or_else(JsonObject::empty);
                let reason = payload.string_member("reason").unwrap_or_else(|| "evicted by the server".into());
                self.evict(id, reason);
            }
            (ServerAction::System, "EXIT_ACKNOWLEDGE") => {}
            _ => {
                if let (ChannelState::Joined, Some(payload)) = (state, body.into_payload()) {
                    let event = message.event.into_owned();
                    self.emit(Event::Channel(id, ChannelEvent::Message { event, payload }));
                }
            }
        }
    }

    fn connection_accepted(&mut self, now: u64) {
        if self.state == ConnectionState::Connected || !self.socket_open {
            return;
        }
        self.timers.cancel(&mut self.connect_timer);
        self.failed_attempts = 0;
        self.set_state(ConnectionState::Connected);
        let waiting: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, c)| matches!(c.state, ChannelState::Joining | ChannelState::Stalled))
            .map(|(&id, _)| id)
            .collect();
        // No join is in flight here: joins are sent only while connected, and a lost connection clears them.
        for id in waiting {
            self.send_join(id, now);
        }
    }

    fn send_join(&mut self, id: ChannelId, now: u64) {
        let request_id = self.rng.uuid_v4();
        let deadline = now + self.options.join_timeout;
        let Some(channel) = self.channels.get_mut(&id) else { return };
        let Some(live) = channel.live.as_deref_mut() else { return };
        let frame =
            encode_client_message(ClientAction::JoinChannel, "JOIN_CHANNEL", &channel.name, &request_id, &live.params);
        live.join_request = Some(request_id.into());
        self.timers.rearm(&mut live.join_timer, TimerKind::Join(id), deadline);
        self.outputs.push_back(Output::Send(frame));
    }

    fn channel_joined(&mut self, id: ChannelId) {
        let Some(live) = self.channels.get_mut(&id).and_then(|c| c.live.as_deref_mut()) else { return };
        live.join_request = None;
        self.timers.cancel(&mut live.join_timer);
        let queued = std::mem::take(&mut live.queue);
        self.set_channel_state(id, ChannelState::Joined);
        for Queued { frame, request } in queued {
            if let Some(pending) = request.and_then(|key| self.requests.get_mut(&key)) {
                pending.sent = true;
            }
            self.outputs.push_back(Output::Send(frame));
        }
    }

    fn join_timed_out(&mut self, id: ChannelId) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        let Some(live) = channel.live.as_deref_mut() else { return };
        live.join_timer = None;
        if live.join_request.is_none() || !matches!(channel.state, ChannelState::Joining | ChannelState::Stalled) {
            return;
        }
        let error = ChannelError {
            code: "JOIN_TIMEOUT".into(),
            message: format!("timed out joining channel \"{}\" after {} ms", channel.name, self.options.join_timeout),
            status: 408,
        };
        // The server may still accept the join later; make sure it does not keep us in the channel.
        if self.socket_open {
            let name = channel.name.clone();
            self.send_leave(&name);
        }
        self.decline(id, error);
    }

    fn send_leave(&mut self, name: &str) {
        let request_id = self.rng.uuid_v4();
        let frame =
            encode_client_message(ClientAction::LeaveChannel, "LEAVE_CHANNEL", name, &request_id, &JsonObject::empty());
        self.outputs.push_back(Output::Send(frame));
    }

    fn decline(&mut self, id: ChannelId, error: ChannelError) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.ending = Some(Box::new(Ending::Declined(error.clone())));
        }
        let detail = ChannelEvent::Declined(error.clone());
        self.terminate(id, CancelReason::Declined(error), Some(detail), ChannelState::Declined);
    }

    fn evict(&mut self, id: ChannelId, reason: String) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.ending = Some(Box::new(Ending::Evicted(reason.clone())));
        }
        let detail = ChannelEvent::Evicted(reason.clone());
        self.terminate(id, CancelReason::Evicted(reason), Some(detail), ChannelState::Closed);
    }

    fn close_channel(&mut self, id: ChannelId, reason: CancelReason) {
        self.terminate(id, reason, None, ChannelState::Closed);
    }

    /// Ends the channel in `state`: its requests rejected with `reason`, then `detail` (why) and the state change
    /// reported, then the channel forgotten if no handle holds it.
    fn terminate(&mut self, id: ChannelId, reason: CancelReason, detail: Option<ChannelEvent>, state: ChannelState) {
        self.end_channel(id, reason);
        if let Some(detail) = detail {
            self.emit(Event::Channel(id, detail));
        }
        self.set_channel_state(id, state);
        self.forget_if_unused(id);
    }

    /// What every terminal transition shares: the name is free again, the params, queue, timer and presence go
    /// (a handle may keep a terminal channel for as long as the garbage collector lets it live: only what its
    /// getters read stays), and the channel's requests are rejected with `reason`.
    fn end_channel(&mut self, id: ChannelId, reason: CancelReason) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        self.live_names.remove(&channel.name);
        shrink_map(&mut self.live_names);
        if let Some(mut live) = channel.live.take() {
            self.timers.cancel(&mut live.join_timer);
        }
        let keys = self.requests_where(|r| r.channel == id);
        self.cancel_requests(keys, &reason);
    }

    /// The keys of the requests that match, in the order they were made.
    fn requests_where(&self, matches: impl Fn(&PendingRequest) -> bool) -> Vec<u64> {
        let mut keys: Vec<u64> = self.requests.iter().filter(|(_, r)| matches(r)).map(|(&k, _)| k).collect();
        keys.sort_unstable();
        keys
    }

    fn cancel_requests(&mut self, keys: Vec<u64>, reason: &CancelReason) {
        for key in keys {
            let Some(event) = self.requests.get(&key).map(|r| r.event.clone()) else { continue };
            let error = Error::RequestCancelled { event, reason: reason.clone() };
            self.finish_request(key, Err(error), false);
        }
    }

    fn forget_if_unused(&mut self, id: ChannelId) {
        if self.channels.get(&id).is_some_and(|c| c.handles == 0 && c.state.is_terminal()) {
            self.channels.remove(&id);
            shrink_map(&mut self.channels);
        }
    }

    fn send_or_queue(&mut self, id: ChannelId, frame: String, request: Option<u64>) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        if channel.state == ChannelState::Joined {
            if let Some(pending) = request.and_then(|key| self.requests.get_mut(&key)) {
                pending.sent = true;
            }
            self.outputs.push_back(Output::Send(frame));
            return;
        }
        let Some(live) = channel.live.as_deref_mut() else { return };
        live.queue.push_back(Queued { frame, request });
        if live.queue.len() > self.options.max_queue_size {
            if let Some(Queued { request: Some(key), .. }) = live.queue.pop_front() {
                if let Some(pending) = self.requests.get(&key) {
                    let error =
                        Error::RequestCancelled { event: pending.event.clone(), reason: CancelReason::QueueOverflow };
                    self.finish_request(key, Err(error), false);
                }
            }
        }
    }

    /// Removes the request, cancels its timer, takes it out of its channel's queue if it never left, and reports the
    /// outcome. A timed-out request's id is remembered so that its late reply is dropped, not delivered.
    fn finish_request(&mut self, key: u64, outcome: Result<Payload, Error>, expired: bool) {
        let Some(mut pending) = self.requests.remove(&key) else { return };
        shrink_map(&mut self.requests);
        self.request_keys.remove(&pending.request_id);
        shrink_map(&mut self.request_keys);
        self.timers.cancel(&mut pending.timer);
        if !pending.sent {
            if let Some(live) = self.channels.get_mut(&pending.channel).and_then(|c| c.live.as_deref_mut()) {
                live.queue.retain(|q| q.request != Some(key));
            }
        }
        if expired && pending.sent {
            if self.expired.len() == EXPIRED_MEMORY {
                self.expired.pop_front();
            }
            self.expired.push_back(pending.request_id);
        }
        self.emit(Event::Response(RequestHandle(key), outcome));
    }

    fn is_expired(&self, request_id: &str) -> bool {
        self.expired.iter().any(|r| &**r == request_id)
    }
}

fn check_event(event: &str) -> Result<(), Error> {
    if event.is_empty() {
        return Err(Error::InvalidArgument { name: "event", reason: "the event name is empty".into() });
    }
    Ok(())
}
