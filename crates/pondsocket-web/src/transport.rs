//! The connection the core asked for, over either transport: a WebSocket ([`SocketDriver`]) or Server-Sent Events
//! ([`SseDriver`]), or, before either, the wait for the params function ([`ParamsWait`]). The runtime holds one and
//! sends through it; none knows of the others.

use std::rc::Rc;

use js_sys::Function;

use crate::codec::Codec;
use crate::params::ParamsWait;
use crate::runtime::Shared;
use crate::socket::{self, SocketDriver};
use crate::sse::{self, SseDriver};
use pondsocket_proto::{SocketId, Transport};

pub(crate) enum Connection {
    Params(ParamsWait),
    WebSocket(SocketDriver),
    Sse(SseDriver),
}

impl Connection {
    /// Opens `url` over `transport`.
    ///
    /// # Errors
    /// Why it could not even start (no WebSocket constructor, one that threw, no `fetch`).
    pub(crate) fn open<C: Codec>(
        shared: &Rc<Shared<C>>,
        id: SocketId,
        url: &str,
        transport: Transport,
        websocket: Option<&Function>,
        with_credentials: bool,
    ) -> Result<Self, String> {
        Ok(match transport {
            Transport::WebSocket => Connection::WebSocket(SocketDriver::open(shared, id, url, websocket)?),
            Transport::Sse => Connection::Sse(SseDriver::open(shared, id, url, with_credentials)?),
        })
    }

    pub(crate) fn id(&self) -> SocketId {
        match self {
            Connection::Params(wait) => wait.id,
            Connection::WebSocket(socket) => socket.id,
            Connection::Sse(stream) => stream.id,
        }
    }

    /// What sends on this connection once the runtime's borrow is released; `connection_id` is the core's, which
    /// SSE's POSTs carry when the server's header could not be read.
    /// `None` while the params function is awaited (the core sends nothing before a socket opened).
    pub(crate) fn sender(&self, connection_id: Option<&str>) -> Option<Sender> {
        match self {
            Connection::Params(_) => None,
            Connection::WebSocket(socket) => Some(Sender::WebSocket(socket.sender())),
            Connection::Sse(stream) => Some(Sender::Sse(stream.sender(connection_id))),
        }
    }

    /// Closes it; nothing more of it is reported.
    pub(crate) fn close(self, code: u16, reason: &str) {
        match self {
            Connection::Params(wait) => drop(wait),
            Connection::WebSocket(socket) => socket.close(code, reason),
            Connection::Sse(stream) => stream.close(),
        }
    }
}

pub(crate) enum Sender {
    WebSocket(socket::Sender),
    Sse(sse::Sender),
}

impl Sender {
    /// Sends a text frame.
    ///
    /// # Errors
    /// What the WebSocket's `send` threw; an SSE POST that fails later ends the connection instead.
    pub(crate) fn send(&self, frame: &str) -> Result<(), String> {
        match self {
            Sender::WebSocket(socket) => socket.send(frame),
            Sender::Sse(stream) => {
                stream.send(frame);
                Ok(())
            }
        }
    }
}
