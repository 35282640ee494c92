//! The channel state machine: join, decline, stall and rejoin, eviction, leave, queue, presence.

mod common;

use common::{ms, value, Harness};
use common::{Error, Event};
use pondsocket_proto::{CancelReason, ChannelError, ChannelEvent, ChannelId, ChannelState, Options, PresenceKind};
use serde_json::json;

use ChannelState::{Closed, Declined, Idle, Joined, Joining, Stalled};

#[test]
fn join_while_disconnected_waits_for_the_connection() {
    let mut h = Harness::default();
    let id = h.channel("/c", json!({"name": "ann"}));
    assert_eq!(h.core.channel_state(id), Some(Idle));
    h.core.join(id, ms(0)).unwrap();
    h.pump();
    assert_eq!(h.core.channel_state(id), Some(Joining));
    assert!(h.sent.is_empty());
    h.core.connect(ms(0));
    h.pump();
    let socket = h.socket();
    h.core.handle_socket_open(socket, ms(1));
    h.pump();
    assert!(h.sent.is_empty(), "nothing before CONNECTION");
    h.open_and_accept();
    assert_eq!(h.sent.len(), 1);
    let join = &h.sent[0];
    assert_eq!(join["action"], "JOIN_CHANNEL");
    assert_eq!(join["event"], "JOIN_CHANNEL");
    assert_eq!(join["channelName"], "/c");
    assert_eq!(join["payload"], json!({"name": "ann"}));
    assert_eq!(join["requestId"].as_str().unwrap().len(), 36);
}

#[test]
fn acknowledge_of_the_join_joins_and_flushes_the_queue_in_order() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    h.send(id, "m1", json!({"n": 1}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    h.send(id, "m2", json!({"n": 2}));
    h.send(id, "m3", json!({"n": 3}));
    let join = h.last_join("/c");
    assert_eq!(h.take_sent().len(), 1, "only the join while joining");
    h.ack("/c", "some-other-request");
    assert_eq!(h.core.channel_state(id), Some(Joining), "an ACKNOWLEDGE for another request is not ours");
    h.ack("/c", &join);
    assert_eq!(h.core.channel_state(id), Some(Joined));
    let events: Vec<_> = h.take_sent().iter().map(|m| m["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["m1", "m2", "m3"]);
    assert_eq!(h.states_of(id), [Joining, Joined]);
    h.send(id, "m4", json!({}));
    assert_eq!(h.take_sent()[0]["action"], "BROADCAST", "joined: sent at once");
}

#[test]
fn the_join_times_out_into_declined_408() {
    let mut h = Harness::new(Options { join_timeout: 2_000, ..Options::default() });
    h.connect();
    let id = h.channel("/slow", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let handle = h.request(id, "ping", json!({}), Some(60_000));
    h.advance(1_999);
    assert_eq!(h.core.channel_state(id), Some(Joining));
    h.advance(1);
    assert_eq!(h.core.channel_state(id), Some(Declined));
    let error = h.core.join_error(id).unwrap();
    assert_eq!((error.code.as_str(), error.status), ("JOIN_TIMEOUT", 408));
    assert!(error.message.contains("/slow"));
    assert_eq!(h.sent.last().unwrap()["action"], "LEAVE_CHANNEL", "the server must not keep us after a late accept");
    assert!(matches!(h.response(handle), Some(Err(Error::RequestCancelled { reason: CancelReason::Declined(_), .. }))));
}

#[test]
fn a_channel_made_with_its_own_join_timeout_uses_it_and_others_keep_the_clients() {
    let mut h = Harness::new(Options { join_timeout: 2_000, ..Options::default() });
    h.connect();
    let quick = h.core.create_channel_with("/quick", "{}".into(), Some(500)).unwrap();
    let same = h.core.create_channel_with("/quick", "{}".into(), Some(9_000)).unwrap();
    assert_eq!(quick, same, "the live channel is returned with the timeout it was made with");
    let plain = h.channel("/plain", json!({}));
    for id in [quick, plain] {
        h.core.join(id, h.t()).unwrap();
    }
    h.pump();
    h.advance(499);
    assert_eq!(h.core.channel_state(quick), Some(Joining));
    h.advance(1);
    assert_eq!(h.core.channel_state(quick), Some(Declined));
    assert!(h.core.join_error(quick).unwrap().message.ends_with("after 500 ms"));
    h.advance(1_499);
    assert_eq!(h.core.channel_state(plain), Some(Joining));
    h.advance(1);
    assert_eq!(h.core.channel_state(plain), Some(Declined));
    assert!(matches!(
        h.core.create_channel_with("/other", "{}".into(), Some(0)),
        Err(Error::InvalidOption { name: "joinTimeout", .. })
    ));
}

/// A connected client whose join of `/private` the server refused with UNAUTHORIZED and `payload`.
fn declined_by(payload: serde_json::Value) -> (Harness, ChannelId) {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/private", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let join = h.last_join("/private");
    h.system("/private", "UNAUTHORIZED", &join, payload);
    (h, id)
}

#[test]
fn a_decline_keeps_the_servers_details_and_status_code() {
    let payload = json!({"code": "FORBIDDEN", "message": "no", "statusCode": 451, "details": {"field": ["a", 1]}});
    let (h, id) = declined_by(payload);
    let error = h.core.join_error(id).unwrap();
    assert_eq!((error.code.as_str(), error.status), ("FORBIDDEN", 451));
    let details: serde_json::Value = serde_json::from_str(error.details.as_deref().unwrap()).unwrap();
    assert_eq!(details, json!({"field": ["a", 1]}));
}

#[test]
fn unauthorized_declines_with_the_servers_details() {
    let (h, id) = declined_by(json!({"code": 403, "message": "private room"}));
    assert_eq!(h.core.channel_state(id), Some(Declined));
    let expected =
        ChannelError { code: "UNAUTHORIZED".into(), message: "private room".into(), status: 403, details: None };
    assert_eq!(h.core.join_error(id), Some(&expected));
    let declined: Vec<_> =
        h.events.iter().filter(|e| matches!(e, Event::Channel(_, ChannelEvent::Declined(_)))).collect();
    assert_eq!(declined.len(), 1);
    assert_eq!(h.states_of(id), [Joining, Declined]);
}

#[test]
fn declined_is_terminal() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/private", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let join = h.last_join("/private");
    h.system("/private", "NOT_FOUND", &join, json!({"channel": "/private"}));
    assert_eq!(h.core.join_error(id).unwrap().status, 404);
    h.take_events();
    h.take_sent();
    h.ack("/private", &join);
    h.system("/private", "NOT_FOUND", &join, json!({}));
    h.system("/private", "late-reply", "whatever", json!({}));
    h.broadcast("/private", "message", json!({}));
    assert_eq!(h.core.channel_state(id), Some(Declined));
    assert!(h.take_events().is_empty(), "nothing reaches a declined channel");
    assert!(matches!(h.core.join(id, h.t()), Err(Error::ChannelUnavailable { state: Declined, .. })));
    assert!(matches!(h.core.send_message(id, "e", &common::obj(json!({}))), Err(Error::ChannelUnavailable { .. })));
    assert!(h.take_sent().is_empty());
}

#[test]
fn a_server_error_while_joining_declines() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    h.server(json!({"action": "ERROR", "event": "INVALID_MESSAGE", "channelName": "/c", "requestId": "z",
        "payload": {"message": "bad join"}}));
    assert_eq!(h.core.channel_state(id), Some(Declined));
    assert_eq!(h.core.join_error(id).unwrap().message, "bad join");
}

#[test]
fn not_found_on_a_joined_channel_is_an_error_not_a_state_change() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    h.system("/c", "NOT_FOUND", "unrelated", json!({"channel": "/c"}));
    h.system("/c", "UNAUTHORIZED", "unrelated", json!({"message": "nope", "code": 403}));
    assert_eq!(h.core.channel_state(id), Some(Joined));
    let errors: Vec<(String, u16)> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Channel(_, ChannelEvent::Error(e)) => Some((e.code.clone(), e.status)),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [("NOT_FOUND".to_owned(), 404), ("UNAUTHORIZED".to_owned(), 403)]);
    assert!(h.messages_of(id).is_empty());
}

#[test]
fn a_lost_socket_stalls_joined_channels_and_the_next_connection_rejoins() {
    let mut h = Harness::new(Options { base_reconnect_delay: 10, max_reconnect_delay: 10, ..Options::default() });
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let first_join = h.last_join("/c");
    h.ack("/c", &first_join);
    h.take_sent();
    h.take_events();
    h.drop_socket(1006);
    assert_eq!(h.core.channel_state(id), Some(Stalled));
    h.send(id, "while-down-1", json!({}));
    h.send(id, "while-down-2", json!({}));
    assert!(h.sent.is_empty());
    h.advance(10);
    h.open_and_accept();
    let rejoin = h.last_join("/c");
    assert_ne!(rejoin, first_join, "a rejoin has its own requestId");
    assert_eq!(h.core.channel_state(id), Some(Stalled), "stalled until the server acknowledges");
    assert_eq!(h.sent.len(), 1);
    h.ack("/c", &rejoin);
    assert_eq!(h.core.channel_state(id), Some(Joined));
    let events: Vec<_> = h.sent.iter().skip(1).map(|m| m["event"].clone()).collect();
    assert_eq!(events, [json!("while-down-1"), json!("while-down-2")]);
    assert_eq!(h.states_of(id), [Stalled, Joined]);
}

#[test]
fn a_joining_channel_resends_its_join_after_a_reconnect() {
    let mut h = Harness::new(Options { base_reconnect_delay: 10, max_reconnect_delay: 10, ..Options::default() });
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let first = h.last_join("/c");
    h.drop_socket(1006);
    assert_eq!(h.core.channel_state(id), Some(Joining));
    h.advance(10_000_000);
    assert_eq!(h.core.channel_state(id), Some(Joining), "no join timeout while there is no socket");
    h.open_and_accept();
    let second = h.last_join("/c");
    assert_ne!(first, second);
    h.ack("/c", &first);
    assert_eq!(h.core.channel_state(id), Some(Joining), "the old join's ACKNOWLEDGE is stale");
    h.ack("/c", &second);
    assert_eq!(h.core.channel_state(id), Some(Joined));
}

#[test]
fn eviction_closes_with_the_reason_and_never_rejoins() {
    let mut h = Harness::new(Options { base_reconnect_delay: 10, max_reconnect_delay: 10, ..Options::default() });
    let id = h.joined("/c");
    let handle = h.request(id, "slow", json!({}), None);
    h.system("/c", "EVICTED", "e", json!({"reason": "spam"}));
    assert_eq!(h.core.channel_state(id), Some(Closed));
    assert_eq!(h.core.evicted_reason(id), Some("spam"));
    assert!(h.events.iter().any(|e| matches!(e, Event::Channel(_, ChannelEvent::Evicted(r)) if r == "spam")));
    assert!(matches!(h.response(handle), Some(Err(Error::RequestCancelled { reason: CancelReason::Evicted(_), .. }))));
    h.take_sent();
    h.drop_socket(1006);
    h.advance(10);
    h.open_and_accept();
    assert!(h.sent.is_empty(), "an evicted channel is not rejoined");
}

#[test]
fn leave_a_joined_channel_tells_the_server() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let handle = h.request(id, "slow", json!({}), None);
    h.take_sent();
    h.core.leave(id, h.t());
    h.pump();
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.sent[0]["action"], "LEAVE_CHANNEL");
    assert_eq!(h.sent[0]["event"], "LEAVE_CHANNEL");
    assert_eq!(h.sent[0]["payload"], json!({}));
    assert_eq!(h.core.channel_state(id), Some(Closed));
    assert!(matches!(h.response(handle), Some(Err(Error::RequestCancelled { reason: CancelReason::Left, .. }))));
    h.system("/c", "EXIT_ACKNOWLEDGE", &h.last_request_id(), json!({}));
    h.broadcast("/c", "after-leave", json!({}));
    assert!(h.messages_of(id).is_empty());
    assert_eq!(h.core.armed_timer_count(), 0);
}

#[test]
fn leave_while_joining_twice_or_never_joined_ends_closed_quietly() {
    let mut h = Harness::default();
    h.connect();
    let joining = h.channel("/joining", json!({}));
    h.core.join(joining, h.t()).unwrap();
    h.pump();
    h.core.leave(joining, h.t());
    h.core.leave(joining, h.t());
    let idle = h.channel("/idle", json!({}));
    h.core.leave(idle, h.t());
    let deferred = h.channel("/deferred", json!({}));
    h.core.disconnect(h.t());
    h.pump();
    h.core.leave(deferred, h.t());
    h.pump();
    for id in [joining, idle, deferred] {
        assert_eq!(h.core.channel_state(id), Some(Closed));
        assert_eq!(h.states_of(id).last(), Some(&Closed));
        assert_eq!(h.states_of(id).iter().filter(|s| **s == Closed).count(), 1);
    }
    assert!(h.errors().is_empty());
    let leaves: Vec<_> = h.sent.iter().filter(|m| m["action"] == "LEAVE_CHANNEL").collect();
    assert_eq!(leaves.len(), 1, "only the channel with a join in flight tells the server");
    assert_eq!(leaves[0]["channelName"], "/joining");
    h.take_events();
    let join = h.last_join("/joining");
    h.core.connect(h.t());
    h.pump();
    h.open_and_accept();
    h.ack("/joining", &join);
    assert_eq!(h.core.channel_state(joining), Some(Closed), "a late ACKNOWLEDGE does not revive a left channel");
}

#[test]
fn disconnect_closes_every_channel() {
    let mut h = Harness::default();
    let a = h.joined("/a");
    let b = h.channel("/b", json!({}));
    h.core.join(b, h.t()).unwrap();
    let handle = h.request(a, "slow", json!({}), None);
    let queued = h.request(b, "queued", json!({}), None);
    h.core.disconnect(h.t());
    h.pump();
    assert_eq!(h.core.channel_state(a), Some(Closed));
    assert_eq!(h.core.channel_state(b), Some(Closed));
    for handle in [handle, queued] {
        assert!(matches!(
            h.response(handle),
            Some(Err(Error::RequestCancelled { reason: CancelReason::Disconnected, .. }))
        ));
    }
    assert_eq!(h.core.pending_request_count(), 0);
    assert_eq!(h.core.armed_timer_count(), 0);
}

#[test]
fn create_channel_returns_the_live_channel_or_a_fresh_one() {
    let mut h = Harness::default();
    h.connect();
    let first = h.channel("/c", json!({}));
    assert_eq!(h.channel("/c", json!({"other": 1})), first);
    h.core.join(first, h.t()).unwrap();
    h.pump();
    assert_eq!(h.channel("/c", json!({})), first, "joining: the same channel");
    h.core.leave(first, h.t());
    let second = h.channel("/c", json!({}));
    assert_ne!(second, first, "closed: a new channel");
    h.core.join(second, h.t()).unwrap();
    h.pump();
    let join = h.last_join("/c");
    h.system("/c", "UNAUTHORIZED", &join, json!({}));
    let third = h.channel("/c", json!({}));
    assert_ne!(third, second, "declined: a new channel");
    assert_eq!(h.core.channel_state(third), Some(Idle));
    assert!(h.core.create_channel("", common::obj(json!({}))).is_err());
}

#[test]
fn released_terminal_channels_are_forgotten() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    assert_eq!(h.channel("/c", json!({})), id, "two handles");
    h.core.leave(id, h.t());
    h.core.release_channel(id);
    assert_eq!(h.core.channel_state(id), Some(Closed), "one handle left");
    h.core.release_channel(id);
    assert_eq!(h.core.channel_state(id), None);
    assert_eq!(h.core.channel_count(), 0);

    let idle = h.channel("/idle", json!({}));
    h.core.release_channel(idle);
    assert_eq!(h.core.channel_count(), 0, "an idle channel nobody holds is dropped");

    let joined = h.joined("/kept");
    h.core.release_channel(joined);
    assert_eq!(h.core.channel_state(joined), Some(Joined), "a joined channel stays for its subscribers");
    h.core.leave(joined, h.t());
    assert_eq!(h.core.channel_count(), 0);
}

#[test]
fn the_queue_is_bounded_and_drops_the_oldest() {
    let mut h = Harness::new(Options { max_queue_size: 3, ..Options::default() });
    let id = h.channel("/c", json!({}));
    let dropped = h.request(id, "r0", json!({}), None);
    for n in 1..=4 {
        h.send(id, &format!("m{n}"), json!({}));
    }
    assert!(matches!(
        h.response(dropped),
        Some(Err(Error::RequestCancelled { reason: CancelReason::QueueOverflow, .. }))
    ));
    h.core.join(id, ms(0)).unwrap();
    h.connect();
    let join = h.last_join("/c");
    h.take_sent();
    h.ack("/c", &join);
    let events: Vec<_> = h.sent.iter().map(|m| m["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["m2", "m3", "m4"]);
}

#[test]
fn presence_is_kept_before_the_join_and_delivered_after() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let presence = |event: &str, list: serde_json::Value, changed: serde_json::Value| {
        json!({"action": "PRESENCE", "event": event, "channelName": "/c", "requestId": "p",
            "payload": {"presence": list, "changed": changed}})
    };
    h.server(presence("JOIN", json!([{"id": "me"}]), json!({"id": "me"})));
    assert_eq!(h.core.presence(id).unwrap().len(), 1, "the snapshot follows the server");
    assert!(!h.events.iter().any(|e| matches!(e, Event::Channel(_, ChannelEvent::Presence { .. }))));
    let join = h.last_join("/c");
    h.ack("/c", &join);
    h.server(presence("JOIN", json!([{"id": "me"}, {"id": "bob"}]), json!({"id": "bob"})));
    h.server(presence("UPDATE", json!([{"id": "me"}, {"id": "bob", "s": 1}]), json!({"id": "bob", "s": 1})));
    h.server(presence("LEAVE", json!([{"id": "me"}]), json!({"id": "bob", "s": 1})));
    let seen: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Channel(_, ChannelEvent::Presence { kind, changed, presence }) => {
                Some((*kind, value(changed)["id"].clone(), presence.len()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        [
            (PresenceKind::Join, json!("bob"), 2),
            (PresenceKind::Update, json!("bob"), 2),
            (PresenceKind::Leave, json!("bob"), 1)
        ]
    );
    assert_eq!(value(&h.core.presence(id).unwrap()[0]), json!({"id": "me"}));
    assert!(h.messages_of(id).is_empty(), "presence is never an ordinary message");
}

#[test]
fn protocol_events_are_never_ordinary_messages() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    for event in ["ACKNOWLEDGE", "EXIT_ACKNOWLEDGE"] {
        h.system("/c", event, "random", json!({}));
    }
    h.broadcast("/c", "chat", json!({"text": "hi"}));
    h.system("/c", "custom-system", "random", json!({"x": 1}));
    assert_eq!(h.messages_of(id), [("chat".into(), json!({"text": "hi"})), ("custom-system".into(), json!({"x": 1}))]);
    assert_eq!(h.core.channel_state(id), Some(Joined));
}

#[test]
fn messages_before_the_join_are_not_delivered() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    h.broadcast("/c", "early", json!({}));
    assert!(h.messages_of(id).is_empty());
}

#[test]
fn messages_reach_only_their_channel() {
    let mut h = Harness::default();
    let a = h.joined("/a");
    let b = h.joined("/b");
    h.broadcast("/a", "for-a", json!({}));
    h.broadcast("/b", "for-b", json!({}));
    h.broadcast("/nobody", "lost", json!({}));
    assert_eq!(h.messages_of(a), [("for-a".into(), json!({}))]);
    assert_eq!(h.messages_of(b), [("for-b".into(), json!({}))]);
    assert!(h.errors().is_empty(), "a message for a channel we are not in is dropped quietly");
}
