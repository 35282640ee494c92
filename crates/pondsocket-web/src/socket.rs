//! One WebSocket and the four handlers that feed its events to the runtime; dropping it detaches them.

use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::codec::Codec;
use crate::platform::{describe, open_websocket};
use crate::runtime::{self, Shared};
use pondsocket_proto::SocketId;

pub(crate) struct SocketDriver {
    pub(crate) id: SocketId,
    ws: WebSocket,
    // The closures live exactly as long as the socket can call them: Drop detaches them first. `Fn`, not `FnMut`:
    // a scripted socket may call one from inside another (a message delivered from inside send()).
    _on_open: Closure<dyn Fn(JsValue)>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_close: Closure<dyn Fn(JsValue)>,
    _on_error: Closure<dyn Fn(JsValue)>,
}

impl SocketDriver {
    /// Opens a socket to `url` with `constructor` (the `WebSocket` option) or the global `WebSocket`.
    ///
    /// # Errors
    /// The message of what the constructor threw, or why there is no constructor.
    pub(crate) fn open<C: Codec>(
        shared: &Rc<Shared<C>>,
        id: SocketId,
        url: &str,
        constructor: Option<&Function>,
    ) -> Result<Self, String> {
        let ws = open_websocket(constructor, url).map_err(|e| describe(&e))?;

        // The handlers hold the client strongly: like a JS client, an open socket keeps it alive until closed.
        let on_open = {
            let shared = shared.clone();
            Closure::<dyn Fn(JsValue)>::new(move |_| runtime::socket_opened(&shared, id))
        };
        let on_message = {
            let shared = shared.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                runtime::socket_message(&shared, id, event.data())
            })
        };
        let on_close = {
            let shared = shared.clone();
            Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
                let event: CloseEvent = event.unchecked_into();
                runtime::socket_closed(&shared, id, event.code(), &event.reason())
            })
        };
        let on_error = {
            let shared = shared.clone();
            Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
                let message = Reflect::get(&event, &"message".into()).ok().and_then(|m| m.as_string());
                runtime::socket_error(&shared, id, message.as_deref().unwrap_or("WebSocket error"))
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(SocketDriver {
            id,
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// A handle that sends on this socket, to be used once the runtime's borrow is released.
    pub(crate) fn sender(&self) -> Sender {
        Sender(self.ws.clone())
    }

    /// Closes the socket; its handlers are detached first, so its close event is never reported.
    pub(crate) fn close(self, code: u16, reason: &str) {
        self.detach();
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }

    fn detach(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
    }
}

/// Sends text frames on one socket.
pub(crate) struct Sender(WebSocket);

impl Sender {
    /// Sends a text frame.
    ///
    /// # Errors
    /// What `send` threw (a socket that is not open).
    pub(crate) fn send(&self, frame: &str) -> Result<(), String> {
        self.0.send_with_str(frame).map_err(|e| describe(&e))
    }
}

impl Drop for SocketDriver {
    fn drop(&mut self) {
        self.detach();
    }
}
