//! Randomized runs: random bytes, random valid and invalid messages, random user calls and clock jumps.
//! No input may panic, and the invariants below must hold after every step.

mod common;

use std::collections::{HashMap, HashSet};

use common::Event;
use common::{obj, Harness};
use pondsocket_proto::{ChannelEvent, ChannelId, ChannelState, Options, RequestHandle, TransportChoice};
use serde_json::json;

/// A small deterministic generator, so a failing seed can be replayed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const NAMES: [&str; 4] = ["/a", "/b", "/c", "GATEWAY"];
const ACTIONS: [&str; 7] = ["CONNECT", "SYSTEM", "BROADCAST", "ERROR", "PRESENCE", "JOIN_CHANNEL", "nope"];
const EVENTS: [&str; 12] = [
    "CONNECTION",
    "ACKNOWLEDGE",
    "UNAUTHORIZED",
    "NOT_FOUND",
    "EVICTED",
    "EXIT_ACKNOWLEDGE",
    "JOIN",
    "LEAVE",
    "UPDATE",
    "message",
    "pong",
    "INTERNAL_ERROR",
];

fn random_message(d: &mut Dice, known_ids: &[String]) -> String {
    let request_id = if !known_ids.is_empty() && d.below(2) == 0 {
        json!(d.pick(known_ids))
    } else {
        d.pick(&[json!("r"), json!(1), json!(null), json!(["x"])]).clone()
    };
    let payload = match d.below(6) {
        0 => json!({"presence": [{"id": 1}], "changed": {"id": 1}}),
        1 => json!({"presence": "no", "changed": 1}),
        2 => json!([1, 2]),
        3 => json!("text"),
        4 => json!({"reason": "r", "code": 403, "message": "m"}),
        _ => json!({}),
    };
    let mut message = json!({
        "action": d.pick(&ACTIONS), "event": d.pick(&EVENTS), "channelName": d.pick(&NAMES),
        "requestId": request_id, "payload": payload,
    });
    if d.below(8) == 0 {
        let field = *d.pick(&["action", "event", "channelName", "requestId", "payload"]);
        message.as_object_mut().unwrap().remove(field);
    }
    message.to_string()
}

fn random_bytes(d: &mut Dice) -> String {
    let len = d.below(64) as usize;
    let bytes: Vec<u8> = (0..len).map(|_| *d.pick(b"{}[]\",:\n \\abc0123456789ACKNOWLEDGE\xff\xfe")).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What the events said so far, checked against the rules.
#[derive(Default)]
struct Observed {
    terminal: HashSet<ChannelId>,
    finished: HashSet<RequestHandle>,
}

impl Observed {
    fn check(&mut self, events: &[Event], live_requests: &HashSet<RequestHandle>) {
        for event in events {
            match event {
                Event::Channel(id, ChannelEvent::State(state)) => {
                    assert!(!self.terminal.contains(id), "channel {id:?} moved to {state:?} after a terminal state");
                    if state.is_terminal() {
                        self.terminal.insert(*id);
                    }
                }
                Event::Channel(id, ChannelEvent::Message { .. } | ChannelEvent::Presence { .. }) => {
                    assert!(!self.terminal.contains(id), "a terminal channel {id:?} delivered a message");
                }
                Event::Response(handle, _) => {
                    assert!(live_requests.contains(handle), "unknown request {handle:?} ended");
                    assert!(self.finished.insert(*handle), "request {handle:?} ended twice");
                }
                _ => {}
            }
        }
    }
}

fn run(seed: u64, steps: usize) {
    let mut d = Dice(seed | 1);
    let options = Options {
        ping_interval: if seed % 2 == 0 { Some(700) } else { None },
        max_reconnect_attempts: if seed % 3 == 0 { Some(2) } else { None },
        max_queue_size: 1 + (seed % 5) as usize,
        join_timeout: 900,
        response_timeout: 600,
        connection_timeout: 800,
        base_reconnect_delay: 50,
        max_reconnect_delay: 400,
        // The rules are the same whatever the transport: every invariant holds with each.
        transport: [TransportChoice::WebSocket, TransportChoice::Sse, TransportChoice::Auto][(seed / 3 % 3) as usize],
        // With the debug log on, every path that logs runs too.
        log: seed % 4 == 1,
    };
    // One server or a cluster of up to three: the same rules, whichever endpoint an attempt goes to.
    let endpoints = ["ws://a.test/socket?token=good", "ws://b.test/socket", "wss://c.test/socket"];
    let mut h = Harness::with_endpoints(&endpoints[..1 + (seed / 9 % 3) as usize], options, [seed as u8; 32]);
    let mut channels: Vec<ChannelId> = vec![];
    let mut requests: HashSet<RequestHandle> = HashSet::new();
    let mut observed = Observed::default();
    let mut declined_once: HashMap<ChannelId, ChannelState> = HashMap::new();

    for _ in 0..steps {
        let known_ids: Vec<String> = h.sent.iter().filter_map(|m| m["requestId"].as_str().map(str::to_owned)).collect();
        match d.below(16) {
            0 => h.core.connect(h.t()),
            1 if d.below(4) == 0 => h.core.disconnect(h.t()),
            2 => {
                let id = h.core.create_channel(d.pick::<&str>(&NAMES[..3]), obj(json!({"n": 1}))).unwrap();
                channels.push(id);
            }
            3 | 4 if !channels.is_empty() => {
                let _ = h.core.join(*d.pick(&channels), h.t());
            }
            5 if !channels.is_empty() => h.core.leave(*d.pick(&channels), h.t()),
            6 if !channels.is_empty() => {
                let _ = h.core.send_message(*d.pick(&channels), "m", &obj(json!({})));
            }
            7 if !channels.is_empty() => {
                let timeout = *d.pick(&[None, Some(50), Some(5_000)]);
                if let Ok(handle) = h.core.send_for_response(*d.pick(&channels), "q", &obj(json!({})), timeout, h.t()) {
                    requests.insert(handle);
                }
            }
            8 if h.socket.is_some() => {
                let socket = h.socket();
                h.core.handle_socket_open(socket, h.t());
            }
            9 if h.socket.is_some() => {
                let socket = h.socket.take().unwrap();
                h.core.handle_socket_close(socket, h.t(), 1006, "");
            }
            10 | 11 if h.socket.is_some() => {
                let socket = h.socket();
                let frame = random_message(&mut d, &known_ids);
                h.core.handle_frame(socket, &frame, h.t());
            }
            12 if h.socket.is_some() => {
                let socket = h.socket();
                let frame = random_bytes(&mut d);
                h.core.handle_frame(socket, &frame, h.t());
            }
            13 if h.socket.is_some() => {
                // A plausible server: answer the last join.
                if let Some(join) = h.sent.iter().rev().find(|m| m["action"] == "JOIN_CHANNEL").cloned() {
                    let event = *d.pick(&["ACKNOWLEDGE", "ACKNOWLEDGE", "UNAUTHORIZED", "NOT_FOUND"]);
                    let reply = json!({"action": "SYSTEM", "event": event, "channelName": join["channelName"],
                        "requestId": join["requestId"], "payload": {}});
                    let socket = h.socket();
                    h.core.handle_frame(socket, &reply.to_string(), h.t());
                }
            }
            14 if h.socket.is_some() => {
                let socket = h.socket();
                h.core.handle_frame(
                    socket,
                    r#"{"action":"CONNECT","event":"CONNECTION","channelName":"GATEWAY","requestId":"c","payload":{}}"#,
                    h.t(),
                );
            }
            _ => h.advance(d.below(1_000)),
        }
        h.pump();
        let events = h.take_events();
        observed.check(&events, &requests);
        for id in &channels {
            if let Some(state) = h.core.channel_state(*id) {
                if let Some(previous) = declined_once.get(id) {
                    assert_eq!(state, *previous, "a terminal channel changed state");
                }
                if state.is_terminal() {
                    declined_once.insert(*id, state);
                }
            }
        }
        h.take_sent().truncate(0);
    }

    // Every request ends, and nothing is left armed or held once the client is disconnected and time has passed.
    h.core.disconnect(h.t());
    h.advance(10_000);
    h.pump();
    let events = h.take_events();
    observed.check(&events, &requests);
    assert_eq!(observed.finished.len(), requests.len(), "seed {seed}: some request never ended");
    assert_eq!(h.core.pending_request_count(), 0);
    assert_eq!(h.core.armed_timer_count(), 0, "seed {seed}: timers left armed");
    for id in channels {
        h.core.release_channel(id);
    }
    // Each create_channel call counted one handle; releasing as many frees every terminal channel.
    assert_eq!(h.core.channel_count(), 0, "seed {seed}: channels kept");
}

#[test]
fn random_sessions_never_panic_or_break_invariants() {
    for seed in 1..=300 {
        run(seed * 7919, 400);
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut d = Dice(0x5eed);
    let mut h = Harness::default();
    h.connect();
    for _ in 0..20_000 {
        let len = d.below(40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| d.next() as u8).collect();
        let frame = String::from_utf8_lossy(&bytes);
        let socket = h.socket();
        h.core.handle_frame(socket, &frame, h.t());
        h.pump();
    }
    assert_eq!(h.core.state(), pondsocket_proto::ConnectionState::Connected);
}
