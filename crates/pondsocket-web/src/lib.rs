//! The client on the wire, for Rust code in a browser or Node (Leptos, Yew, Dioxus): closures and futures, no JS
//! types. The JS classes are built on it.
//! (The example builds for `wasm32-unknown-unknown` only, where this crate has its content.)
//!
//! ```ignore
//! use pondsocket_web::{Client, JsonObject, Options};
//! # async fn run() -> Result<(), pondsocket_web::Error> {
//! let client = Client::new("wss://example.com/socket", &[("token", "secret")], Options::default())?;
//! client.connect();
//! let chat = client.create_channel("/chat/42", &JsonObject::parse(r#"{"name":"ann"}"#).unwrap())?;
//! chat.on_message_event("message", |payload| web_log(payload.as_str())).detach();
//! chat.join()?;
//! let pong = chat.send_for_response("ping", &JsonObject::empty(), None).await?;
//! # let _ = pong; Ok(()) }
//! # fn web_log(_: &str) {}
//! ```

#![cfg(target_arch = "wasm32")]

mod envelope;
mod listeners;
#[doc(hidden)]
pub mod payload;
mod platform;
#[doc(hidden)]
pub mod runtime;
mod socket;
mod timer;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use js_sys::Function;

use payload::Delivered;
use pondsocket_proto::url::resolve_endpoint;
use pondsocket_proto::{ChannelId, ClientCore, PresenceKind};
use runtime::{ResponseCallback, Shared};

pub use platform::{describe, report_to_console};
pub use pondsocket_proto::{ChannelError, ChannelState, ConnectionState, Error, JsonObject, Options};
pub use runtime::callback_error;

/// A PondSocket client: one connection, any number of channels. Cloning gives another handle on the same client.
#[derive(Clone)]
pub struct Client {
    shared: Rc<Shared>,
}

impl Client {
    /// A disconnected client for `endpoint` with `params` added to its query string. A relative endpoint is resolved
    /// against the page's location.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an endpoint that is not a ws/wss/http/https URL; [`Error::InvalidOption`].
    pub fn new<K: AsRef<str>, V: AsRef<str>>(
        endpoint: &str,
        params: &[(K, V)],
        options: Options,
    ) -> Result<Self, Error> {
        Self::for_host(endpoint, params, options, None, false)
    }

    /// As [`Client::new`], opening sockets with `websocket_constructor` instead of the global `WebSocket`, and with
    /// `js_payloads`, parsing frames in JS for listeners that want JS objects.
    pub fn for_host<K: AsRef<str>, V: AsRef<str>>(
        endpoint: &str,
        params: &[(K, V)],
        options: Options,
        websocket_constructor: Option<Function>,
        js_payloads: bool,
    ) -> Result<Self, Error> {
        let url = resolve_endpoint(endpoint, params, platform::location_href().as_deref())?;
        let core = ClientCore::new(url, options, platform::random_seed())?;
        Ok(Client { shared: Shared::new(core, websocket_constructor, js_payloads) })
    }

    /// Starts connecting; reconnects by itself until [`Client::disconnect`].
    pub fn connect(&self) {
        self.shared.with_core(|core, now| core.connect(now));
    }

    /// Closes the connection and every channel (CLOSED); pending requests are rejected; no reconnect follows.
    pub fn disconnect(&self) {
        self.shared.with_core(|core, now| core.disconnect(now));
    }

    pub fn state(&self) -> ConnectionState {
        self.shared.inner.borrow().core.state()
    }

    /// The live channel of that name, or a new IDLE one that will join with `params`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name.
    pub fn create_channel(&self, name: &str, params: &JsonObject) -> Result<Channel, Error> {
        let id = self.shared.with_core(|core, _| core.create_channel(name, params.clone()))?;
        Ok(Channel { shared: self.shared.clone(), id })
    }

    /// Calls `listener` with the current state at once, then on every change.
    pub fn on_connection_change(&self, listener: impl Fn(ConnectionState) + 'static) -> Subscription {
        let listener: Rc<runtime::StateListener> = Rc::new(listener);
        let id = self.shared.inner.borrow_mut().state_listeners.add(listener.clone());
        listener(self.state());
        self.subscription(move |inner| drop(inner.state_listeners.remove(id)))
    }

    /// Errors that concern no single call: malformed frames, server errors, socket trouble, callbacks that threw.
    pub fn on_error(&self, listener: impl Fn(&Error) + 'static) -> Subscription {
        let id = self.shared.inner.borrow_mut().error_listeners.add(Rc::new(listener));
        self.subscription(move |inner| drop(inner.error_listeners.remove(id)))
    }

    /// Each reconnect the client plans: its attempt number (from 1) and the delay in milliseconds.
    pub fn on_reconnect_scheduled(&self, listener: impl Fn(u32, u64) + 'static) -> Subscription {
        let id = self.shared.inner.borrow_mut().reconnect_listeners.add(Rc::new(listener));
        self.subscription(move |inner| drop(inner.reconnect_listeners.remove(id)))
    }

    /// The resolved WebSocket URL.
    pub fn url(&self) -> String {
        self.shared.inner.borrow().core.url().to_owned()
    }

    pub fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    /// Channels, pending requests (with their callbacks) and armed timers the client holds, for leak tests.
    pub fn counts(&self) -> (usize, usize, usize) {
        let inner = self.shared.inner.borrow();
        let channels = inner.core.channel_count().max(inner.channels.len());
        let requests = inner.core.pending_request_count().max(inner.requests.len());
        (channels, requests, inner.core.armed_timer_count())
    }

    fn subscription(&self, remove: impl FnOnce(&mut runtime::Inner) + 'static) -> Subscription {
        Subscription::new(&self.shared, remove)
    }
}

/// A listener's registration. Dropping it keeps the listener (as in JS, where the returned function may be ignored);
/// [`Subscription::unsubscribe`] removes it.
#[must_use = "call .unsubscribe() to stop listening, or .detach() to listen for as long as the client lives"]
pub struct Subscription {
    shared: Weak<Shared>,
    remove: Option<Remover>,
}

type Remover = Box<dyn FnOnce(&mut runtime::Inner)>;

impl Subscription {
    fn new(shared: &Rc<Shared>, remove: impl FnOnce(&mut runtime::Inner) + 'static) -> Self {
        Subscription { shared: Rc::downgrade(shared), remove: Some(Box::new(remove)) }
    }

    /// Stops the listener; a delivery already under way may still reach it once.
    pub fn unsubscribe(mut self) {
        let (Some(shared), Some(remove)) = (self.shared.upgrade(), self.remove.take()) else { return };
        // The removed callback is dropped inside `remove`; it may own channel handles, whose release defers itself
        // while the runtime is borrowed.
        remove(&mut shared.inner.borrow_mut());
        runtime::drain(&shared);
    }

    /// Keeps the listener for as long as the client lives.
    pub fn detach(self) {}
}

/// A channel handle. Clones share the channel; the client forgets a CLOSED or DECLINED channel once every handle
/// is dropped.
pub struct Channel {
    shared: Rc<Shared>,
    id: ChannelId,
}

impl Clone for Channel {
    fn clone(&self) -> Self {
        self.shared.inner.borrow_mut().core.retain_channel(self.id);
        Channel { shared: self.shared.clone(), id: self.id }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.shared.release_channel(self.id);
    }
}

impl Channel {
    pub fn name(&self) -> String {
        self.shared.inner.borrow().core.channel_name(self.id).unwrap_or_default().to_owned()
    }

    pub fn state(&self) -> ChannelState {
        self.shared.inner.borrow().core.channel_state(self.id).unwrap_or(ChannelState::Closed)
    }

    /// Everyone present, as of the latest presence message.
    pub fn presence(&self) -> Rc<[JsonObject]> {
        self.shared.inner.borrow().core.presence(self.id).unwrap_or_else(|| Rc::from(Vec::new()))
    }

    /// Why the join was declined, for a DECLINED channel.
    pub fn join_error(&self) -> Option<ChannelError> {
        self.shared.inner.borrow().core.join_error(self.id).cloned()
    }

    /// Why the server evicted this user, for a channel CLOSED by eviction.
    pub fn evicted_reason(&self) -> Option<String> {
        self.shared.inner.borrow().core.evicted_reason(self.id).map(str::to_owned)
    }

    /// Joins now if connected, else once the connection is accepted.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel.
    pub fn join(&self) -> Result<(), Error> {
        self.shared.with_core(|core, now| core.join(self.id, now))
    }

    /// Leaves the channel; it ends CLOSED. Does nothing on a CLOSED or DECLINED channel.
    pub fn leave(&self) {
        self.shared.with_core(|core, now| core.leave(self.id, now));
    }

    /// Broadcasts `event`: at once when joined, else queued until the join.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel, [`Error::InvalidArgument`] for an empty event.
    pub fn send_message(&self, event: &str, payload: &JsonObject) -> Result<(), Error> {
        self.shared.with_core(|core, _| core.send_message(self.id, event, payload))
    }

    /// Broadcasts `event` and resolves with the server's reply carrying the same requestId.
    /// `timeout_ms` defaults to the `responseTimeout` option.
    pub fn send_for_response(&self, event: &str, payload: &JsonObject, timeout_ms: Option<u64>) -> ResponseFuture {
        let slot = Rc::new(RefCell::new(FutureSlot::default()));
        let filler = slot.clone();
        let callback: ResponseCallback = Box::new(move |outcome| {
            let mut slot = filler.borrow_mut();
            slot.outcome = Some(outcome.map(|payload| payload.to_json().into_owned()));
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        });
        if let Err(error) = self.send_for_response_with(event, payload, timeout_ms, callback) {
            slot.borrow_mut().outcome = Some(Err(error));
        }
        ResponseFuture { slot }
    }

    /// As [`Channel::send_for_response`], calling `callback` once with the outcome.
    pub fn send_for_response_with(
        &self,
        event: &str,
        payload: &JsonObject,
        timeout_ms: Option<u64>,
        callback: ResponseCallback,
    ) -> Result<(), Error> {
        {
            let mut inner = self.shared.inner.borrow_mut();
            let now = platform::now();
            let handle = inner.core.send_for_response(self.id, event, payload, timeout_ms, now)?;
            // Registered before the drain: the outcome may already be waiting (a full queue rejects at once).
            inner.requests.insert(handle, callback);
        }
        runtime::drain(&self.shared);
        Ok(())
    }

    /// Every message, with its event name.
    pub fn on_message(&self, listener: impl Fn(&str, &JsonObject) + 'static) -> Subscription {
        self.on_delivered_message(move |event, payload| listener(event, &payload.to_json()))
    }

    /// Messages whose event name is `event`.
    pub fn on_message_event(&self, event: &str, listener: impl Fn(&JsonObject) + 'static) -> Subscription {
        self.on_delivered_message_event(event, move |payload| listener(&payload.to_json()))
    }

    /// As [`Channel::on_message`], with the payload as it came (JS object or JSON text).
    pub fn on_delivered_message(&self, listener: impl Fn(&str, Delivered<'_>) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.message.add(Rc::new(listener)));
        self.subscription(move |l| drop(l.message.remove(id)))
    }

    /// As [`Channel::on_message_event`], with the payload as it came (JS object or JSON text).
    pub fn on_delivered_message_event(&self, event: &str, listener: impl Fn(Delivered<'_>) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.by_event.entry(event.to_owned()).or_default().add(Rc::new(listener)));
        let event = event.to_owned();
        self.subscription(move |l| {
            if let Some(listeners) = l.by_event.get_mut(&event) {
                drop(listeners.remove(id));
                if listeners.is_empty() {
                    l.by_event.remove(&event);
                }
            }
        })
    }

    /// The presence of each user who joins.
    pub fn on_join(&self, listener: impl Fn(&JsonObject) + 'static) -> Subscription {
        self.on_presence(move |kind, changed, _| {
            if kind == PresenceKind::Join {
                listener(changed)
            }
        })
    }

    /// The presence of each user who leaves.
    pub fn on_leave(&self, listener: impl Fn(&JsonObject) + 'static) -> Subscription {
        self.on_presence(move |kind, changed, _| {
            if kind == PresenceKind::Leave {
                listener(changed)
            }
        })
    }

    /// Each presence update: the changed presence and everyone present.
    pub fn on_presence_change(&self, listener: impl Fn(&JsonObject, &[JsonObject]) + 'static) -> Subscription {
        self.on_presence(move |kind, changed, all| {
            if kind == PresenceKind::Update {
                listener(changed, all)
            }
        })
    }

    /// Everyone present, after every join, leave and update.
    pub fn on_users_change(&self, listener: impl Fn(&[JsonObject]) + 'static) -> Subscription {
        self.on_presence(move |_, _, all| listener(all))
    }

    /// Calls `listener` with the current state at once, then on every change.
    pub fn on_state_change(&self, listener: impl Fn(ChannelState) + 'static) -> Subscription {
        let listener: Rc<runtime::ChannelStateListener> = Rc::new(listener);
        let id = self.with_listeners(|l| l.state.add(listener.clone()));
        listener(self.state());
        self.subscription(move |l| drop(l.state.remove(id)))
    }

    /// Errors the server reported about this channel: a declined join, an eviction, a NOT_FOUND while joined.
    pub fn on_error(&self, listener: impl Fn(&ChannelError) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.error.add(Rc::new(listener)));
        self.subscription(move |l| drop(l.error.remove(id)))
    }

    fn on_presence(&self, listener: impl Fn(PresenceKind, &JsonObject, &Rc<[JsonObject]>) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.presence.add(Rc::new(listener)));
        self.subscription(move |l| drop(l.presence.remove(id)))
    }

    pub fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    fn with_listeners<T>(&self, f: impl FnOnce(&mut runtime::ChannelListeners) -> T) -> T {
        f(self.shared.inner.borrow_mut().channels.entry(self.id).or_default())
    }

    fn subscription(&self, remove: impl FnOnce(&mut runtime::ChannelListeners) + 'static) -> Subscription {
        let id = self.id;
        Subscription::new(&self.shared, move |inner| {
            if let Some(listeners) = inner.channels.get_mut(&id) {
                remove(listeners);
            }
        })
    }
}

#[derive(Default)]
struct FutureSlot {
    outcome: Option<Result<JsonObject, Error>>,
    waker: Option<Waker>,
}

/// The outcome of [`Channel::send_for_response`].
pub struct ResponseFuture {
    slot: Rc<RefCell<FutureSlot>>,
}

impl Future for ResponseFuture {
    type Output = Result<JsonObject, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.borrow_mut();
        match slot.outcome.take() {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
