//! The client's state and what the shell reads of it: the [`ClientCore`] struct, its outputs and events, and the
//! accessors. The inputs live beside it by concern: [`crate::connection`] (sockets, timers, reconnects),
//! [`crate::routing`] (server messages), [`crate::channels`] (channel calls and lifecycle) and [`crate::requests`].
//!
//! Inputs are method calls given the current time in milliseconds. Outputs wait in a queue the shell drains with
//! [`ClientCore::poll`]: sockets to open or close, frames to send, events to deliver. [`ClientCore::poll_timeout`]
//! says when the shell must call [`ClientCore::handle_timeout`] next. Nothing here calls user code, so the shell can
//! release its borrow of the core before it runs any callback.
//!
//! ```
//! use pondsocket_proto::{ClientCore, ConnectionState, Instant, JsonObject, Options, Output};
//! let mut core = ClientCore::<JsonObject>::new("ws://localhost/socket".into(), Options::default(), [0; 32]).unwrap();
//! core.connect(Instant::from_millis(0));
//! let Some(Output::Open { socket, .. }) = core.poll() else { panic!() };
//! core.handle_socket_open(socket, Instant::from_millis(5));
//! let accepted = r#"{"action":"CONNECT","event":"CONNECTION","channelName":"GATEWAY","requestId":"x","payload":{}}"#;
//! core.handle_frame(socket, accepted, Instant::from_millis(6));
//! assert_eq!(core.state(), ConnectionState::Connected);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use crate::channel::{Channel, ChannelId, ChannelState, Ending};
use crate::endpoints::Endpoints;
use crate::error::{ChannelError, Error};
use crate::life::Page;
use crate::log::LogRecord;
use crate::map::Map;
use crate::memory::shrink_queue;
use crate::options::Options;
use crate::ordered::Ordered;
use crate::payload::Payload;
use crate::requests::PendingRequest;
use crate::rng::Rng;
use crate::time::Instant;
use crate::timers::{TimerSlot, Timers};
use crate::wire::PresenceKind;

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

/// The transport of one connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    WebSocket,
    /// Server-Sent Events: the host reads an event stream from the URL, and POSTs each frame to it.
    Sse,
}

impl Transport {
    /// The name JS sees: `websocket` or `sse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Sse => "sse",
        }
    }
}

/// Identifies one socket the core asked the shell to open. Events of an older socket are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketId(pub(crate) u32);

/// Identifies a `sendForResponse` call until its [`Event::Response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestHandle(pub u64);

/// Something the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Output<P: Payload> {
    /// Open a connection to `url` over `transport` (for SSE an http(s) URL); report its events with `socket`.
    Open { socket: SocketId, url: String, transport: Transport },
    /// Close that socket with this code and reason; do not report its close.
    Close { socket: SocketId, code: u16, reason: &'static str },
    /// Send this text frame on the open socket.
    Send(String),
    /// Deliver this to subscribers.
    Event(Event<P>),
}

/// Something subscribers are told.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<P: Payload> {
    /// The connection state changed.
    ConnectionState(ConnectionState),
    /// A reconnect attempt (1-based) will start at `at` (the same clock as `now`), `delay_ms` from now.
    ReconnectScheduled { attempt: u32, at: Instant, delay_ms: u64 },
    /// An error for the client's `onError`: malformed frames, server errors, socket trouble.
    Error(Error<P>),
    /// Something happened on a channel.
    Channel(ChannelId, ChannelEvent<P>),
    /// A request ended: its response, or why there is none.
    Response(RequestHandle, Result<P, Error<P>>),
    /// A line of the debug log (only with [`Options::log`]).
    Log(Box<LogRecord<P>>),
}

/// What happened on a channel.
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelEvent<P: Payload> {
    /// The channel moved to this state.
    State(ChannelState),
    /// A message for `onMessage`.
    Message { event: String, payload: P },
    /// Presence changed; `presence` is everyone present now.
    Presence { kind: PresenceKind, changed: P, presence: P::List },
    /// The first presence list after a rejoin: everyone present now, and the list from before the connection was
    /// lost, for the host to tell who arrived or left meanwhile (by its own notion of the same user).
    PresenceSync { previous: P::List, presence: P::List },
    /// The join was refused or timed out; the next event is `State(Declined)`.
    Declined(ChannelError),
    /// The server removed this user; the next event is `State(Closed)`.
    Evicted(String),
    /// The server reported an error about this channel that does not change its state.
    Error(ChannelError),
}

pub(crate) const CLOSE_NORMAL: u16 = 1000;
pub(crate) const CLOSE_TIMEOUT: u16 = 4000;
pub(crate) const CLOSE_FAILED: u16 = 4001;

/// The client: connection and channel state machines, outbound queues and pending requests. `P` is the host's
/// payload type: what it parsed server messages into.
pub struct ClientCore<P: Payload> {
    pub(crate) endpoints: Endpoints,
    pub(crate) options: Options,
    pub(crate) rng: Rng,
    pub(crate) timers: Timers,
    pub(crate) outputs: VecDeque<Output<P>>,

    pub(crate) state: ConnectionState,
    pub(crate) want_connected: bool,
    pub(crate) socket: Option<SocketId>,
    pub(crate) socket_open: bool,
    pub(crate) sockets_opened: u32,
    /// Reconnect attempts in a row, towards `max_reconnect_attempts`.
    pub(crate) failed_attempts: u32,
    /// Where the backoff's delay stands: the failed attempts in a row since the last success or the page's return
    /// (which resets the delay, not the attempt count).
    pub(crate) backoff_step: u32,
    /// What the host said of its page; all false/none in a host with no page (Node).
    pub(crate) page: Page,
    pub(crate) sleep_timer: TimerSlot,
    /// The transport of the current (or last) connection attempt.
    pub(crate) transport: Transport,
    /// The server's id for this connection, from its CONNECTION event.
    pub(crate) connection_id: Option<Box<str>>,
    pub(crate) connect_timer: TimerSlot,
    pub(crate) reconnect_timer: TimerSlot,
    pub(crate) liveness_timer: TimerSlot,
    pub(crate) last_received: Instant,

    pub(crate) channels: Ordered<ChannelId, Channel<P>>,
    pub(crate) live_names: Map<Rc<str>, ChannelId>,
    pub(crate) channels_created: u32,

    // By creation, so that cancelling a channel's requests rejects them in the order they were made.
    pub(crate) requests: Ordered<u64, PendingRequest>,
    pub(crate) request_keys: Map<Box<str>, u64>,
    pub(crate) requests_made: u64,
    pub(crate) expired: VecDeque<Box<str>>,
}

impl<P: Payload> ClientCore<P> {
    /// A disconnected client for `url` (a ws/wss URL the host resolved), seeded for ids and jitter.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when an option is out of range.
    pub fn new(url: String, options: Options, seed: [u8; 32]) -> Result<Self, Error<P>> {
        Self::with_endpoints(vec![url], options, seed)
    }

    /// A disconnected client for several servers of one cluster (ws/wss URLs the host resolved): it uses one at a
    /// time and moves to the next, round robin, after every failed attempt or lost connection.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an empty list; [`Error::InvalidOption`] when an option is out of range.
    pub fn with_endpoints(urls: Vec<String>, options: Options, seed: [u8; 32]) -> Result<Self, Error<P>> {
        options.validate()?;
        let endpoints =
            Endpoints::new(urls).ok_or_else(|| Error::InvalidUrl("the list of endpoints is empty".into()))?;
        // Before the first attempt: the transport it will use.
        let transport = endpoints.transport(options.transport);
        Ok(ClientCore {
            endpoints,
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
            backoff_step: 0,
            page: Page::default(),
            sleep_timer: None,
            transport,
            connection_id: None,
            connect_timer: None,
            reconnect_timer: None,
            liveness_timer: None,
            last_received: Instant::default(),
            channels: Ordered::default(),
            live_names: Map::default(),
            channels_created: 0,
            requests: Ordered::default(),
            request_keys: Map::default(),
            requests_made: 0,
            expired: VecDeque::new(),
        })
    }

    /// The next thing the shell must do, in order.
    pub fn poll(&mut self) -> Option<Output<P>> {
        let output = self.outputs.pop_front();
        if output.is_none() {
            shrink_queue(&mut self.outputs);
        }
        output
    }

    /// When [`Self::handle_timeout`] must be called next, if anything is waiting.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The URL of the endpoint in use, or of the one the next attempt goes to, in the form of the transport of the
    /// current (or last) attempt: ws(s) for WebSocket, http(s) for SSE.
    pub fn endpoint(&self) -> String {
        self.endpoints.url(self.transport)
    }

    /// How many endpoints the client goes round.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }

    /// The transport of the current connection, or of the attempt under way or last made.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The server's id for the current connection (its CONNECTION event's `connectionId`, or `id`); `None` until
    /// the connection is accepted, and after it is lost.
    pub fn connection_id(&self) -> Option<&str> {
        self.connection_id.as_deref()
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
    pub fn presence(&self, id: ChannelId) -> Option<P::List> {
        let channel = self.channels.get(&id)?;
        Some(channel.live.as_ref().map(|live| live.presence.clone()).unwrap_or_default())
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

    /// Channels that are not CLOSED or DECLINED, in creation order.
    pub(crate) fn live_channel_ids(&self) -> Vec<ChannelId> {
        self.channels.iter().filter(|(_, c)| !c.state.is_terminal()).map(|(&id, _)| id).collect()
    }

    pub(crate) fn emit(&mut self, event: Event<P>) {
        self.log_event(&event);
        self.outputs.push_back(Output::Event(event));
    }

    pub(crate) fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state;
            self.emit(Event::ConnectionState(state));
        }
    }

    pub(crate) fn set_channel_state(&mut self, id: ChannelId, state: ChannelState) {
        if let Some(channel) = self.channels.get_mut(&id) {
            if channel.state != state {
                channel.state = state;
                self.emit(Event::Channel(id, ChannelEvent::State(state)));
            }
        }
    }
}
