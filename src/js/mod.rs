//! The JS API: `PondClient` and `Channel`, the names and shapes of `@eleven-am/pondsocket-client`, as thin handles
//! over the Rust [`crate::Client`]. Arguments are checked here and refused with a `TypeError` that names the problem;
//! callbacks that throw are reported through the client's `onError` and do not stop delivery to the others.

mod convert;

use std::cell::Cell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use convert::{
    channel_error_to_js, function_arg, js_error, object_arg, optional_timeout, parse_options, query_params, string_arg,
    to_js,
};
use pondsocket_proto::{ChannelState, Error};
use pondsocket_web::payload::Delivered;
use pondsocket_web::runtime::Shared;
use pondsocket_web::{callback_error, report_to_console, Channel, Client, Subscription};

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
        let endpoint = string_arg(&endpoint, "endpoint")?;
        let params = query_params(&params)?;
        let (options, websocket) = parse_options(&options)?;
        let client = Client::for_host(&endpoint, &params, options, websocket, true).map_err(|e| js_error(&e))?;
        Ok(JsPondClient { client })
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

    /// The live channel of that name, or a new IDLE one that will join with `params`.
    #[wasm_bindgen(js_name = createChannel)]
    pub fn create_channel(&self, name: JsValue, params: JsValue) -> Result<JsChannel, JsValue> {
        let name = string_arg(&name, "name")?;
        let params = object_arg(&params, "params")?;
        let channel = self.client.create_channel(&name, &params).map_err(|e| js_error(&e))?;
        Ok(JsChannel { channel })
    }

    /// Called at once with the current state, then on every change.
    #[wasm_bindgen(js_name = onConnectionChange)]
    pub fn on_connection_change(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        let subscription = self.client.on_connection_change(move |state| {
            reporter.call(&callback, &[state.as_str().into()]);
        });
        Ok(unsubscriber(subscription))
    }

    /// Malformed frames, server errors, socket trouble, callbacks that threw.
    #[wasm_bindgen(js_name = onError)]
    pub fn on_error(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let subscription = self.client.on_error(move |error| {
            if let Err(thrown) = callback.call1(&JsValue::NULL, &js_error(error)) {
                report_to_console("pondsocket-wasm: an onError callback threw", &thrown);
            }
        });
        Ok(unsubscriber(subscription))
    }

    /// Each planned reconnect: `{ attempt, delayMs }`.
    #[wasm_bindgen(js_name = onReconnectScheduled)]
    pub fn on_reconnect_scheduled(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        let subscription = self.client.on_reconnect_scheduled(move |attempt, delay_ms| {
            let info = convert::object(&[("attempt", attempt.into()), ("delayMs", (delay_ms as f64).into())]);
            reporter.call(&callback, &[info]);
        });
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
        Reporter(Rc::downgrade(self.client.shared()))
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
        self.channel.presence().iter().map(to_js).collect()
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
        self.channel.send_message(&event, &payload).map_err(|e| js_error(&e))
    }

    /// Resolves with the reply's payload; rejects with `ResponseTimeoutError`, or with the reason there is no reply.
    #[wasm_bindgen(js_name = sendForResponse)]
    pub fn send_for_response(&self, event: JsValue, payload: JsValue, timeout_ms: JsValue) -> Promise {
        let (key, promise) = pending_promise();
        let request = (|| {
            let event = string_arg(&event, "event")?;
            let payload = object_arg(&payload, "payload")?;
            let timeout = optional_timeout(&timeout_ms)?;
            Ok::<_, JsValue>((event, payload, timeout))
        })();
        let sent = request.and_then(|(event, payload, timeout)| {
            let settle = Box::new(move |outcome: Result<Delivered<'_>, Error>| match outcome {
                Ok(reply) => settle_promise(key, true, &reply.to_js()),
                Err(error) => settle_promise(key, false, &js_error(&error)),
            });
            // Once registered, the callback is called exactly once: a pending request keeps the client alive
            // (through its timeout), and every way a request ends calls it.
            self.channel.send_for_response_with(&event, &payload, timeout, settle).map_err(|e| js_error(&e))
        });
        if let Err(error) = sent {
            settle_promise(key, false, &error);
        }
        promise
    }

    /// Every message: `callback(event, payload)`.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_delivered_message(move |event, payload| {
            reporter.call(&callback, &[event.into(), payload.to_js()]);
        })))
    }

    /// Messages named `event`: `callback(payload)`.
    #[wasm_bindgen(js_name = onMessageEvent)]
    pub fn on_message_event(&self, event: JsValue, callback: JsValue) -> Result<Function, JsValue> {
        let event = string_arg(&event, "event")?;
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_delivered_message_event(&event, move |payload| {
            reporter.call(&callback, &[payload.to_js()]);
        })))
    }

    /// The presence of each user who joins.
    #[wasm_bindgen(js_name = onJoin)]
    pub fn on_join(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_join(move |changed| reporter.call(&callback, &[to_js(changed)]))))
    }

    /// The presence of each user who leaves.
    #[wasm_bindgen(js_name = onLeave)]
    pub fn on_leave(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_leave(move |changed| reporter.call(&callback, &[to_js(changed)]))))
    }

    /// Presence updates: `callback({ changed, presence })`.
    #[wasm_bindgen(js_name = onPresenceChange)]
    pub fn on_presence_change(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_presence_change(move |changed, all| {
            let presence: Array = all.iter().map(to_js).collect();
            let change = convert::object(&[("changed", to_js(changed)), ("presence", presence.into())]);
            reporter.call(&callback, &[change]);
        })))
    }

    /// Everyone present, after every join, leave and update.
    #[wasm_bindgen(js_name = onUsersChange)]
    pub fn on_users_change(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_users_change(move |all| {
            let presence: Array = all.iter().map(to_js).collect();
            reporter.call(&callback, &[presence.into()]);
        })))
    }

    /// Called at once with the current state, then on every change.
    #[wasm_bindgen(js_name = onChannelStateChange)]
    pub fn on_channel_state_change(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_state_change(move |state: ChannelState| {
            reporter.call(&callback, &[state.as_str().into()]);
        })))
    }

    /// Errors the server reported about this channel: `callback({ code, message, status })`.
    #[wasm_bindgen(js_name = onError)]
    pub fn on_error(&self, callback: JsValue) -> Result<Function, JsValue> {
        let callback = function_arg(&callback, "callback")?;
        let reporter = self.reporter();
        Ok(unsubscriber(self.channel.on_error(move |error| {
            reporter.call(&callback, &[channel_error_to_js(error)]);
        })))
    }

    fn reporter(&self) -> Reporter {
        Reporter(Rc::downgrade(self.channel.shared()))
    }
}

/// Calls user callbacks and reports what they throw to the client's `onError`. Weak, so that a callback stored in
/// the client does not keep the client alive.
struct Reporter(Weak<Shared>);

impl Reporter {
    fn call(&self, callback: &Function, args: &[JsValue]) {
        let result = match args {
            [] => callback.call0(&JsValue::NULL),
            [a] => callback.call1(&JsValue::NULL, a),
            [a, b] => callback.call2(&JsValue::NULL, a, b),
            _ => callback.apply(&JsValue::NULL, &args.iter().collect()),
        };
        if let (Err(thrown), Some(shared)) = (result, self.0.upgrade()) {
            shared.report(&callback_error(&thrown));
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
#[wasm_bindgen(inline_js = r#"
const pending = new Map();
export function newPromise(key) {
  return new Promise((resolve, reject) => { pending.set(key, [resolve, reject]); });
}
export function settlePromise(key, ok, value) {
  const resolvers = pending.get(key);
  if (resolvers === undefined) return;
  pending.delete(key);
  resolvers[ok ? 0 : 1](value);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = newPromise)]
    fn new_promise(key: f64) -> Promise;
    #[wasm_bindgen(js_name = settlePromise)]
    fn settle_promise(key: f64, ok: bool, value: &JsValue);
}

thread_local! {
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
