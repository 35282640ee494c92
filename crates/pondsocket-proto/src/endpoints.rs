//! The servers a client may connect to: one endpoint at a time, the next one after every failed attempt or lost
//! connection (round robin), and, with [`TransportChoice::Auto`], each endpoint's own record of which transport
//! works there (a proxy in front of one node may refuse WebSockets while another's does not).

use crate::client::Transport;
use crate::options::TransportChoice;

pub(crate) struct Endpoints {
    list: Vec<Endpoint>,
    current: usize,
}

struct Endpoint {
    /// ws:// or wss://, as the host resolved it.
    url: Box<str>,
    /// With `TransportChoice::Auto`: WebSocket attempts here in a row that failed, since the last success or SSE try.
    websocket_failures: u32,
    /// With `TransportChoice::Auto`: SSE connected here, so this endpoint is reached over SSE until `disconnect()`.
    fell_back: bool,
}

/// WebSocket attempts at one endpoint that must fail in a row before `Auto` tries SSE there.
const WEBSOCKET_TRIES: u32 = 2;

impl Endpoints {
    /// `None` for an empty list.
    pub(crate) fn new(urls: Vec<String>) -> Option<Self> {
        if urls.is_empty() {
            return None;
        }
        let list = urls
            .into_iter()
            .map(|url| Endpoint { url: url.into_boxed_str(), websocket_failures: 0, fell_back: false })
            .collect();
        Some(Endpoints { list, current: 0 })
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The URL of the endpoint in use (or next to be tried) for `transport`: SSE reads the same URL over http(s).
    pub(crate) fn url(&self, transport: Transport) -> String {
        let url = &*self.list[self.current].url;
        match transport {
            Transport::WebSocket => url.to_owned(),
            Transport::Sse => sse_url(url),
        }
    }

    /// The transport of the next attempt at the current endpoint.
    pub(crate) fn transport(&self, choice: TransportChoice) -> Transport {
        let endpoint = &self.list[self.current];
        match choice {
            TransportChoice::WebSocket => Transport::WebSocket,
            TransportChoice::Sse => Transport::Sse,
            TransportChoice::Auto if endpoint.fell_back || endpoint.websocket_failures >= WEBSOCKET_TRIES => {
                Transport::Sse
            }
            TransportChoice::Auto => Transport::WebSocket,
        }
    }

    /// An attempt at the current endpoint over `transport` failed to connect. WebSocket failures count towards
    /// trying SSE there; a failed SSE try starts that count over.
    pub(crate) fn attempt_failed(&mut self, choice: TransportChoice, transport: Transport) {
        let endpoint = &mut self.list[self.current];
        if choice == TransportChoice::Auto && !endpoint.fell_back {
            endpoint.websocket_failures = match transport {
                Transport::WebSocket => endpoint.websocket_failures + 1,
                Transport::Sse => 0,
            };
        }
    }

    /// The current endpoint accepted a connection over `transport`. Returns the WebSocket failures that led to it
    /// when this is `Auto` falling back to SSE here for the first time (reported once).
    pub(crate) fn connected(&mut self, choice: TransportChoice, transport: Transport) -> Option<u32> {
        let endpoint = &mut self.list[self.current];
        if choice != TransportChoice::Auto || endpoint.fell_back {
            return None;
        }
        let failures = std::mem::take(&mut endpoint.websocket_failures);
        endpoint.fell_back = transport == Transport::Sse;
        endpoint.fell_back.then_some(failures)
    }

    /// Moves on to the next endpoint, after the first one again after the last.
    pub(crate) fn advance(&mut self) {
        self.current = (self.current + 1) % self.list.len();
    }

    /// After `disconnect()`: every endpoint starts over with WebSocket. The endpoint in use stays the current one.
    pub(crate) fn reset(&mut self) {
        for endpoint in &mut self.list {
            endpoint.websocket_failures = 0;
            endpoint.fell_back = false;
        }
    }
}

/// The endpoint for SSE: the same URL over http(s).
fn sse_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("ws://") {
        ["http://", rest].concat()
    } else if let Some(rest) = url.strip_prefix("wss://") {
        ["https://", rest].concat()
    } else {
        url.to_owned()
    }
}
