//! The JS API: `PondClient` and `Channel`, the names and shapes of `@eleven-am/pondsocket-client`, as thin handles
//! over the Rust web client (`pondsocket_web::Client`). Arguments are checked here and refused with a `TypeError`
//! that names the problem; callbacks that throw are reported through the client's `onError` and do not stop delivery to the others.

mod codec;
mod convert;
mod errors;

use std::cell::Cell;

use js_sys::{Array, Function, Promise};
use pondsocket_proto::{ChannelState, Error};
use pondsocket_web::host::{describe, report_to_console};
use pondsocket_web::{Subscription, WeakClient};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use codec::{JsCodec, JsPayload};
use convert::{function_arg, object_arg, optional_timeout, parse_options, parse_target, string_arg};
use errors::{channel_error_to_js, js_error};

type Client = pondsocket_web::Client<JsCodec>;
type Channel = pondsocket_web::Channel<JsCodec>;

/// A connection to a PondSocket server.
#[wasm_bindgen(js_name = PondClient)]
pub struct JsPondClient {
    client: Client,
}

#[wasm_bindgen(js_class = PondClient)]
impl JsPondClient {
    /// Throws a `TypeError` for an endpoint that is not a ws/wss/http/https URL, or an option it cannot take.
    #[wasm_bindgen(constructor)]
    pub fn new(endpoint: JsValue, params: JsValue, options: JsValue) -> Result<JsPondClient, JsValue> {
        let (endpoints, params, source) = parse_target(&endpoint, &params)?;
        let (options, connect) = parse_options(&options)?;
        let host = pondsocket_web::HostOptions {
            websocket: connect.websocket,
            with_credentials: connect.with_credentials,
            params: source,
            presence_key: connect.presence_key,
            owned: Vec::new(),
        };
        let client = Client::with_host(&endpoints, &params, options, host).map_err(|e| js_error(&e))?;
        // A JS client stays connected until disconnect() or its disposal, whatever the garbage collector does with
        // this handle, as upstream's does.
        client.keep_connected_when_dropped();
        if let Some(logger) = connect.logger {
            let reporter = Reporter(client.downgrade());
            client
                .on_log(move |record| {
                    let flat: Array = record.fields.iter().flat_map(|(k, v)| [JsValue::from(*k), v.into()]).collect();
                    let error = record.error.as_ref().map(js_error);
                    let called = call_logger(&logger, record.level.as_str(), record.message, &flat, error.as_ref());
                    if let (Err(thrown), Some(client)) = (called, reporter.0.upgrade()) {
                        client.report(&Error::Callback(describe(&thrown)));
                    }
                })
                .forget();
        }
        Ok(JsPondClient { client })
    }

    /// The endpoint in use, or the one the next attempt goes to, without its query string.
    #[wasm_bindgen(js_name = getEndpoint)]
    pub fn get_endpoint(&self) -> String {
        self.client.endpoint()
    }

    /// Starts connecting. Never throws and returns nothing to await: failures arrive through `onError` and
    /// `onConnectionChange`, and the client reconnects by itself.
    pub fn connect(&self) {
        self.client.connect();
    }

    /// Closes the connection and every channel (CLOSED); pending requests reject; no reconnect follows.
    pub fn disconnect(&self) {
        self.client.disconnect();
    }

    #[wasm_bindgen(js_name = getState)]
    pub fn get_state(&self) -> String {
        self.client.state().as_str().to_owned()
    }

    /// `'websocket'` or `'sse'`: the transport of the current connection, or of the attempt under way or last made.
    #[wasm_bindgen(js_name = getTransport)]
    pub fn get_transport(&self) -> String {
        self.client.transport().as_str().to_owned()
    }

    /// The server's id for the current connection, once it is accepted; `undefined` otherwise.
    #[wasm_bindgen(js_name = getConnectionId)]
    pub fn get_connection_id(&self) -> Option<String> {
        self.client.connection_id()
    }

    /// The live channel of that name, or a new IDLE one that will join with `params` (within `joinTimeout` ms if
    /// given). The package's entry puts `createChannel` in front, which also takes a channel definition.
    #[wasm_bindgen(js_name = __createChannel, skip_typescript)]
    pub fn create_channel(&self, name: JsValue, params: JsValue, join_timeout: JsValue) -> Result<JsChannel, JsValue> {
        let name = string_arg(&name, "name")?;
        let params = object_arg(&params, "params")?;
        let join_timeout = optional_timeout(&join_timeout, "joinTimeout")?;
        let channel = self.client.create_channel_json(&name, params, join_timeout).map_err(|e| js_error(&e))?;
        Ok(JsChannel { channel })
    }

    /// Every subscription method (`onConnectionChange`, `onError`, `onReconnectScheduled`, defined on the class by
    /// the package's entry) in one export: each export costs the wasm and the glue its own shim.
    #[wasm_bindgen(js_name = __on, skip_typescript)]
    pub fn on(&self, kind: u32, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        let subscription = match kind {
            // Called at once with the current state, then on every change.
            0 => self.client.on_connection_change(move |state| reporter.call(&callback, &[state.as_str().into()])),
            // Malformed frames, server errors, socket trouble, callbacks that threw.
            1 => self.client.on_error(move |error| {
                if let Err(thrown) = callback.call1(&JsValue::NULL, &js_error(error)) {
                    report_to_console("pondsocket-wasm: an onError callback threw", &thrown);
                }
            }),
            // Each planned reconnect: `{ attempt, delayMs }`.
            _ => self.client.on_reconnect_scheduled(move |attempt, delay_ms| {
                let info = convert::object(&[("attempt", attempt.into()), ("delayMs", (delay_ms as f64).into())]);
                reporter.call(&callback, &[info]);
            }),
        };
        Ok(unsubscriber(subscription))
    }

    /// `{ channels, requests, timers }` the client holds: what leak tests expect back at zero.
    #[wasm_bindgen(js_name = __counts, skip_typescript)]
    pub fn counts(&self) -> JsValue {
        let (channels, requests, timers) = self.client.counts();
        convert::object(&[
            ("channels", (channels as f64).into()),
            ("requests", (requests as f64).into()),
            ("timers", (timers as f64).into()),
        ])
    }

    fn reporter(&self) -> Reporter {
        Reporter(self.client.downgrade())
    }
}

/// One channel of a client.
#[wasm_bindgen(js_name = Channel)]
pub struct JsChannel {
    channel: Channel,
}

#[wasm_bindgen(js_class = Channel)]
impl JsChannel {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.channel.name()
    }

    #[wasm_bindgen(getter, js_name = channelState)]
    pub fn channel_state(&self) -> String {
        self.channel.state().as_str().to_owned()
    }

    /// Everyone present, as of the latest presence message.
    #[wasm_bindgen(getter)]
    pub fn presence(&self) -> Array {
        // A copy: the caller may change it, and callbacks were handed the list itself.
        Array::from(&self.channel.presence().0)
    }

    /// `{ code, message, status }` for a DECLINED channel, else `null`.
    #[wasm_bindgen(getter, js_name = joinError)]
    pub fn join_error(&self) -> JsValue {
        self.channel.join_error().map_or(JsValue::NULL, |e| channel_error_to_js(&e))
    }

    /// The server's reason for a channel CLOSED by eviction, else `null`.
    #[wasm_bindgen(getter, js_name = evictedReason)]
    pub fn evicted_reason(&self) -> JsValue {
        self.channel.evicted_reason().map_or(JsValue::NULL, |r| r.into())
    }

    /// Joins now if connected, else once connected. Throws on a CLOSED or DECLINED channel.
    pub fn join(&self) -> Result<(), JsValue> {
        self.channel.join().map_err(|e| js_error(&e))
    }

    pub fn leave(&self) {
        self.channel.leave();
    }

    /// Throws on a CLOSED or DECLINED channel, or for a payload that is not a JSON-serializable object.
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(&self, event: JsValue, payload: JsValue) -> Result<(), JsValue> {
        let event = string_arg(&event, "event")?;
        let payload = object_arg(&payload, "payload")?;
        self.channel.send_message_json(&event, &payload).map_err(|e| js_error(&e))
    }

    /// Resolves with the reply's payload; rejects with `ResponseTimeoutError`, or with the reason there is no reply.
    #[wasm_bindgen(js_name = sendForResponse)]
    pub fn send_for_response(&self, event: JsValue, payload: JsValue, timeout_ms: JsValue) -> Promise {
        let (key, promise) = pending_promise();
        let request = (|| {
            let event = string_arg(&event, "event")?;
            let payload = object_arg(&payload, "payload")?;
            let timeout = optional_timeout(&timeout_ms, "timeoutMs")?;
            Ok::<_, JsValue>((event, payload, timeout))
        })();
        let sent = request.and_then(|(event, payload, timeout)| {
            let settle = Box::new(move |outcome: Result<JsPayload, Error<JsPayload>>| match outcome {
                Ok(reply) => settle_promise(key, true, &reply.0),
                Err(error) => settle_promise(key, false, &js_error(&error)),
            });
            // Once registered, the callback is called exactly once: a pending request keeps the client alive
            // (through its timeout), and every way a request ends calls it.
            self.channel.send_for_response_with(&event, &payload, timeout, settle).map_err(|e| js_error(&e))
        });
        match sent {
            Ok(handle) => LAST_REQUEST.with(|last| last.set(handle.0 as f64)),
            Err(error) => {
                // No request to abort: handle 0 is never made.
                LAST_REQUEST.with(|last| last.set(0.0));
                settle_promise(key, false, &error);
            }
        }
        promise
    }

    /// Gives up the request `request` (`__lastRequest()` right after its `sendForResponse`): it is forgotten at
    /// once, its promise rejects, and a late reply is dropped. The entry's `sendForResponse` calls it for a `signal`.
    #[wasm_bindgen(js_name = __abort, skip_typescript)]
    pub fn abort(&self, request: f64) {
        self.channel.cancel_request(pondsocket_web::RequestHandle(request as u64));
    }

    /// Every subscription method (`onMessage`, `onMessageEvent`, `onJoin`, `onLeave`, `onPresenceChange`,
    /// `onUsersChange`, `onChannelStateChange`, `onError`, defined on the class by the package's entry) in one export.
    /// `event` is `onMessageEvent`'s event name.
    #[wasm_bindgen(js_name = __on, skip_typescript)]
    pub fn on(&self, kind: u32, event: JsValue, callback: JsValue) -> Result<Function, JsValue> {
        let event = if kind == 1 { Some(string_arg(&event, "event")?) } else { None };
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        let call = move |args: &[JsValue]| reporter.call(&callback, args);
        let subscription = match (kind, event) {
            // Every message: `callback(event, payload)`.
            (0, _) => self.channel.on_message(move |event, payload| call(&[event.into(), payload.0.clone()])),
            // Messages named `event`, whatever their query string: `callback(payload)`, or `callback(payload, query)`
            // (the entry's wrapper makes `eventParams` of it).
            (1, Some(event)) => self.channel.on_message_event_query(&event, move |payload, query| {
                if query.is_empty() {
                    call(std::slice::from_ref(&payload.0))
                } else {
                    call(&[payload.0.clone(), query.into()])
                }
            }),
            // The presence of each user who joins, or leaves.
            (2, _) => self.channel.on_join(move |changed| call(std::slice::from_ref(&changed.0))),
            (3, _) => self.channel.on_leave(move |changed| call(std::slice::from_ref(&changed.0))),
            // Presence updates: `callback({ changed, presence })`.
            (4, _) => self.channel.on_presence_change(move |changed, all| {
                call(&[convert::object(&[("changed", changed.0.clone()), ("presence", all.0.clone())])])
            }),
            // Everyone present, after every join, leave and update.
            (5, _) => self.channel.on_users_change(move |all| call(std::slice::from_ref(&all.0))),
            // Called at once with the current state, then on every change.
            (6, _) => self.channel.on_state_change(move |state: ChannelState| call(&[state.as_str().into()])),
            // Errors the server reported about this channel: `callback({ code, message, status })`.
            _ => self.channel.on_error(move |error| call(&[channel_error_to_js(error)])),
        };
        Ok(unsubscriber(subscription))
    }

    fn reporter(&self) -> Reporter {
        Reporter(self.channel.client().downgrade())
    }
}

/// Calls user callbacks and reports what they throw to the client's `onError`. Weak, so that a callback stored in
/// the client does not keep the client alive.
struct Reporter(WeakClient<JsCodec>);

impl Reporter {
    fn call(&self, callback: &Function, args: &[JsValue]) {
        let result = match args {
            [] => callback.call0(&JsValue::NULL),
            [a] => callback.call1(&JsValue::NULL, a),
            [a, b] => callback.call2(&JsValue::NULL, a, b),
            _ => callback.apply(&JsValue::NULL, &args.iter().collect()),
        };
        if let (Err(thrown), Some(client)) = (result, self.0.upgrade()) {
            client.report(&Error::Callback(describe(&thrown)));
        }
    }
}

/// The `() => void` a subscription method returns. If it is never called and the JS garbage collector frees it,
/// the listener stays, as in the JS client.
fn unsubscriber(subscription: Subscription) -> Function {
    Closure::once_into_js(move || subscription.unsubscribe()).unchecked_into()
}

// A pending `sendForResponse` promise waits in a JS map under a key and is settled from there. A promise made from
// wasm would take a closure for its executor and holds on two resolver functions: several more round trips.
#[wasm_bindgen(module = "/src/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = newPromise)]
    fn new_promise(key: f64) -> Promise;
    #[wasm_bindgen(js_name = settlePromise)]
    fn settle_promise(key: f64, ok: bool, value: &JsValue);
    #[wasm_bindgen(js_name = callLogger, catch)]
    fn call_logger(
        logger: &Function,
        level: &str,
        message: &str,
        fields: &Array,
        error: Option<&JsValue>,
    ) -> Result<(), JsValue>;
}

/// The handle of the request the last `sendForResponse` made, for the entry to abort it.
#[wasm_bindgen(js_name = __lastRequest, skip_typescript)]
pub fn last_request() -> f64 {
    LAST_REQUEST.with(Cell::get)
}

thread_local! {
    static LAST_REQUEST: Cell<f64> = const { Cell::new(0.0) };
    static LAST_PROMISE: Cell<f64> = const { Cell::new(0.0) };
}

/// A new pending promise and the key that settles it.
fn pending_promise() -> (f64, Promise) {
    let key = LAST_PROMISE.with(|last| {
        last.set(last.get() + 1.0);
        last.get()
    });
    (key, new_promise(key))
}
