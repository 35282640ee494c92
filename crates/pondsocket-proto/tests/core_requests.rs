//! Request/response: correlation by requestId only, timeouts, cancellation.

mod common;

use common::{ms, value, Error, Harness};
use pondsocket_proto::{
    CancelReason, ChannelEvent, ChannelState, ClientCore, Event, Instant, JsonObject, Options, Output, Payload,
    ServerMessage,
};
use serde_json::json;

#[test]
fn a_reply_with_the_request_id_resolves_whatever_its_event_name() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    for name in ["pong", "ACKNOWLEDGE", "UNAUTHORIZED", "NOT_FOUND", "EVICTED", "EXIT_ACKNOWLEDGE", "ping"] {
        let handle = h.request(id, "ping", json!({"q": name}), None);
        let request_id = h.last_request_id();
        h.system("/c", name, &request_id, json!({"answer": name}));
        let outcome = h.response(handle).unwrap_or_else(|| panic!("{name}: unresolved"));
        assert_eq!(value(outcome.as_ref().unwrap()), json!({"answer": name}), "{name}");
    }
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Joined), "reserved-name replies change no state");
    assert!(h.messages_of(id).is_empty(), "replies are not ordinary messages");
    assert!(h.errors().is_empty());
    assert_eq!(h.core.pending_request_count(), 0);
}

#[test]
fn a_broadcast_carrying_the_request_id_also_resolves() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let handle = h.request(id, "ask", json!({}), None);
    let request_id = h.last_request_id();
    h.server(json!({"action": "BROADCAST", "event": "answer", "channelName": "/c", "requestId": request_id,
        "payload": {"ok": true}}));
    assert!(h.response(handle).unwrap().is_ok());
}

#[test]
fn fifty_concurrent_requests_each_get_their_own_reply() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let handles: Vec<_> = (0..50).map(|n| (n, h.request(id, "echo", json!({"n": n}), None))).collect();
    let sent = h.take_sent();
    for message in sent.iter().rev() {
        h.system("/c", "echo", message["requestId"].as_str().unwrap(), message["payload"].clone());
    }
    for (n, handle) in handles {
        assert_eq!(value(h.response(handle).unwrap().as_ref().unwrap()), json!({"n": n}));
    }
}

#[test]
fn a_reply_on_another_channel_does_not_resolve() {
    let mut h = Harness::default();
    let a = h.joined("/a");
    h.joined("/b");
    let handle = h.request(a, "ask", json!({}), None);
    let request_id = h.last_request_id();
    h.system("/b", "answer", &request_id, json!({}));
    assert!(h.response(handle).is_none());
    h.system("/a", "answer", &request_id, json!({}));
    assert!(h.response(handle).unwrap().is_ok());
}

#[test]
fn an_error_reply_rejects_the_request() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let handle = h.request(id, "bad", json!({}), None);
    let request_id = h.last_request_id();
    h.server(json!({"action": "ERROR", "event": "INVALID_MESSAGE", "channelName": "GATEWAY",
        "requestId": request_id, "payload": {"message": "no"}}));
    match h.response(handle) {
        Some(Err(Error::RequestCancelled { reason: CancelReason::Rejected(e), .. })) => assert_eq!(e.message, "no"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn requests_time_out_and_their_late_replies_are_dropped() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let default = h.request(id, "slow", json!({}), None);
    let default_id = h.last_request_id();
    let short = h.request(id, "slow", json!({}), Some(100));
    h.advance(99);
    assert!(h.response(short).is_none());
    h.advance(1);
    assert!(matches!(h.response(short), Some(Err(Error::ResponseTimeout { timeout_ms: 100, .. }))));
    assert!(h.response(default).is_none());
    h.advance(29_900);
    match h.response(default) {
        Some(Err(Error::ResponseTimeout { timeout_ms: 30_000, ref event })) => {
            assert_eq!(event, "slow");
        }
        other => panic!("{other:?}"),
    }
    h.system("/c", "slow", &default_id, json!({}));
    assert!(h.messages_of(id).is_empty(), "a late reply is dropped");
    assert_eq!(h.core.pending_request_count(), 0);
    assert_eq!(h.core.armed_timer_count(), 0);
}

#[test]
fn the_timeout_counts_from_the_call_even_while_queued() {
    let mut h = Harness::default();
    let id = h.channel("/c", json!({}));
    let handle = h.request(id, "early", json!({}), Some(1_000));
    h.advance(1_000);
    assert!(matches!(h.response(handle), Some(Err(Error::ResponseTimeout { .. }))));
    h.core.join(id, h.t()).unwrap();
    h.connect();
    let join = h.last_join("/c");
    h.take_sent();
    h.ack("/c", &join);
    assert!(h.sent.is_empty(), "a request nobody waits for is not sent");
}

#[test]
fn a_timeout_out_of_range_is_refused() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let result = h.core.send_for_response(id, "e", &common::obj(json!({})), Some(0), h.t());
    assert!(matches!(result, Err(Error::InvalidOption { name: "timeoutMs", .. })));
    assert!(h.core.send_message(id, "", &common::obj(json!({}))).is_err());
}

#[test]
fn a_lost_connection_rejects_requests_in_flight_and_keeps_queued_ones() {
    let mut h = Harness::new(Options { base_reconnect_delay: 10, max_reconnect_delay: 10, ..Options::default() });
    let id = h.joined("/c");
    let in_flight = h.request(id, "sent", json!({}), None);
    h.drop_socket(1006);
    assert!(matches!(
        h.response(in_flight),
        Some(Err(Error::RequestCancelled { reason: CancelReason::ConnectionLost, .. }))
    ));
    let queued = h.request(id, "queued", json!({}), None);
    h.advance(10);
    h.open_and_accept();
    let join = h.last_join("/c");
    h.ack("/c", &join);
    let request_id = h.last_request_id();
    assert_eq!(h.sent.last().unwrap()["event"], "queued");
    h.system("/c", "reply", &request_id, json!({"ok": 1}));
    assert!(h.response(queued).unwrap().is_ok());
}

#[test]
fn not_found_while_joining_cancels_the_channels_requests() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let handle = h.request(id, "ping", json!({}), None);
    h.system("/c", "NOT_FOUND", "any", json!({}));
    assert!(matches!(h.response(handle), Some(Err(Error::RequestCancelled { reason: CancelReason::Declined(_), .. }))));
    assert!(h.events.iter().all(|e| !matches!(e, Event::Error(_))));
}

/// A payload type of a host's own, as the npm build's JS values are: a token the core passes on unread, with the
/// few members it reads (a declined join's code, an eviction's reason) answered by the host.
#[derive(Clone, Debug, PartialEq)]
struct Token(u32);

impl Payload for Token {
    type List = Vec<Token>;
    fn string(&self, key: &str) -> Option<String> {
        (key == "reason").then(|| format!("reason {}", self.0))
    }
    fn whole_number(&self, _key: &str) -> Option<u32> {
        None
    }
    fn object(&self, _key: &str) -> Option<Self> {
        None
    }
    fn json(&self, _key: &str) -> Option<String> {
        None
    }
}

/// A message handed over already parsed by the host, its payload a token.
fn host_message<'a>(
    action: &str,
    event: &'a str,
    channel: &'a str,
    request_id: Option<&'a str>,
    token: u32,
) -> ServerMessage<'a, Token> {
    let presence = |_: &Token| Ok((vec![Token(100)], Token(101)));
    ServerMessage::from_envelope(action, event, channel, request_id.map(Into::into), Token(token), presence).unwrap()
}

#[test]
fn a_host_payload_type_takes_the_same_routing_path_and_is_passed_on_unread() {
    let mut core = ClientCore::<Token>::new("ws://server.test/socket".into(), Options::default(), [3; 32]).unwrap();
    let mut sent: Vec<serde_json::Value> = Vec::new();
    let mut events = Vec::new();
    let pump = |core: &mut ClientCore<Token>, sent: &mut Vec<serde_json::Value>, events: &mut Vec<Event<Token>>| {
        let mut socket = None;
        while let Some(output) = core.poll() {
            match output {
                Output::Open { socket: s, .. } => socket = Some(s),
                Output::Send(frame) => sent.push(serde_json::from_str(&frame).unwrap()),
                Output::Event(event) => events.push(event),
                Output::Close { .. } => {}
            }
        }
        socket
    };
    core.connect(ms(0));
    let socket = pump(&mut core, &mut sent, &mut events).unwrap();
    core.handle_socket_open(socket, ms(1));
    core.handle_message(socket, host_message("CONNECT", "CONNECTION", "GATEWAY", None, 0), || ms(2));
    let id = core.create_channel("/c", "{}".into()).unwrap();
    core.join(id, ms(3)).unwrap();
    pump(&mut core, &mut sent, &mut events);
    let join_id = sent.last().unwrap()["requestId"].as_str().unwrap().to_owned();
    core.handle_message(socket, host_message("SYSTEM", "ACKNOWLEDGE", "/c", Some(&join_id), 1), || ms(4));
    let handle = core.send_for_response(id, "ping", "{}", None, ms(5)).unwrap();
    pump(&mut core, &mut sent, &mut events);
    let request_id = sent.last().unwrap()["requestId"].as_str().unwrap().to_owned();
    events.clear();
    core.handle_message(socket, host_message("BROADCAST", "m", "/c", Some("b"), 7), || ms(6));
    core.handle_message(socket, host_message("SYSTEM", "pong", "/c", Some(&request_id), 8), || ms(7));
    core.handle_message(socket, host_message("BROADCAST", "m", "/elsewhere", None, 9), || ms(8));
    core.handle_message(socket, host_message("PRESENCE", "JOIN", "/c", None, 10), || ms(9));
    core.handle_message(socket, host_message("SYSTEM", "EVICTED", "/c", None, 11), || ms(10));
    pump(&mut core, &mut sent, &mut events);
    assert!(
        matches!(&events[0],
        Event::Channel(c, ChannelEvent::Message { event, payload: Token(7) }) if *c == id && event == "m"),
        "{events:?}"
    );
    assert!(matches!(&events[1], Event::Response(r, Ok(Token(8))) if *r == handle), "{events:?}");
    assert!(matches!(&events[2],
        Event::Channel(_, ChannelEvent::Presence { changed: Token(101), presence, .. }) if presence == &[Token(100)]));
    assert!(matches!(&events[3], Event::Channel(_, ChannelEvent::Evicted(reason)) if reason == "reason 11"));
    assert_eq!(core.pending_request_count(), 0);
    assert_eq!(core.evicted_reason(id), Some("reason 11"));
}

/// A message the host parsed, with a JSON payload.
fn parsed<'a>(
    action: &str,
    event: &'a str,
    channel: &'a str,
    request_id: Option<&'a str>,
) -> ServerMessage<'a, JsonObject> {
    let payload = JsonObject::parse("{}").unwrap();
    ServerMessage::from_envelope(action, event, channel, request_id.map(Into::into), payload, |_| unreachable!())
        .unwrap()
}

#[test]
fn host_parsed_messages_of_an_old_socket_or_for_a_channel_not_joined_are_dropped() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let joining = h.channel("/j", json!({}));
    h.core.join(joining, h.t()).unwrap();
    h.pump();
    let old = h.socket();
    h.drop_socket(1006);
    let now = h.t();
    h.core.handle_message(old, parsed("BROADCAST", "m", "/c", None), || now);
    h.pump();
    assert!(h.messages_of(id).is_empty(), "a message on a socket that is gone");
    while h.socket.is_none() {
        h.advance(10);
    }
    h.open_and_accept();
    let socket = h.socket();
    assert_ne!(socket, old);
    let now = h.t();
    h.core.handle_message(socket, parsed("BROADCAST", "m", "/j", None), || now);
    h.pump();
    assert!(h.messages_of(joining).is_empty(), "a message for a channel whose join is not acknowledged");
}

#[test]
fn the_clock_is_read_only_for_what_needs_it() {
    let read = std::cell::Cell::new(0);
    let clock = |ms: u64| {
        read.set(read.get() + 1);
        Instant::from_millis(ms)
    };
    for liveness in [None, Some(1_000)] {
        read.set(0);
        let mut h = Harness::new(Options { ping_interval: liveness, ..Options::default() });
        h.core.connect(h.t());
        h.pump();
        let socket = h.socket();
        h.core.handle_socket_open(socket, h.t());
        let accepted =
            ServerMessage::from_envelope("CONNECT", "CONNECTION", "GATEWAY", None, obj_payload(), |_| unreachable!());
        h.core.handle_message(socket, accepted.unwrap(), || clock(5));
        assert_eq!(read.get(), 1, "accepting the connection arms the joins' timers: it needs the time");
        let broadcast = ServerMessage::from_envelope("BROADCAST", "m", "/c", None, obj_payload(), |_| unreachable!());
        h.core.handle_message(socket, broadcast.unwrap(), || clock(6));
        assert_eq!(read.get(), if liveness.is_some() { 2 } else { 1 }, "a message needs the time only for liveness");
    }
}

fn obj_payload() -> JsonObject {
    JsonObject::parse("{}").unwrap()
}
