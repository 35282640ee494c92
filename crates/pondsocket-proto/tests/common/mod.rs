//! A simulated shell for the protocol core: a clock, a socket and a server, all in memory.

#![allow(dead_code)]

use pondsocket_proto::{
    ChannelEvent, ChannelId, ChannelState, ConnectionState, Instant, JsonObject, Options, RequestHandle, SocketId,
    Transport,
};

pub type ClientCore = pondsocket_proto::ClientCore<JsonObject>;
pub type Event = pondsocket_proto::Event<JsonObject>;
pub type Error = pondsocket_proto::Error<JsonObject>;
pub type Output = pondsocket_proto::Output<JsonObject>;
use serde_json::{json, Value};

pub struct Harness {
    pub core: ClientCore,
    pub now: u64,
    /// The socket the core asked for last, until it asks to close it.
    pub socket: Option<SocketId>,
    pub opens: Vec<(u64, String)>,
    /// The transport of each open, in order.
    pub transports: Vec<Transport>,
    pub closes: Vec<(u16, &'static str)>,
    pub sent: Vec<Value>,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new(options: Options) -> Self {
        Self::with_endpoints(&["ws://server.test/socket?token=good"], options, [42; 32])
    }

    /// A client that goes round these servers, seeded with `seed`.
    pub fn with_endpoints(urls: &[&str], options: Options, seed: [u8; 32]) -> Self {
        let urls = urls.iter().map(|&u| u.to_owned()).collect();
        let core = ClientCore::with_endpoints(urls, options, seed).unwrap();
        Harness {
            core,
            now: 0,
            socket: None,
            opens: vec![],
            transports: vec![],
            closes: vec![],
            sent: vec![],
            events: vec![],
        }
    }

    pub fn default() -> Self {
        Self::new(Options::default())
    }

    /// Carries out everything the core asked for.
    pub fn pump(&mut self) {
        while let Some(output) = self.core.poll() {
            match output {
                Output::Open { socket, url, transport } => {
                    self.socket = Some(socket);
                    self.opens.push((self.now, url));
                    self.transports.push(transport);
                }
                Output::Close { socket, code, reason } => {
                    assert_eq!(Some(socket), self.socket, "closing a socket that is not the current one");
                    self.socket = None;
                    self.closes.push((code, reason));
                }
                Output::Send(frame) => {
                    assert!(self.socket.is_some(), "sent {frame} with no socket");
                    self.sent.push(serde_json::from_str(&frame).expect("client frames are JSON"));
                }
                Output::Event(event) => self.events.push(event),
            }
        }
    }

    /// The simulated clock's time.
    pub fn t(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    pub fn socket(&self) -> SocketId {
        self.socket.expect("a socket was asked for")
    }

    /// connect(), the socket opens, the server accepts.
    pub fn connect(&mut self) {
        self.core.connect(self.t());
        self.pump();
        self.open_and_accept();
    }

    pub fn open_and_accept(&mut self) {
        let socket = self.socket();
        self.core.handle_socket_open(socket, self.t());
        self.server(json!({"action": "CONNECT", "event": "CONNECTION", "channelName": "GATEWAY",
            "requestId": "c0", "payload": {"id": "u1", "connectionId": "u1"}}));
        assert_eq!(self.core.state(), ConnectionState::Connected);
    }

    /// The server closes the socket.
    pub fn drop_socket(&mut self, code: u16) {
        let socket = self.socket.take().expect("a socket to drop");
        self.core.handle_socket_close(socket, self.t(), code, "");
        self.pump();
    }

    pub fn server(&mut self, message: Value) {
        self.server_raw(&message.to_string());
    }

    pub fn server_raw(&mut self, frame: &str) {
        let socket = self.socket();
        self.core.handle_frame(socket, frame, self.t());
        self.pump();
    }

    /// Moves the clock forward, firing each timer at its own deadline.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(deadline) = self.core.poll_timeout().map(Instant::as_millis).filter(|&d| d <= end) {
            self.now = self.now.max(deadline);
            self.core.handle_timeout(self.t());
            self.pump();
        }
        self.now = end;
    }

    pub fn take_sent(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.sent)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn channel(&mut self, name: &str, params: Value) -> ChannelId {
        self.core.create_channel(name, params.to_string()).unwrap()
    }

    /// A channel joined on a connected client, with the join and its events consumed.
    pub fn joined(&mut self, name: &str) -> ChannelId {
        if self.core.state() != ConnectionState::Connected {
            self.connect();
        }
        let id = self.channel(name, json!({"user": "alice"}));
        self.core.join(id, self.t()).unwrap();
        self.pump();
        let join = self.last_join(name);
        self.ack(name, &join);
        assert_eq!(self.core.channel_state(id), Some(ChannelState::Joined));
        self.take_sent();
        self.take_events();
        id
    }

    /// The requestId of the latest JOIN_CHANNEL sent for `name`.
    pub fn last_join(&self, name: &str) -> String {
        self.sent
            .iter()
            .rev()
            .find(|m| m["action"] == "JOIN_CHANNEL" && m["channelName"] == name)
            .map(|m| m["requestId"].as_str().unwrap().to_owned())
            .expect("a join was sent")
    }

    pub fn ack(&mut self, name: &str, request_id: &str) {
        self.system(name, "ACKNOWLEDGE", request_id, json!({}));
    }

    pub fn system(&mut self, name: &str, event: &str, request_id: &str, payload: Value) {
        self.server(json!({"action": "SYSTEM", "event": event, "channelName": name, "requestId": request_id,
            "payload": payload}));
    }

    pub fn broadcast(&mut self, name: &str, event: &str, payload: Value) {
        self.server(json!({"action": "BROADCAST", "event": event, "channelName": name, "requestId": "b",
            "payload": payload}));
    }

    pub fn send(&mut self, id: ChannelId, event: &str, payload: Value) {
        self.core.send_message(id, event, &obj(payload)).unwrap();
        self.pump();
    }

    pub fn request(&mut self, id: ChannelId, event: &str, payload: Value, timeout: Option<u64>) -> RequestHandle {
        let handle = self.core.send_for_response(id, event, &obj(payload), timeout, self.t()).unwrap();
        self.pump();
        handle
    }

    /// The requestId the last frame sent went out with.
    pub fn last_request_id(&self) -> String {
        self.sent.last().expect("something was sent")["requestId"].as_str().unwrap().to_owned()
    }

    pub fn states_of(&self, id: ChannelId) -> Vec<ChannelState> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Channel(c, ChannelEvent::State(s)) if *c == id => Some(*s),
                _ => None,
            })
            .collect()
    }

    pub fn messages_of(&self, id: ChannelId) -> Vec<(String, Value)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Channel(c, ChannelEvent::Message { event, payload }) if *c == id => {
                    Some((event.clone(), value(payload)))
                }
                _ => None,
            })
            .collect()
    }

    pub fn connection_states(&self) -> Vec<ConnectionState> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::ConnectionState(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    pub fn errors(&self) -> Vec<&Error> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Error(error) => Some(error),
                _ => None,
            })
            .collect()
    }

    /// How the request ended; a reply's payload is always JSON text here (the harness hands the core text frames).
    pub fn response(&self, handle: RequestHandle) -> Option<Result<JsonObject, Error>> {
        let mut found = self.events.iter().filter_map(|e| match e {
            Event::Response(h, outcome) if *h == handle => Some(outcome),
            _ => None,
        });
        let first = found.next();
        assert!(found.next().is_none(), "request {handle:?} ended twice");
        first.cloned()
    }
}

/// The JSON text of an object, as the core takes outbound payloads.
pub fn obj(value: Value) -> String {
    assert!(value.is_object());
    value.to_string()
}

pub fn value(object: &JsonObject) -> Value {
    serde_json::from_str(object.as_str()).unwrap()
}

/// The instant `n` milliseconds after the simulated clock's origin.
pub fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}
