//! The PondSocket client for Rust code in a browser or Node (Leptos, Yew, Dioxus): a WebSocket transport, closures
//! and futures, no JS types in the API. It exports nothing to JS and installs no global allocator.
//! (The example builds for `wasm32-unknown-unknown` only, where this crate has its content.)
//!
//! ```ignore
//! use pondsocket_web::{Client, JsonObject, Options};
//! # async fn run() -> Result<(), pondsocket_web::Error> {
//! let client = Client::new("wss://example.com/socket", &[("token", "secret")], Options::default())?;
//! client.connect();
//! let chat = client.create_channel("/chat/42", &JsonObject::parse(r#"{"name":"ann"}"#).unwrap())?;
//! chat.on_message_event("message", |payload| web_log(payload.as_str())).forget();
//! chat.join()?;
//! let pong = chat.send_for_response("ping", &JsonObject::empty(), None).await?;
//! # let _ = pong; Ok(()) }
//! # fn web_log(_: &str) {}
//! ```
//!
//! The client is generic over its [`Codec`], which decides what payloads are: [`JsonCodec`] (the default, feature
//! `serde`) decodes frames with `serde_json` into [`JsonObject`]s; the npm package plugs in `JSON.parse` and JS
//! objects, on the same runtime and the same routing.

#![cfg(target_arch = "wasm32")]

mod channel;
mod codec;
mod listeners;
mod page;
mod params;
mod platform;
mod runtime;
mod socket;
mod sse;
mod timer;
mod transport;
#[cfg(feature = "serde")]
mod typed;

use std::cell::Cell;
use std::rc::{Rc, Weak};

use js_sys::Function;

pub use channel::{Channel, ResponseFuture};
#[cfg(feature = "serde")]
pub use codec::JsonCodec;
pub use codec::{Codec, Decoded};
#[cfg(feature = "serde")]
pub use pondsocket_proto::JsonObject;
pub use pondsocket_proto::{
    ChannelError, ChannelState, ConnectionState, LogLevel, LogRecord, Options, Payload, RequestHandle, Transport,
    TransportChoice,
};
pub use runtime::ResponseCallback;
#[cfg(feature = "serde")]
pub use typed::{MessageStream, TypedResponse};

use runtime::Shared;

/// Everything that can go wrong in the client; see [`pondsocket_proto::Error`].
#[cfg(feature = "serde")]
pub type Error<P = JsonObject> = pondsocket_proto::Error<P>;
#[cfg(not(feature = "serde"))]
pub use pondsocket_proto::Error;

/// What the npm package needs beyond the Rust API: it is built on this crate, so that transports are written once.
#[doc(hidden)]
pub mod host {
    pub use crate::platform::{describe, report_to_console, string_from_js};
}

/// How a JS host reaches the server, beyond the endpoints and options.
#[doc(hidden)]
#[derive(Default)]
pub struct HostOptions {
    /// The `WebSocket` class to use instead of the global one (for example Node's `ws` package).
    pub websocket: Option<Function>,
    /// SSE: the event stream and POSTs carry cookies cross-origin (`credentials: 'include'`).
    pub with_credentials: bool,
    /// Called before every connection attempt; returns the params (a flat array: key, value, ...) or a promise of
    /// them, which replace those of the endpoint's query.
    pub params: Option<Function>,
    /// After a rejoin, who arrived or left is told by this key of each presence (`presenceKey`), instead of by
    /// deep equality.
    pub presence_key: Option<Function>,
    /// What the functions above need alive for as long as the client (the closures behind a Rust params function).
    pub owned: Vec<Box<dyn std::any::Any>>,
}

/// A PondSocket client: one connection, any number of channels. Cloning gives another handle on the same client.
#[cfg(feature = "serde")]
pub struct Client<C: Codec = JsonCodec> {
    shared: Rc<Shared<C>>,
    owner: Rc<Owner<C>>,
}

/// A PondSocket client: one connection, any number of channels. Cloning gives another handle on the same client.
#[cfg(not(feature = "serde"))]
pub struct Client<C: Codec> {
    shared: Rc<Shared<C>>,
    owner: Rc<Owner<C>>,
}

impl<C: Codec> Clone for Client<C> {
    fn clone(&self) -> Self {
        Client { shared: self.shared.clone(), owner: self.owner.clone() }
    }
}

impl<C: Codec> Client<C> {
    /// A disconnected client for `endpoint` with `params` added to its query string, payloads decoded by `C`, and
    /// sockets opened with `websocket_constructor` (for example Node's `ws` package) or else the global `WebSocket`.
    /// A relative endpoint is resolved against the page's location. With the default codec, [`Client::new`].
    ///
    /// # Errors
    /// [`Error::InvalidUrl`](pondsocket_proto::Error::InvalidUrl) for an endpoint that is not a ws/wss/http/https
    /// URL; [`Error::InvalidOption`](pondsocket_proto::Error::InvalidOption).
    pub fn with_websocket<K: AsRef<str>, V: AsRef<str>>(
        endpoint: &str,
        params: &[(K, V)],
        options: Options,
        websocket_constructor: Option<Function>,
    ) -> Result<Self, pondsocket_proto::Error<C::Payload>> {
        let host = HostOptions { websocket: websocket_constructor, ..HostOptions::default() };
        Self::with_host(&platform::strings(&[endpoint]), &platform::flat_pairs(params), options, host)
    }

    /// As [`Client::with_websocket`] for several endpoints (as `Client::with_endpoints`), with the endpoints
    /// (strings) and the params (key, value, key, value...) as JS arrays, and what a JS host passes.
    ///
    /// # Errors
    /// As [`Client::with_websocket`], for any of the endpoints; `InvalidUrl` for an empty list.
    #[doc(hidden)]
    pub fn with_host(
        endpoints: &js_sys::Array,
        params: &js_sys::Array,
        options: Options,
        host: HostOptions,
    ) -> Result<Self, pondsocket_proto::Error<C::Payload>> {
        let urls = platform::resolve_endpoints(endpoints, params).map_err(pondsocket_proto::Error::InvalidUrl)?;
        let core = pondsocket_proto::ClientCore::with_endpoints(urls, options, platform::random_seed())?;
        let shared = Shared::new(core, host);
        let owner = Rc::new(Owner { shared: Rc::downgrade(&shared), keep_connected: Cell::new(false) });
        Ok(Client { shared, owner })
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

    /// The live channel of that name, or a new IDLE one that will join with `params`, the JSON text of an object
    /// (the typed [`Client::create_channel`] checks it; a host's serializer guarantees it), within `join_timeout`
    /// milliseconds if given (the `joinTimeout` option otherwise).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](pondsocket_proto::Error::InvalidArgument) for an empty name;
    /// [`Error::InvalidOption`](pondsocket_proto::Error::InvalidOption) for a timeout out of range.
    #[doc(hidden)]
    pub fn create_channel_json(
        &self,
        name: &str,
        params: String,
        join_timeout: Option<u64>,
    ) -> Result<Channel<C>, pondsocket_proto::Error<C::Payload>> {
        let id = self.shared.with_core(|core, _| core.create_channel_with(name, params, join_timeout))?;
        Ok(Channel::new(self.shared.clone(), self.owner.clone(), id))
    }

    /// Calls `listener` with the current state at once, then on every change.
    pub fn on_connection_change(&self, listener: impl Fn(ConnectionState) + 'static) -> Subscription {
        let listener: Rc<runtime::StateListener> = Rc::new(listener);
        let id = self.shared.inner.borrow_mut().state_listeners.add(listener.clone());
        listener(self.state());
        Subscription::new(&self.shared, move |inner| removed(inner.state_listeners.remove(id)))
    }

    /// Errors that concern no single call: malformed frames, server errors, socket trouble, callbacks that threw.
    pub fn on_error(&self, listener: impl Fn(&pondsocket_proto::Error<C::Payload>) + 'static) -> Subscription {
        let id = self.shared.inner.borrow_mut().error_listeners.add(Rc::new(listener));
        Subscription::new(&self.shared, move |inner| removed(inner.error_listeners.remove(id)))
    }

    /// The debug log (with [`Options::log`]): state changes, attempts (the endpoint without its query), backoff
    /// delays, joins, declines, timeouts, dropped frames. Never a payload nor the query string.
    pub fn on_log(&self, listener: impl Fn(&pondsocket_proto::LogRecord<C::Payload>) + 'static) -> Subscription {
        let id = self.shared.inner.borrow_mut().log_listeners.add(Rc::new(listener));
        Subscription::new(&self.shared, move |inner| removed(inner.log_listeners.remove(id)))
    }

    /// Each reconnect the client plans: its attempt number (from 1) and the delay in milliseconds.
    pub fn on_reconnect_scheduled(&self, listener: impl Fn(u32, u64) + 'static) -> Subscription {
        let id = self.shared.inner.borrow_mut().reconnect_listeners.add(Rc::new(listener));
        Subscription::new(&self.shared, move |inner| removed(inner.reconnect_listeners.remove(id)))
    }

    /// The endpoint in use (or the one the next attempt goes to), without its query string (which may hold a token):
    /// ws(s) over WebSocket, http(s) over SSE.
    pub fn endpoint(&self) -> String {
        let mut url = self.shared.inner.borrow().core.endpoint();
        // By byte: a char search would bring its own code into the wasm for this one call.
        url.truncate(url.bytes().position(|b| b == b'?').unwrap_or(url.len()));
        url
    }

    /// The endpoint in use with its query string, for tests of how endpoints resolve.
    #[doc(hidden)]
    pub fn url(&self) -> String {
        self.shared.inner.borrow().core.endpoint()
    }

    /// The transport of the current connection, or of the attempt under way or last made.
    pub fn transport(&self) -> Transport {
        self.shared.inner.borrow().core.transport()
    }

    /// The server's id for the current connection, once it is accepted.
    pub fn connection_id(&self) -> Option<String> {
        self.shared.inner.borrow().core.connection_id().map(str::to_owned)
    }

    /// Tells the client's `onError` subscribers, as if the client had met `error` (a host reports what its own
    /// callbacks threw this way).
    #[doc(hidden)]
    pub fn report(&self, error: &pondsocket_proto::Error<C::Payload>) {
        self.shared.report(error);
    }

    /// Keeps the client connected when its last handle is dropped (until `disconnect()`), as a JS client is.
    #[doc(hidden)]
    pub fn keep_connected_when_dropped(&self) {
        self.owner.keep_connected.set(true);
    }

    /// A handle that does not keep the client alive, for listeners that call the client: a listener holding a
    /// [`Client`] (or a [`Channel`]) keeps the client connected after the app dropped its own handles, as an `Rc` in
    /// a closure does.
    ///
    /// ```ignore
    /// let weak = client.downgrade();
    /// chat.on_message_event("ping", move |_| {
    ///     if let Some(client) = weak.upgrade() { web_log(client.state().as_str()) }
    /// }).forget();
    /// ```
    pub fn downgrade(&self) -> WeakClient<C> {
        WeakClient(Rc::downgrade(&self.shared), Rc::downgrade(&self.owner))
    }

    /// Channels, pending requests (with their callbacks) and armed timers the client holds, for leak tests.
    #[doc(hidden)]
    pub fn counts(&self) -> (usize, usize, usize) {
        let inner = self.shared.inner.borrow();
        let channels = inner.core.channel_count().max(inner.channels.len());
        let requests = inner.core.pending_request_count().max(inner.requests.len());
        (channels, requests, inner.core.armed_timer_count())
    }
}

#[cfg(feature = "serde")]
impl Client<JsonCodec> {
    /// A disconnected client for `endpoint` with `params` added to its query string. A relative endpoint is resolved
    /// against the page's location.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`](pondsocket_proto::Error::InvalidUrl) for an endpoint that is not a ws/wss/http/https
    /// URL; [`Error::InvalidOption`](pondsocket_proto::Error::InvalidOption).
    pub fn new<K: AsRef<str>, V: AsRef<str>>(
        endpoint: &str,
        params: &[(K, V)],
        options: Options,
    ) -> Result<Self, Error> {
        Self::with_websocket(endpoint, params, options, None)
    }

    /// A disconnected client for the servers of one cluster: it uses one endpoint at a time and moves to the next,
    /// round robin, after every failed attempt or lost connection; the first attempt after a lost connection waits
    /// a random 0 to `base_reconnect_delay` ms. Otherwise as [`Client::new`].
    ///
    /// # Errors
    /// As [`Client::new`], for any of the endpoints; `InvalidUrl` for an empty list.
    pub fn with_endpoints<E: AsRef<str>, K: AsRef<str>, V: AsRef<str>>(
        endpoints: &[E],
        params: &[(K, V)],
        options: Options,
    ) -> Result<Self, Error> {
        Self::with_host(&platform::strings(endpoints), &platform::flat_pairs(params), options, HostOptions::default())
    }

    /// As [`Client::with_endpoints`], with the params given by `params` before every connection attempt, so that a
    /// token the app refreshed is used at the next reconnect. An `Err`, or a future that does not finish within
    /// `connection_timeout`, is a failed attempt (reported through `on_error`; the client backs off).
    ///
    /// ```ignore
    /// let client = Client::with_params_fn(&["wss://example.com/socket"], || async {
    ///     Ok(vec![("token".to_owned(), fetch_token().await?)])
    /// }, Options::default())?;
    /// ```
    ///
    /// # Errors
    /// As [`Client::with_endpoints`].
    pub fn with_params_fn<E, F, Fut>(endpoints: &[E], params: F, options: Options) -> Result<Self, Error>
    where
        E: AsRef<str>,
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = Result<Vec<(String, String)>, String>> + 'static,
    {
        use wasm_bindgen::JsCast;
        let params = Rc::new(params);
        let source = wasm_bindgen::closure::Closure::<dyn Fn() -> js_sys::Promise>::new(move || {
            let params = params.clone();
            wasm_bindgen_futures::future_to_promise(async move {
                let pairs = params().await.map_err(|e| wasm_bindgen::JsValue::from_str(&e))?;
                Ok(platform::flat_pairs(&pairs).into())
            })
        });
        let function: Function = source.as_ref().unchecked_ref::<Function>().clone();
        let host = HostOptions { params: Some(function), owned: vec![Box::new(source)], ..HostOptions::default() };
        Self::with_host(&platform::strings(endpoints), &js_sys::Array::new(), options, host)
    }

    /// The live channel of that name, or a new IDLE one that will join with `params`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](pondsocket_proto::Error::InvalidArgument) for an empty name.
    pub fn create_channel(&self, name: &str, params: &JsonObject) -> Result<Channel, Error> {
        self.create_channel_json(name, params.as_str().to_owned(), None)
    }
}

/// A client handle that does not keep it alive ([`Client::downgrade`]).
pub struct WeakClient<C: Codec>(Weak<Shared<C>>, Weak<Owner<C>>);

impl<C: Codec> Clone for WeakClient<C> {
    fn clone(&self) -> Self {
        WeakClient(self.0.clone(), self.1.clone())
    }
}

impl<C: Codec> WeakClient<C> {
    /// The client, while some [`Client`] or [`Channel`] handle of it is alive.
    pub fn upgrade(&self) -> Option<Client<C>> {
        Some(Client { shared: self.0.upgrade()?, owner: self.1.upgrade()? })
    }
}

/// Held by every `Client` and `Channel` handle of one client: when the last one goes, the client disconnects (its
/// sockets' handlers hold the runtime, so without this a dropped client would stay connected for ever).
pub(crate) struct Owner<C: Codec> {
    shared: Weak<Shared<C>>,
    /// Set by the npm package: a JS `PondClient` stays connected until `disconnect()`, as upstream's does.
    keep_connected: Cell<bool>,
}

impl<C: Codec> Drop for Owner<C> {
    fn drop(&mut self) {
        if self.keep_connected.get() {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            shared.when_free(|shared| shared.inner.borrow_mut().core.disconnect(platform::now()));
        }
    }
}

/// A listener's registration: dropping it removes the listener, as gloo's listeners do; [`Subscription::forget`]
/// keeps it for as long as the client lives.
///
/// ```ignore
/// let subscription = client.on_connection_change(|state| web_log(state.as_str()));
/// drop(subscription); // no more calls
/// client.on_error(|error| web_log(&error.to_string())).forget(); // for the client's life
/// ```
#[must_use = "dropping a Subscription removes its listener at once: keep it, or call .forget()"]
pub struct Subscription {
    remove: Option<Box<dyn FnOnce()>>,
}

/// What a subscription takes out of the runtime, dropped once the runtime is no longer borrowed (the listener's own
/// drop may call back into the client).
pub(crate) type Removed = Option<Box<dyn std::any::Any>>;

impl Subscription {
    fn new<C: Codec>(shared: &Rc<Shared<C>>, remove: impl FnOnce(&mut runtime::Inner<C>) -> Removed + 'static) -> Self {
        let shared = Rc::downgrade(shared);
        let remove = move || {
            let Some(shared) = shared.upgrade() else { return };
            shared.when_free(move |shared| {
                let removed = remove(&mut shared.inner.borrow_mut());
                drop(removed);
            });
        };
        Subscription { remove: Some(Box::new(remove)) }
    }

    /// A subscription to nothing.
    #[cfg(feature = "serde")]
    pub(crate) fn none() -> Self {
        Subscription { remove: None }
    }

    /// Stops the listener (as dropping the subscription does); a delivery already under way may still reach it once.
    pub fn unsubscribe(self) {}

    /// Keeps the listener for as long as the client lives.
    pub fn forget(mut self) {
        self.remove = None;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(remove) = self.remove.take() {
            remove();
        }
    }
}

/// The removed listener, kept to be dropped outside the runtime's borrow.
pub(crate) fn removed<T: 'static>(item: Option<T>) -> Removed {
    item.map(|item| Box::new(item) as Box<dyn std::any::Any>)
}
