//! The runtime of one client: the core, its socket and the subscribers behind one `RefCell`; the wake-up timer
//! beside it.
//!
//! Every input borrows the core only long enough to hand it the input; [`drain`] then carries out the core's outputs
//! one at a time and calls subscribers with no borrow held ("take, then call"), so a callback may call anything on
//! the client or its channels. A callback that causes more outputs does not drain them itself: the loop already
//! running picks them up in order.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::codec::Codec;
use crate::listeners::Listeners;
use crate::page::PageWatch;
use crate::params::ParamsWait;
use crate::platform::{self, now};
use crate::timer::WakeTimer;
use crate::transport::Connection;
use pondsocket_proto::map::Map;
use pondsocket_proto::ordered::Ordered;
use pondsocket_proto::{
    ChannelError, ChannelEvent, ChannelId, ChannelState, ClientCore, ConnectionState, Error, Event, Instant, LogRecord,
    Output, Payload, PresenceKind, RequestHandle, SocketId, Transport,
};

pub(crate) type StateListener = dyn Fn(ConnectionState);
pub(crate) type ErrorListener<P> = dyn Fn(&Error<P>);
pub(crate) type ReconnectListener = dyn Fn(u32, u64);
pub(crate) type LogListener<P> = dyn Fn(&LogRecord<P>);
pub(crate) type MessageListener<P> = dyn Fn(&str, &P);
/// A message's payload and its event's query string ("" when it has none).
pub(crate) type EventListener<P> = dyn Fn(&P, &str);
/// What a presence listener hears: a change the server announced, or, after a rejoin, who arrived and who left
/// while the connection was away, then the new list once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PresenceNews {
    Changed(PresenceKind),
    Arrived,
    Departed,
    Synced,
}
pub(crate) type PresenceListener<P> = dyn Fn(PresenceNews, Option<&P>, &<P as Payload>::List);
pub(crate) type ChannelStateListener = dyn Fn(ChannelState);
pub(crate) type ChannelErrorListener = dyn Fn(&ChannelError);
/// Called once with a request's outcome.
pub type ResponseCallback<P> = Box<dyn FnOnce(Result<P, Error<P>>)>;

pub(crate) struct ChannelListeners<P: Payload> {
    pub(crate) message: Listeners<MessageListener<P>>,
    pub(crate) by_event: Map<String, Listeners<EventListener<P>>>,
    pub(crate) presence: Listeners<PresenceListener<P>>,
    pub(crate) state: Listeners<ChannelStateListener>,
    pub(crate) error: Listeners<ChannelErrorListener>,
}

impl<P: Payload> Default for ChannelListeners<P> {
    fn default() -> Self {
        ChannelListeners {
            message: Listeners::default(),
            by_event: Map::default(),
            presence: Listeners::default(),
            state: Listeners::default(),
            error: Listeners::default(),
        }
    }
}

pub(crate) struct Inner<C: Codec> {
    pub(crate) core: ClientCore<C::Payload>,
    socket: Option<Connection>,
    host: crate::HostOptions,
    pub(crate) state_listeners: Listeners<StateListener>,
    pub(crate) error_listeners: Listeners<ErrorListener<C::Payload>>,
    pub(crate) reconnect_listeners: Listeners<ReconnectListener>,
    pub(crate) log_listeners: Listeners<LogListener<C::Payload>>,
    pub(crate) channels: Ordered<ChannelId, ChannelListeners<C::Payload>>,
    pub(crate) requests: Ordered<RequestHandle, ResponseCallback<C::Payload>>,
}

type Deferred<C> = Box<dyn FnOnce(&Rc<Shared<C>>)>;

pub(crate) struct Shared<C: Codec> {
    pub(crate) inner: RefCell<Inner<C>>,
    /// Outside `inner`: the host's timer calls run with nothing borrowed.
    pub(crate) timer: WakeTimer<C>,
    draining: Cell<bool>,
    /// Work that found the runtime borrowed (a handle dropped from inside our own code): done at the next drain.
    deferred: RefCell<Vec<Deferred<C>>>,
    /// The page's listeners, for as long as the client lives (none in Node).
    page: OnceCell<PageWatch>,
}

impl<C: Codec> Shared<C> {
    pub(crate) fn new(core: ClientCore<C::Payload>, host: crate::HostOptions) -> Rc<Self> {
        let shared = Rc::new_cyclic(|weak| Shared {
            inner: RefCell::new(Inner {
                core,
                socket: None,
                host,
                state_listeners: Listeners::default(),
                error_listeners: Listeners::default(),
                reconnect_listeners: Listeners::default(),
                log_listeners: Listeners::default(),
                channels: Ordered::default(),
                requests: Ordered::default(),
            }),
            timer: WakeTimer::new(weak.clone()),
            draining: Cell::new(false),
            deferred: RefCell::new(Vec::new()),
            page: OnceCell::new(),
        });
        // Once the client exists: the watch reports the page's state at once.
        if let Some(watch) = PageWatch::start(Rc::downgrade(&shared)) {
            let _ = shared.page.set(watch);
        }
        shared
    }

    /// Runs `input` on the core, then carries out what it asked for.
    pub(crate) fn with_core<T>(self: &Rc<Self>, input: impl FnOnce(&mut ClientCore<C::Payload>, Instant) -> T) -> T {
        let now = now();
        let result = input(&mut self.inner.borrow_mut().core, now);
        drain(self);
        result
    }

    /// Runs `work` now, or at the next drain if the runtime is borrowed; either way with nothing borrowed, then drains.
    pub(crate) fn when_free(self: &Rc<Self>, work: impl FnOnce(&Rc<Self>) + 'static) {
        if self.inner.try_borrow_mut().is_err() {
            self.deferred.borrow_mut().push(Box::new(work));
            return;
        }
        work(self);
        drain(self);
    }

    /// Drops one handle on a channel, now or, if the runtime is borrowed, at the next drain.
    pub(crate) fn release_channel(self: &Rc<Self>, id: ChannelId) {
        self.when_free(move |shared| shared.release_now(id));
    }

    /// Drops one handle in the core, and the channel's listeners with the channel if the core forgot it.
    fn release_now(&self, id: ChannelId) {
        self.inner.borrow_mut().core.release_channel(id);
        if self.inner.borrow().core.channel_state(id).is_none() {
            self.forget_listeners(id);
        }
    }

    fn forget_listeners(&self, id: ChannelId) {
        // Taken out first, dropped after the borrow ends: a listener's drop may touch the client.
        let removed = self.inner.borrow_mut().channels.remove(&id);
        drop(removed);
    }

    /// Tells the client's `onError` subscribers.
    pub(crate) fn report(&self, error: &Error<C::Payload>) {
        let listeners = self.inner.borrow().error_listeners.snapshot();
        for (_, listener) in listeners.iter() {
            listener(error);
        }
    }
}

/// Carries out the core's outputs until there are none, then re-arms the timer.
pub(crate) fn drain<C: Codec>(shared: &Rc<Shared<C>>) {
    if shared.draining.replace(true) {
        return;
    }
    loop {
        let deferred: Vec<Deferred<C>> = std::mem::take(&mut *shared.deferred.borrow_mut());
        for work in deferred {
            work(shared);
        }
        let output = shared.inner.borrow_mut().core.poll();
        match output {
            None => break,
            Some(Output::Open { socket, url, transport }) => open_socket(shared, socket, &url, transport),
            Some(Output::Close { socket, code, reason }) => {
                let driver = take_socket(shared, socket);
                if let Some(driver) = driver {
                    driver.close(code, reason);
                }
            }
            Some(Output::Send(frame)) => {
                // Sent with no borrow held: a scripted socket may answer from inside send().
                let socket = {
                    let inner = shared.inner.borrow();
                    inner.socket.as_ref().and_then(|s| s.sender(inner.core.connection_id()))
                };
                if let Some(Err(message)) = socket.map(|s| s.send(&frame)) {
                    shared.report(&Error::Socket(["send failed: ", &message].concat()));
                }
            }
            Some(Output::Event(event)) => deliver(shared, event),
        }
    }
    shared.draining.set(false);
    rearm_timer(shared);
}

fn take_socket<C: Codec>(shared: &Shared<C>, socket: SocketId) -> Option<Connection> {
    let mut inner = shared.inner.borrow_mut();
    if inner.socket.as_ref().is_some_and(|s| s.id() == socket) {
        inner.socket.take()
    } else {
        None
    }
}

/// Opens the connection the core asked for, once the params function (if any) has given this attempt's params.
fn open_socket<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, url: &str, transport: Transport) {
    let source = shared.inner.borrow().host.params.clone();
    match source {
        Some(source) => {
            let wait = ParamsWait::start(shared, socket, url, transport, &source);
            let previous = shared.inner.borrow_mut().socket.replace(Connection::Params(wait));
            drop(previous);
        }
        None => open_now(shared, socket, url, transport),
    }
}

/// The params function of attempt `socket` gave `params`: the attempt goes on, if it is still the current one.
pub(crate) fn params_ready<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, params: JsValue) {
    let taken = shared.inner.borrow_mut().socket.take_if(|c| matches!(c, Connection::Params(w) if w.id == socket));
    let Some(Connection::Params(wait)) = taken else { return };
    match platform::with_params(&wait.url, &params) {
        Ok(url) => {
            // The wait goes first: it owns the closure running now, which stays valid until it returns.
            let transport = wait.transport;
            drop(wait);
            open_now(shared, socket, &url, transport);
            drain(shared);
        }
        Err(message) => {
            drop(wait);
            params_failed(shared, socket, &message);
        }
    }
}

/// The params function of attempt `socket` threw, rejected or gave something unusable: the attempt failed.
pub(crate) fn params_failed<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, why: &str) {
    socket_error(shared, socket, &["the params function failed: ", why].concat());
}

fn open_now<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, url: &str, transport: Transport) {
    let (constructor, with_credentials) = {
        let inner = shared.inner.borrow();
        (inner.host.websocket.clone(), inner.host.with_credentials)
    };
    match Connection::open(shared, socket, url, transport, constructor.as_ref(), with_credentials) {
        Ok(driver) => {
            let previous = shared.inner.borrow_mut().socket.replace(driver);
            drop(previous);
        }
        Err(message) => {
            // A host's message may quote the URL; its query string (often a token) must not reach onError.
            let message = platform::redact_query(&message, url);
            // An error before the socket opened is a failed attempt: the core schedules a reconnect.
            let mut inner = shared.inner.borrow_mut();
            let what = match transport {
                Transport::WebSocket => "cannot open a WebSocket: ",
                Transport::Sse => "cannot open an event stream: ",
            };
            inner.core.handle_socket_error(socket, now(), &[what, &message].concat());
        }
    }
}

fn rearm_timer<C: Codec>(shared: &Rc<Shared<C>>) {
    let (next, idle) = {
        let inner = shared.inner.borrow();
        (inner.core.poll_timeout(), inner.core.state() == ConnectionState::Disconnected)
    };
    let released = shared.timer.set(next, idle, shared);
    drop(released);
}

pub(crate) fn socket_opened<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId) {
    shared.with_core(|core, now| core.handle_socket_open(socket, now));
}

pub(crate) fn socket_message<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, data: JsValue) {
    // The codec calls the host with no borrow held (a host exception must not leave the runtime borrowed) and runs
    // no user code: delivery waits for the drain below. Each message borrows the core only to hand it over; the
    // core reads the clock only for the messages that need it (performance.now() is a visible part of a message's
    // cost in Chromium).
    C::decode(&data, &mut |message| {
        let core = &mut shared.inner.borrow_mut().core;
        match message {
            Ok(message) => core.handle_message(socket, message, now),
            Err(error) => core.handle_frame_error(socket, error, now()),
        }
    });
    drain(shared);
}

pub(crate) fn socket_closed<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, code: u16, reason: &str) {
    let driver = take_socket(shared, socket);
    shared.with_core(|core, now| core.handle_socket_close(socket, now, code, reason));
    drop(driver);
}

pub(crate) fn socket_error<C: Codec>(shared: &Rc<Shared<C>>, socket: SocketId, message: &str) {
    shared.with_core(|core, now| core.handle_socket_error(socket, now, message));
}

/// Calls the subscribers of one event, with no borrow held.
fn deliver<C: Codec>(shared: &Rc<Shared<C>>, event: Event<C::Payload>) {
    match event {
        Event::ConnectionState(state) => {
            let listeners = shared.inner.borrow().state_listeners.snapshot();
            for (_, listener) in listeners.iter() {
                listener(state);
            }
        }
        Event::ReconnectScheduled { attempt, delay_ms, .. } => {
            let listeners = shared.inner.borrow().reconnect_listeners.snapshot();
            for (_, listener) in listeners.iter() {
                listener(attempt, delay_ms);
            }
        }
        Event::Error(error) => shared.report(&error),
        Event::Log(record) => {
            let listeners = shared.inner.borrow().log_listeners.snapshot();
            for (_, listener) in listeners.iter() {
                listener(&record);
            }
        }
        Event::Response(handle, outcome) => {
            let callback = shared.inner.borrow_mut().requests.remove(&handle);
            if let Some(callback) = callback {
                callback(outcome);
            }
        }
        Event::Channel(id, event) => deliver_to_channel(shared, id, event),
    }
}

fn deliver_to_channel<C: Codec>(shared: &Rc<Shared<C>>, id: ChannelId, event: ChannelEvent<C::Payload>) {
    // A statement of its own: a borrow taken in a `for` loop's head would last until the loop ends, and the
    // listeners it calls may call back into the client.
    macro_rules! snapshot {
        ($field:ident) => {{
            let listeners = shared.inner.borrow().channels.get(&id).map(|l| l.$field.snapshot());
            match listeners {
                Some(listeners) => listeners,
                None => return,
            }
        }};
    }
    match event {
        ChannelEvent::State(state) => {
            let listeners = snapshot!(state);
            for (_, listener) in listeners.iter() {
                listener(state);
            }
            if state.is_terminal() {
                // Nothing more happens on a terminal channel: its listeners go now, not when its last handle does.
                shared.forget_listeners(id);
            }
        }
        ChannelEvent::Message { event, payload } => {
            // Listeners by name hear an event whatever its query string, as the JS client's route matching does.
            let (path, query) = event.split_once('?').unwrap_or((&event, ""));
            let (all, named) = {
                let inner = shared.inner.borrow();
                let Some(listeners) = inner.channels.get(&id) else { return };
                (listeners.message.snapshot(), listeners.by_event.get(path).map(Listeners::snapshot))
            };
            for (_, listener) in all.iter() {
                listener(&event, &payload);
            }
            for (_, listener) in named.iter().flat_map(|n| n.iter()) {
                listener(&payload, query);
            }
        }
        ChannelEvent::Presence { kind, changed, presence } => {
            let listeners = snapshot!(presence);
            for (_, listener) in listeners.iter() {
                listener(PresenceNews::Changed(kind), Some(&changed), &presence);
            }
        }
        ChannelEvent::PresenceSync { previous, presence } => {
            let listeners = snapshot!(presence);
            // The diff may call the host's `presenceKey` (user code): nothing is borrowed here.
            let key = shared.inner.borrow().host.presence_key.clone();
            let (arrived, departed) = C::presence_diff(&previous, &presence, key.as_ref());
            let news = arrived
                .iter()
                .map(|p| (PresenceNews::Arrived, p))
                .chain(departed.iter().map(|p| (PresenceNews::Departed, p)));
            for (news, changed) in news {
                for (_, listener) in listeners.iter() {
                    listener(news, Some(changed), &presence);
                }
            }
            for (_, listener) in listeners.iter() {
                listener(PresenceNews::Synced, None, &presence);
            }
        }
        ChannelEvent::Declined(error) | ChannelEvent::Error(error) => {
            let listeners = snapshot!(error);
            for (_, listener) in listeners.iter() {
                listener(&error);
            }
        }
        ChannelEvent::Evicted(reason) => {
            let error = ChannelError { code: "EVICTED".into(), message: reason, status: 403, details: None };
            let listeners = snapshot!(error);
            for (_, listener) in listeners.iter() {
                listener(&error);
            }
        }
    }
}
