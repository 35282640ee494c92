//! Helpers of the browser suite: the server's URLs, recorders of events, waits that fail with what was recorded,
//! and clients and channels that record everything they hear.
//!
//! A failed check returns [`Fail`] instead of panicking: on wasm32 a panic aborts the instance, and every later test
//! would fail with it.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Object, Promise, Reflect};
use pondsocket_web::{
    Channel, ChannelError, ChannelState, Client, ConnectionState, Error, JsonObject, Options, TransportChoice,
};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a test failed; its `Debug` is the message as is, which is what wasm-bindgen-test prints.
pub struct Fail(pub String);

impl fmt::Debug for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Error> for Fail {
    fn from(error: Error) -> Self {
        Fail(format!("unexpected client error: {error} ({error:?})"))
    }
}

impl From<JsValue> for Fail {
    fn from(value: JsValue) -> Self {
        let message = Reflect::get(&value, &"message".into()).ok().and_then(|m| m.as_string());
        Fail(format!("JS exception: {}", message.unwrap_or_else(|| format!("{value:?}"))))
    }
}

pub type TestResult<T = ()> = Result<T, Fail>;

/// `ensure!(condition, "format", args..)`: fails the test with the message and the line.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            return Err($crate::support::Fail(format!("{} [{}:{}]", format!($($fmt)+), file!(), line!())));
        }
    };
}

/// `ensure_eq!(left, right, "format", args..)`: fails the test showing both sides.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($fmt:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err($crate::support::Fail(format!(
                        "{}\n   left: {:?}\n  right: {:?} [{}:{}]",
                        format!($($fmt)+), left, right, file!(), line!()
                    )));
                }
            }
        }
    };
}

// ----- the page -----

// An exception that escapes a socket or timer handler of the client unwinds through its wasm frames without running
// their destructors (a `RefCell` borrow among them), and the browser only reports it to the page: printed here, so
// that a test failing because of one shows its cause. A function made from source, not an inline JS snippet: every
// snippet is one more module the test page loads from the runner's server, which now and then loses one.
fn watch_uncaught() {
    let install = Function::new_no_args(
        "if (globalThis.__watchingUncaught) return; globalThis.__watchingUncaught = true;
         addEventListener('error', (e) => console.error('uncaught in the page:', e.message, e.error && e.error.stack));
         addEventListener('unhandledrejection', (e) => console.error('unhandled rejection in the page:', e.reason));",
    );
    let _ = install.call0(&JsValue::UNDEFINED);
}

// ----- the server -----

/// `ws://127.0.0.1:P/socket` of the test server, as given when the suite was compiled.
pub fn ws_url() -> TestResult<&'static str> {
    option_env!("PONDSOCKET_TEST_URL").ok_or_else(|| {
        Fail("PONDSOCKET_TEST_URL was not set when the suite was compiled: run scripts/test-browser.sh".into())
    })
}

/// The transport the suite runs over: PONDSOCKET_TRANSPORT (`sse`, `auto`; WebSocket otherwise) when it was
/// compiled. It applies to clients of the server under test ([`ws_url`]), not to the other server's.
pub fn transport() -> TransportChoice {
    match option_env!("PONDSOCKET_TRANSPORT") {
        Some("sse") => TransportChoice::Sse,
        Some("auto") => TransportChoice::Auto,
        _ => TransportChoice::WebSocket,
    }
}

/// `ws://127.0.0.1:P/socket` of the scripted hostile server (tests/support/hostile-server.mjs).
pub fn hostile_url() -> TestResult<&'static str> {
    option_env!("PONDSOCKET_HOSTILE_URL").ok_or_else(|| {
        Fail("PONDSOCKET_HOSTILE_URL was not set when the suite was compiled: run scripts/test-browser.sh".into())
    })
}

/// `ws://127.0.0.1:Q/socket` of a port that accepts TCP and never answers the WebSocket handshake.
pub fn blackhole_url() -> TestResult<&'static str> {
    option_env!("PONDSOCKET_BLACKHOLE_URL").ok_or_else(|| {
        Fail("PONDSOCKET_BLACKHOLE_URL was not set when the suite was compiled: run scripts/test-browser.sh".into())
    })
}

/// `http://127.0.0.1:C` of the supervisor that kills and restarts the server.
pub fn control_url() -> TestResult<&'static str> {
    option_env!("PONDSOCKET_CONTROL_URL").ok_or_else(|| {
        Fail("PONDSOCKET_CONTROL_URL was not set when the suite was compiled: run scripts/test-browser.sh".into())
    })
}

/// Starts `POST {control}{path}` with the browser's `fetch`; await the promise with [`control_done`].
pub fn control_start(path: &str) -> TestResult<Promise> {
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &"fetch".into())?.dyn_into()?;
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into())?;
    let url = format!("{}{path}", control_url()?);
    Ok(fetch.call2(&global, &url.into(), &init)?.dyn_into()?)
}

/// The supervisor's JSON answer to a request started by [`control_start`]; an error status fails.
pub async fn control_done(request: Promise, timeout_ms: u32) -> TestResult<Value> {
    let response = with_timeout("the supervisor's answer", timeout_ms, JsFuture::from(request)).await??;
    let ok = Reflect::get(&response, &"ok".into())?.as_bool() == Some(true);
    let text: Function = Reflect::get(&response, &"text".into())?.dyn_into()?;
    let body: Promise = text.call0(&response)?.dyn_into()?;
    let body = JsFuture::from(body).await?.as_string().unwrap_or_default();
    ensure!(ok, "the supervisor refused: {body}");
    serde_json::from_str(&body).map_err(|e| Fail(format!("the supervisor answered {body:?}: {e}")))
}

// ----- values -----

/// A JSON object for the client's API.
pub fn obj(value: Value) -> JsonObject {
    JsonObject::parse(&value.to_string()).expect("a JSON object")
}

/// A payload as a `serde_json::Value`.
pub fn val(object: &JsonObject) -> Value {
    object.deserialize().unwrap_or(Value::Null)
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    thread_local!(static COUNTER: Cell<u32> = const { Cell::new(0) });
    let n = COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let random = (js_sys::Math::random() * 1e9) as u64;
    format!("{prefix}-{n}-{random:x}")
}

/// The page runs in WebKit (Safari's engine; WebKitGTK's MiniBrowser here), whose user agent names no Chrome.
pub fn is_webkit() -> bool {
    let agent = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"userAgent".into()))
        .ok()
        .and_then(|agent| agent.as_string())
        .unwrap_or_default();
    agent.contains("AppleWebKit") && !agent.contains("Chrome")
}

/// Milliseconds on the page's clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The `name` field of each presence entry, sorted.
pub fn names(presence: &[JsonObject]) -> Vec<String> {
    let mut names: Vec<String> =
        presence.iter().map(|p| val(p)["name"].as_str().unwrap_or("<no name>").to_owned()).collect();
    names.sort();
    names
}

/// Presence entries as JSON values sorted by their text, to compare two clients' views.
pub fn presence_set(presence: &[JsonObject]) -> Vec<Value> {
    let mut entries: Vec<Value> = presence.iter().map(val).collect();
    entries.sort_by_key(|v| v.to_string());
    entries
}

// ----- waiting -----

/// Polls `condition` every few milliseconds until it holds; fails after `timeout_ms` with `describe()`.
pub async fn wait_until(
    what: &str,
    timeout_ms: u32,
    mut condition: impl FnMut() -> bool,
    describe: impl Fn() -> String,
) -> TestResult {
    let start = now_ms();
    loop {
        if condition() {
            return Ok(());
        }
        if now_ms() - start > f64::from(timeout_ms) {
            return Err(Fail(format!("timed out after {timeout_ms} ms waiting for {what}; {}", describe())));
        }
        TimeoutFuture::new(5).await;
    }
}

/// `future`'s output, or a failure naming `what` after `timeout_ms`.
pub async fn with_timeout<F: Future>(what: &str, timeout_ms: u32, future: F) -> TestResult<F::Output> {
    Race { future: Box::pin(future), timer: Box::pin(TimeoutFuture::new(timeout_ms)) }
        .await
        .ok_or_else(|| Fail(format!("timed out after {timeout_ms} ms waiting for {what}")))
}

struct Race<F> {
    future: Pin<Box<F>>,
    timer: Pin<Box<TimeoutFuture>>,
}

impl<F: Future> Future for Race<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Yields to the event loop for `ms`. Only for the bounded waits that ARE the assertion ("nothing more happens
/// within ..."), never in place of waiting for an event.
pub async fn quiet_period(ms: u32) {
    TimeoutFuture::new(ms).await;
}

// ----- recording -----

/// Everything a listener was given, in order. Clones share the record.
pub struct Log<T>(Rc<RefCell<Vec<T>>>);

impl<T> Clone for Log<T> {
    fn clone(&self) -> Self {
        Log(self.0.clone())
    }
}

impl<T: Clone + fmt::Debug + 'static> Log<T> {
    pub fn new() -> Self {
        Log(Rc::new(RefCell::new(Vec::new())))
    }

    pub fn push(&self, item: T) {
        self.0.borrow_mut().push(item);
    }

    pub fn items(&self) -> Vec<T> {
        self.0.borrow().clone()
    }

    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn last(&self) -> Option<T> {
        self.0.borrow().last().cloned()
    }

    /// Waits until `condition` holds over the record; the failure shows the record.
    pub async fn wait(&self, what: &str, timeout_ms: u32, condition: impl Fn(&[T]) -> bool) -> TestResult {
        let this = self.clone();
        let shown = self.clone();
        wait_until(
            what,
            timeout_ms,
            move || condition(&this.0.borrow()),
            move || format!("recorded: {:?}", shown.0.borrow()),
        )
        .await
    }
}

impl<T: Clone + fmt::Debug + PartialEq + 'static> Log<T> {
    pub fn contains(&self, item: &T) -> bool {
        self.0.borrow().contains(item)
    }

    /// Waits until `item` has been recorded.
    pub async fn wait_for(&self, what: &str, timeout_ms: u32, item: T) -> TestResult {
        self.wait(what, timeout_ms, move |items| items.contains(&item)).await
    }
}

// ----- clients -----

/// Small reconnect delays, so that reconnect tests are quick.
pub fn quick_options() -> Options {
    Options { base_reconnect_delay: 100, max_reconnect_delay: 500, connection_timeout: 5_000, ..Options::default() }
}

/// A client whose connection states, errors and planned reconnects are recorded. Disconnects when dropped, so that a
/// failed test leaves no socket behind.
pub struct TestClient {
    pub client: Client,
    pub states: Log<ConnectionState>,
    pub errors: Log<Error>,
    /// (attempt, delay_ms)
    pub reconnects: Log<(u32, u64)>,
}

impl Deref for TestClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.client.disconnect();
    }
}

impl TestClient {
    /// A client for `endpoint`, not connected yet.
    pub fn new(endpoint: &str, params: &[(&str, &str)], options: Options) -> TestResult<Self> {
        watch_uncaught();
        let under_test = option_env!("PONDSOCKET_TEST_URL") == Some(endpoint);
        let options = if under_test { Options { transport: transport(), ..options } } else { options };
        let client = Client::new(endpoint, params, options)?;
        let (states, errors, reconnects) = (Log::new(), Log::new(), Log::new());
        let sink = states.clone();
        client.on_connection_change(move |s| sink.push(s)).forget();
        let sink = errors.clone();
        client.on_error(move |e| sink.push(e.clone())).forget();
        let sink = reconnects.clone();
        client.on_reconnect_scheduled(move |attempt, delay| sink.push((attempt, delay))).forget();
        Ok(TestClient { client, states, errors, reconnects })
    }

    /// A client of the test server with `token=good`, not connected yet.
    pub fn good(options: Options) -> TestResult<Self> {
        Self::new(ws_url()?, &[("token", "good")], options)
    }

    /// A connected client of the test server.
    pub async fn connected(options: Options) -> TestResult<Self> {
        let client = Self::good(options)?;
        client.connect();
        client.wait_connected().await?;
        Ok(client)
    }

    pub async fn wait_connected(&self) -> TestResult {
        let client = self.client.clone();
        let states = self.states.clone();
        let errors = self.errors.clone();
        wait_until(
            "the connection",
            5_000,
            move || client.state() == ConnectionState::Connected,
            move || format!("states {:?}, errors {:?}", states.items(), errors.items()),
        )
        .await
    }

    /// A new channel, recorded, not joined.
    pub fn channel(&self, name: &str, params: Value) -> TestResult<TestChannel> {
        Ok(TestChannel::watch(self.client.create_channel(name, &obj(params))?))
    }

    /// A channel joined (JOINED) on this client.
    pub async fn joined(&self, name: &str, params: Value) -> TestResult<TestChannel> {
        let channel = self.channel(name, params)?;
        channel.join()?;
        channel.wait_state(ChannelState::Joined, 5_000).await?;
        Ok(channel)
    }
}

/// A channel whose states, messages, errors and presence events are recorded.
pub struct TestChannel {
    pub channel: Channel,
    pub states: Log<ChannelState>,
    /// (event, payload)
    pub messages: Log<(String, Value)>,
    pub errors: Log<ChannelError>,
    pub joins: Log<Value>,
    pub leaves: Log<Value>,
    /// (changed, everyone)
    pub updates: Log<(Value, Vec<Value>)>,
    pub users: Log<Vec<Value>>,
}

impl Deref for TestChannel {
    type Target = Channel;
    fn deref(&self) -> &Channel {
        &self.channel
    }
}

impl TestChannel {
    pub fn watch(channel: Channel) -> Self {
        let this = TestChannel {
            channel,
            states: Log::new(),
            messages: Log::new(),
            errors: Log::new(),
            joins: Log::new(),
            leaves: Log::new(),
            updates: Log::new(),
            users: Log::new(),
        };
        let sink = this.states.clone();
        this.channel.on_state_change(move |s| sink.push(s)).forget();
        let sink = this.messages.clone();
        this.channel.on_message(move |event, payload| sink.push((event.to_owned(), val(payload)))).forget();
        let sink = this.errors.clone();
        this.channel.on_error(move |e| sink.push(e.clone())).forget();
        let sink = this.joins.clone();
        this.channel.on_join(move |p| sink.push(val(p))).forget();
        let sink = this.leaves.clone();
        this.channel.on_leave(move |p| sink.push(val(p))).forget();
        let sink = this.updates.clone();
        this.channel.on_presence_change(move |p, all| sink.push((val(p), all.iter().map(val).collect()))).forget();
        let sink = this.users.clone();
        this.channel.on_users_change(move |all| sink.push(all.iter().map(val).collect())).forget();
        this
    }

    /// Waits until the channel is in `state`; fails at once if it ends in another terminal state.
    pub async fn wait_state(&self, state: ChannelState, timeout_ms: u32) -> TestResult {
        let channel = self.channel.clone();
        let (states, errors) = (self.states.clone(), self.errors.clone());
        let name = self.channel.name();
        let what = format!("channel {name} to be {state}");
        let mut wrong_end = None;
        let result = wait_until(
            &what,
            timeout_ms,
            || {
                let now = channel.state();
                if now != state && now.is_terminal() {
                    wrong_end = Some(now);
                    return true;
                }
                now == state
            },
            move || format!("states {:?}, errors {:?}", states.items(), errors.items()),
        )
        .await;
        match wrong_end {
            Some(end) => Err(Fail(format!(
                "channel {name} ended {end} while waiting for {state}; states {:?}, errors {:?}",
                self.states.items(),
                self.errors.items()
            ))),
            None => result,
        }
    }

    /// Payloads of the `message` events received, in order.
    pub fn message_payloads(&self) -> Vec<Value> {
        self.messages.items().into_iter().filter(|(e, _)| e == "message").map(|(_, p)| p).collect()
    }
}
