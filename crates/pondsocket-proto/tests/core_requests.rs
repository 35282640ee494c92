//! Request/response: correlation by requestId only, timeouts, cancellation.

mod common;

use common::{value, Harness};
use pondsocket_proto::wire::{Body, ServerAction, ServerMessage};
use pondsocket_proto::{CancelReason, ChannelEvent, ChannelState, Error, Event, HostPayload, Options, Payload};
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
    h.advance(4_900);
    match h.response(default) {
        Some(Err(Error::ResponseTimeout { timeout_ms: 5_000, ref event })) => {
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
    h.core.join(id, h.now).unwrap();
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
    let result = h.core.send_for_response(id, "e", &common::obj(json!({})), Some(0), h.now);
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
    h.core.join(id, h.now).unwrap();
    h.pump();
    let handle = h.request(id, "ping", json!({}), None);
    h.system("/c", "NOT_FOUND", "any", json!({}));
    assert!(matches!(h.response(handle), Some(Err(Error::RequestCancelled { reason: CancelReason::Declined(_), .. }))));
    assert!(h.events.iter().all(|e| !matches!(e, Event::Error(_))));
}

/// A message handed over already parsed by the host, its payload a token the core passes on unread.
fn host_message<'a>(
    action: ServerAction,
    event: &'a str,
    channel: &'a str,
    request_id: Option<&'a str>,
    token: u32,
) -> ServerMessage<'a> {
    ServerMessage {
        action,
        event: event.into(),
        channel_name: channel.into(),
        request_id: request_id.map(Into::into),
        body: Body::Host(HostPayload(token)),
    }
}

#[test]
fn host_parsed_messages_route_like_text_ones_and_keep_their_payload_token() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let socket = h.socket();
    let handle = h.request(id, "ping", json!({}), None);
    let request_id = h.last_request_id();
    h.core.handle_message(socket, host_message(ServerAction::Broadcast, "m", "/c", Some("b"), 7), h.now);
    h.core.handle_message(socket, host_message(ServerAction::System, "pong", "/c", Some(&request_id), 8), h.now);
    h.core.handle_message(socket, host_message(ServerAction::Broadcast, "m", "/elsewhere", None, 9), h.now);
    h.pump();
    let events = h.take_events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(&events[0],
        Event::Channel(c, ChannelEvent::Message { event, payload: Payload::Host(HostPayload(7)) }) if *c == id && event == "m"));
    assert!(matches!(&events[1], Event::Response(r, Ok(Payload::Host(HostPayload(8)))) if *r == handle));
    assert_eq!(h.core.pending_request_count(), 0);
}

#[test]
fn host_parsed_messages_of_an_old_socket_or_for_a_channel_not_joined_are_dropped() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let joining = h.channel("/j", json!({}));
    h.core.join(joining, h.now).unwrap();
    h.pump();
    let old = h.socket();
    h.drop_socket(1006);
    h.core.handle_message(old, host_message(ServerAction::Broadcast, "m", "/c", None, 1), h.now);
    h.pump();
    assert!(h.messages_of(id).is_empty(), "a message on a socket that is gone");
    while h.socket.is_none() {
        h.advance(10);
    }
    h.open_and_accept();
    let socket = h.socket();
    assert_ne!(socket, old);
    h.core.handle_message(socket, host_message(ServerAction::Broadcast, "m", "/j", None, 2), h.now);
    h.pump();
    assert!(h.messages_of(joining).is_empty(), "a message for a channel whose join is not acknowledged");
}
