//! One Server-Sent Events connection: the host `fetch`es the event stream and POSTs frames (`openEventStream` in
//! [`crate::platform`]); here its bytes are parsed ([`EventStreamParser`]) and each event's data goes to the
//! runtime as a socket's message would. Dropping the driver stops the stream and detaches its callbacks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::codec::Codec;
use crate::platform::{describe, open_event_stream, EventStream};
use crate::runtime::{self, Shared};
use pondsocket_proto::sse::EventStreamParser;
use pondsocket_proto::SocketId;

pub(crate) struct SseDriver {
    pub(crate) id: SocketId,
    stream: Rc<EventStream>,
    // Owned here, dropped with the driver; `stop` first makes sure the host calls none of them again.
    _on_open: Closure<dyn Fn()>,
    _on_chunk: Closure<dyn Fn(Uint8Array)>,
    _on_end: Closure<dyn Fn(JsValue)>,
}

impl SseDriver {
    /// Starts reading the event stream at `url`.
    ///
    /// # Errors
    /// What the host threw (no `fetch`).
    pub(crate) fn open<C: Codec>(
        shared: &Rc<Shared<C>>,
        id: SocketId,
        url: &str,
        with_credentials: bool,
    ) -> Result<Self, String> {
        let opened = Rc::new(Cell::new(false));
        let parser = Rc::new(RefCell::new(EventStreamParser::default()));
        // The callbacks hold the client strongly, as a WebSocket's handlers do: an open stream keeps it alive.
        let on_open = {
            let (shared, opened) = (shared.clone(), opened.clone());
            Closure::<dyn Fn()>::new(move || {
                opened.set(true);
                runtime::socket_opened(&shared, id);
            })
        };
        let on_chunk = {
            let shared = shared.clone();
            Closure::<dyn Fn(Uint8Array)>::new(move |chunk: Uint8Array| {
                // Take, then call: the events are collected with the parser borrowed, then delivered without it.
                let mut events = Vec::new();
                parser.borrow_mut().feed(&chunk.to_vec(), |event| events.push(JsValue::from_str(event.data)));
                for data in events {
                    runtime::socket_message(&shared, id, data);
                }
            })
        };
        let on_end = {
            let shared = shared.clone();
            Closure::<dyn Fn(JsValue)>::new(move |why: JsValue| {
                let why = why.as_string();
                if opened.get() {
                    let reason = why.as_deref().unwrap_or("the event stream ended");
                    runtime::socket_closed(&shared, id, 1006, reason);
                } else {
                    runtime::socket_error(&shared, id, why.as_deref().unwrap_or("the event stream ended at once"));
                }
            })
        };
        let stream = open_event_stream(
            url,
            with_credentials,
            on_open.as_ref().unchecked_ref(),
            on_chunk.as_ref().unchecked_ref(),
            on_end.as_ref().unchecked_ref(),
        )
        .map_err(|e| describe(&e))?;
        Ok(SseDriver { id, stream: Rc::new(stream), _on_open: on_open, _on_chunk: on_chunk, _on_end: on_end })
    }

    pub(crate) fn sender(&self, connection_id: Option<&str>) -> Sender {
        Sender { stream: self.stream.clone(), connection_id: connection_id.map(str::to_owned) }
    }

    /// Stops the stream and tells the server; nothing more is reported. (Dropping the driver does the same.)
    pub(crate) fn close(self) {}
}

impl Drop for SseDriver {
    fn drop(&mut self) {
        self.stream.stop();
    }
}

/// POSTs frames on one SSE connection.
pub(crate) struct Sender {
    stream: Rc<EventStream>,
    connection_id: Option<String>,
}

impl Sender {
    /// Queues a POST of `frame`; a POST that fails ends the connection.
    pub(crate) fn send(&self, frame: &str) {
        self.stream.send(frame, self.connection_id.as_deref());
    }
}
