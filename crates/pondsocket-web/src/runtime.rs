//! The runtime of one client: the core, its socket and timer, and the subscribers, behind one `RefCell`.
//!
//! Every input borrows the core only long enough to hand it the input; [`drain`] then carries out the core's outputs
//! one at a time and calls subscribers with no borrow held ("take, then call"), so a callback may call anything on
//! the client or its channels. A callback that causes more outputs does not drain them itself: the loop already
//! running picks them up in order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::envelope;
use super::listeners::Listeners;
use super::payload::Delivered;
use super::platform::{self, describe, now};
use super::socket::SocketDriver;
use super::timer::WakeTimer;
use pondsocket_proto::map::Map;
use pondsocket_proto::memory::shrink_map;
use pondsocket_proto::wire::{payload_is_read, unpack_envelope, Body, ServerMessage};
use pondsocket_proto::{
    ChannelError, ChannelEvent, ChannelId, ChannelState, ClientCore, ConnectionState, Error, Event, HostPayload,
    JsonObject, Output, Payload, PresenceKind, RequestHandle, SocketId,
};

pub type StateListener = dyn Fn(ConnectionState);
pub type ErrorListener = dyn Fn(&Error);
pub type ReconnectListener = dyn Fn(u32, u64);
pub type MessageListener = dyn Fn(&str, Delivered<'_>);
pub type EventListener = dyn Fn(Delivered<'_>);
pub type PresenceListener = dyn Fn(PresenceKind, &JsonObject, &Rc<[JsonObject]>);
pub type ChannelStateListener = dyn Fn(ChannelState);
pub type ChannelErrorListener = dyn Fn(&ChannelError);
pub type ResponseCallback = Box<dyn FnOnce(Result<Delivered<'_>, Error>)>;

#[derive(Default)]
pub struct ChannelListeners {
    pub message: Listeners<MessageListener>,
    pub by_event: Map<String, Listeners<EventListener>>,
    pub presence: Listeners<PresenceListener>,
    pub state: Listeners<ChannelStateListener>,
    pub error: Listeners<ChannelErrorListener>,
}

pub struct Inner {
    pub core: ClientCore,
    socket: Option<SocketDriver>,
    pub timer: WakeTimer,
    websocket_constructor: Option<Function>,
    pub state_listeners: Listeners<StateListener>,
    pub error_listeners: Listeners<ErrorListener>,
    pub reconnect_listeners: Listeners<ReconnectListener>,
    pub channels: Map<ChannelId, ChannelListeners>,
    pub requests: Map<RequestHandle, ResponseCallback>,
}

pub struct Shared {
    pub inner: RefCell<Inner>,
    draining: Cell<bool>,
    /// Channel handles dropped while the runtime was borrowed; released at the next drain.
    deferred_releases: RefCell<Vec<ChannelId>>,
    /// Parse frames with `JSON.parse` and hand listeners the JS objects (a client made from JS), rather than hand
    /// the core the text (a client made from Rust, whose listeners want text).
    js_payloads: bool,
    /// The payloads JS parsed for the core's [`HostPayload`]s, by index; emptied when a drain ends, by which time
    /// every event that names one has been delivered.
    host_payloads: RefCell<Vec<Option<JsValue>>>,
}

impl Shared {
    pub fn new(core: ClientCore, websocket_constructor: Option<Function>, js_payloads: bool) -> Rc<Self> {
        Rc::new_cyclic(|weak| Shared {
            inner: RefCell::new(Inner {
                core,
                socket: None,
                timer: WakeTimer::new(weak.clone()),
                websocket_constructor,
                state_listeners: Listeners::default(),
                error_listeners: Listeners::default(),
                reconnect_listeners: Listeners::default(),
                channels: Map::default(),
                requests: Map::default(),
            }),
            draining: Cell::new(false),
            deferred_releases: RefCell::new(Vec::new()),
            js_payloads,
            host_payloads: RefCell::new(Vec::new()),
        })
    }

    /// Runs `input` on the core, then carries out what it asked for.
    pub fn with_core<T>(self: &Rc<Self>, input: impl FnOnce(&mut ClientCore, u64) -> T) -> T {
        let result = input(&mut self.inner.borrow_mut().core, now());
        drain(self);
        result
    }

    /// Drops one handle on a channel, now or, if the runtime is borrowed, at the next drain.
    pub fn release_channel(self: &Rc<Self>, id: ChannelId) {
        if self.inner.try_borrow_mut().is_err() {
            self.deferred_releases.borrow_mut().push(id);
            return;
        }
        self.release_now(id);
        drain(self);
    }

    /// Drops one handle in the core, and the channel's listeners with the channel if the core forgot it.
    fn release_now(&self, id: ChannelId) {
        self.inner.borrow_mut().core.release_channel(id);
        if self.inner.borrow().core.channel_state(id).is_none() {
            self.forget_listeners(id);
        }
    }

    fn forget_listeners(&self, id: ChannelId) {
        let removed = {
            let mut inner = self.inner.borrow_mut();
            let removed = inner.channels.remove(&id);
            shrink_map(&mut inner.channels);
            removed
        };
        drop(removed);
    }

    /// Calls `f` with `payload` as listeners take it.
    fn with_delivered<T>(&self, payload: &Payload, f: impl FnOnce(Delivered<'_>) -> T) -> T {
        match payload {
            Payload::Json(object) => f(Delivered::Json(object)),
            Payload::Host(HostPayload(index)) => {
                // Taken out (the core delivers each message once), so that no borrow is held while listeners run.
                let value = self.host_payloads.borrow_mut().get_mut(*index as usize).and_then(Option::take);
                let value = value.unwrap_or_else(|| js_sys::Object::new().into());
                f(Delivered::Js(&value))
            }
        }
    }

    /// Hands the core the frame as one message routed on the envelope `JSON.parse` made of it, its payload kept as
    /// that JS object. False for what takes the text path: frames of several objects, malformed ones (which the
    /// text path reports), and messages whose payload the core reads.
    fn route_parsed(&self, socket: SocketId, data: &JsValue) -> bool {
        // The names borrow from the envelope buffer, so the core routes the message inside `read`; no user code
        // runs there (delivery waits for the drain that follows).
        let routed = envelope::read(data, |packed| {
            let payload = envelope::take_payload();
            let (action, event, channel_name, request_id) = unpack_envelope(packed)?;
            if payload_is_read(action, event, channel_name) {
                return None;
            }
            let token = {
                let mut payloads = self.host_payloads.borrow_mut();
                let token = HostPayload(u32::try_from(payloads.len()).ok()?);
                payloads.push(Some(payload));
                token
            };
            let (event, channel_name, request_id) = (event.into(), channel_name.into(), request_id.map(Into::into));
            let message = ServerMessage { action, event, channel_name, request_id, body: Body::Host(token) };
            let mut inner = self.inner.borrow_mut();
            // performance.now() is a visible part of a message's cost in Chromium: read only when it is used.
            let now = if inner.core.needs_time_of_messages() { now() } else { 0 };
            inner.core.handle_message(socket, message, now);
            Some(())
        });
        routed.is_some()
    }

    /// Tells the client's `onError` subscribers.
    pub fn report(&self, error: &Error) {
        let listeners = self.inner.borrow().error_listeners.snapshot();
        for (_, listener) in listeners.iter() {
            listener(error);
        }
    }
}

/// Carries out the core's outputs until there are none, then re-arms the timer.
pub fn drain(shared: &Rc<Shared>) {
    if shared.draining.replace(true) {
        return;
    }
    loop {
        let released: Vec<ChannelId> = std::mem::take(&mut *shared.deferred_releases.borrow_mut());
        for id in released {
            shared.release_now(id);
        }
        let output = shared.inner.borrow_mut().core.poll();
        match output {
            None => break,
            Some(Output::Open { socket, url }) => open_socket(shared, socket, &url),
            Some(Output::Close { socket, code, reason }) => {
                let driver = take_socket(shared, socket);
                if let Some(driver) = driver {
                    driver.close(code, reason);
                }
            }
            Some(Output::Send(frame)) => {
                // Sent with no borrow held: a scripted socket may answer from inside send().
                let socket = shared.inner.borrow().socket.as_ref().map(SocketDriver::sender);
                if let Some(Err(message)) = socket.map(|s| s.send(&frame)) {
                    shared.report(&Error::Socket(format!("send failed: {message}")));
                }
            }
            Some(Output::Event(event)) => deliver(shared, event),
        }
    }
    // Dropping a JsValue runs no JS, so this may clear under the borrow (and keep the vector's room).
    shared.host_payloads.borrow_mut().clear();
    shared.draining.set(false);
    rearm_timer(shared);
}

fn take_socket(shared: &Shared, socket: SocketId) -> Option<SocketDriver> {
    let mut inner = shared.inner.borrow_mut();
    if inner.socket.as_ref().is_some_and(|s| s.id == socket) {
        inner.socket.take()
    } else {
        None
    }
}

fn open_socket(shared: &Rc<Shared>, socket: SocketId, url: &str) {
    let constructor = shared.inner.borrow().websocket_constructor.clone();
    match SocketDriver::open(shared, socket, url, constructor.as_ref()) {
        Ok(driver) => {
            let previous = shared.inner.borrow_mut().socket.replace(driver);
            drop(previous);
        }
        Err(message) => {
            // A host's message may quote the URL; its query string (often a token) must not reach onError.
            let message = match url.split_once('?') {
                Some((_, query)) if !query.is_empty() => message.replace(query, "…"),
                _ => message,
            };
            // An error before the socket opened is a failed attempt: the core schedules a reconnect.
            let mut inner = shared.inner.borrow_mut();
            inner.core.handle_socket_error(socket, now(), &format!("cannot open a WebSocket: {message}"));
        }
    }
}

fn rearm_timer(shared: &Rc<Shared>) {
    let released = {
        let mut inner = shared.inner.borrow_mut();
        let next = inner.core.poll_timeout();
        let idle = inner.core.state() == ConnectionState::Disconnected;
        inner.timer.set(next, idle, shared)
    };
    drop(released);
}

pub fn socket_opened(shared: &Rc<Shared>, socket: SocketId) {
    shared.with_core(|core, now| core.handle_socket_open(socket, now));
}

pub fn socket_message(shared: &Rc<Shared>, socket: SocketId, data: JsValue) {
    if shared.js_payloads && shared.route_parsed(socket, &data) {
        return drain(shared);
    }
    // binaryType is "arraybuffer"; anything that is not text is a frame the protocol does not have.
    let Some(text) = data.dyn_ref::<js_sys::JsString>() else {
        return shared.with_core(|core, now| core.handle_binary_frame(socket, now));
    };
    let text = platform::string_from_js(text);
    shared.with_core(|core, now| core.handle_frame(socket, &text, now));
}

pub fn socket_closed(shared: &Rc<Shared>, socket: SocketId, code: u16, reason: &str) {
    let driver = take_socket(shared, socket);
    shared.with_core(|core, now| core.handle_socket_close(socket, now, code, reason));
    drop(driver);
}

pub fn socket_error(shared: &Rc<Shared>, socket: SocketId, message: &str) {
    shared.with_core(|core, now| core.handle_socket_error(socket, now, message));
}

/// Calls the subscribers of one event, with no borrow held.
fn deliver(shared: &Rc<Shared>, event: Event) {
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
        Event::Response(handle, outcome) => {
            let callback = {
                let mut inner = shared.inner.borrow_mut();
                let callback = inner.requests.remove(&handle);
                shrink_map(&mut inner.requests);
                callback
            };
            if let Some(callback) = callback {
                match outcome {
                    Ok(payload) => shared.with_delivered(&payload, |payload| callback(Ok(payload))),
                    Err(error) => callback(Err(error)),
                }
            }
        }
        Event::Channel(id, event) => deliver_to_channel(shared, id, event),
    }
}

fn deliver_to_channel(shared: &Rc<Shared>, id: ChannelId, event: ChannelEvent) {
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
            let (all, named) = {
                let inner = shared.inner.borrow();
                let Some(listeners) = inner.channels.get(&id) else { return };
                (listeners.message.snapshot(), listeners.by_event.get(&event).map(Listeners::snapshot))
            };
            shared.with_delivered(&payload, |payload| {
                for (_, listener) in all.iter() {
                    listener(&event, payload);
                }
                for (_, listener) in named.iter().flat_map(|n| n.iter()) {
                    listener(payload);
                }
            });
        }
        ChannelEvent::Presence { kind, changed, presence } => {
            let listeners = snapshot!(presence);
            for (_, listener) in listeners.iter() {
                listener(kind, &changed, &presence);
            }
        }
        ChannelEvent::Declined(error) | ChannelEvent::Error(error) => {
            let listeners = snapshot!(error);
            for (_, listener) in listeners.iter() {
                listener(&error);
            }
        }
        ChannelEvent::Evicted(reason) => {
            let error = ChannelError { code: "EVICTED".into(), message: reason, status: 403 };
            let listeners = snapshot!(error);
            for (_, listener) in listeners.iter() {
                listener(&error);
            }
        }
    }
}

/// A thrown value from a JS callback, as the client's error.
pub fn callback_error(error: &JsValue) -> Error {
    Error::Callback(describe(error))
}
