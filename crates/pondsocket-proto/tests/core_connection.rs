//! The connection state machine: connect, timeouts, backoff, liveness, disconnect.

mod common;

use common::Harness;
use common::{ms, Error, Event};
use pondsocket_proto::{ConnectionState, Options};
use serde_json::json;

use ConnectionState::{Connected, Connecting, Disconnected};

#[test]
fn connected_only_after_socket_open_and_connection_event() {
    let mut h = Harness::default();
    assert_eq!(h.core.state(), Disconnected);
    h.core.connect(ms(0));
    h.pump();
    assert_eq!(h.opens, [(0, "ws://server.test/socket?token=good".to_owned())]);
    assert_eq!(h.core.state(), Connecting);
    let socket = h.socket();
    h.core.handle_socket_open(socket, ms(1));
    h.pump();
    assert_eq!(h.core.state(), Connecting, "an open socket is not yet a connection");
    h.broadcast("/x", "e", json!({}));
    assert_eq!(h.core.state(), Connecting, "only CONNECTION accepts the connection");
    h.server(json!({"action": "CONNECT", "event": "CONNECTION", "channelName": "GATEWAY", "requestId": "r",
        "payload": {"id": "a", "connectionId": "a"}}));
    assert_eq!(h.core.state(), Connected);
    assert_eq!(h.connection_states(), [Connecting, Connected]);
    assert_eq!(h.core.armed_timer_count(), 0, "the connect timer is cancelled");
}

#[test]
fn connect_twice_opens_one_socket() {
    let mut h = Harness::default();
    h.core.connect(ms(0));
    h.core.connect(ms(1));
    h.pump();
    assert_eq!(h.opens.len(), 1);
    h.open_and_accept();
    h.core.connect(ms(2));
    h.pump();
    assert_eq!(h.opens.len(), 1);
}

#[test]
fn a_repeated_connection_event_changes_nothing() {
    let mut h = Harness::default();
    h.connect();
    let id = h.channel("/c", json!({}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    h.take_events();
    let sent_before = h.sent.len();
    h.open_and_accept();
    assert!(h.take_events().is_empty());
    assert_eq!(h.sent.len(), sent_before, "no second join");
}

#[test]
fn connection_timeout_when_the_socket_never_opens() {
    let mut h = Harness::default();
    h.core.connect(ms(0));
    h.pump();
    h.advance(9_999);
    assert_eq!(h.core.state(), Connecting);
    h.advance(1);
    assert_eq!(h.closes, [(4000, "connection timeout")]);
    assert_eq!(h.core.state(), Disconnected);
    assert!(h.errors().iter().any(|e| matches!(e, Error::ConnectionTimeout { timeout_ms: 10_000 })));
    assert!(h.events.iter().any(|e| matches!(e, Event::ReconnectScheduled { attempt: 1, .. })));
}

#[test]
fn connection_timeout_when_the_server_never_sends_connection() {
    let mut h = Harness::new(Options { connection_timeout: 500, ..Options::default() });
    h.core.connect(ms(0));
    h.pump();
    let socket = h.socket();
    h.core.handle_socket_open(socket, ms(10));
    h.advance(500);
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.core.state(), Disconnected);
}

/// The delays between failed attempts: each in `[nominal / 2, nominal]`, nominal = min(base * 2^n, max).
#[test]
fn backoff_is_exponential_capped_and_jittered() {
    let options = Options { base_reconnect_delay: 100, max_reconnect_delay: 3_000, ..Options::default() };
    let mut h = Harness::new(options);
    h.core.connect(ms(0));
    h.pump();
    let mut delays = vec![];
    for _ in 0..12 {
        h.drop_socket(1006);
        let delay = h
            .take_events()
            .into_iter()
            .find_map(|e| match e {
                Event::ReconnectScheduled { delay_ms, at, .. } => {
                    assert_eq!(at.as_millis(), h.now + delay_ms);
                    Some(delay_ms)
                }
                _ => None,
            })
            .expect("a reconnect is scheduled");
        let opens = h.opens.len();
        h.advance(delay - 1);
        assert_eq!(h.opens.len(), opens, "no attempt before the delay");
        h.advance(1);
        assert_eq!(h.opens.len(), opens + 1, "the attempt starts at the delay");
        delays.push(delay);
    }
    for (n, delay) in delays.iter().enumerate() {
        let nominal = (100u64 << n).min(3_000);
        assert!((nominal / 2..=nominal).contains(delay), "attempt {n}: {delay} outside [{}, {nominal}]", nominal / 2);
    }
    assert!(delays.windows(2).take(4).all(|w| w[1] > w[0] / 2), "{delays:?}");
    let capped: Vec<_> = delays[6..].to_vec();
    assert!(capped.iter().any(|&d| d != capped[0]), "jitter spreads capped delays: {capped:?}");
}

#[test]
fn backoff_resets_after_a_successful_connection() {
    let options = Options {
        base_reconnect_delay: 100,
        max_reconnect_delay: 100_000,
        connection_timeout: 1_000_000,
        ..Options::default()
    };
    let mut h = Harness::new(options);
    h.core.connect(ms(0));
    h.pump();
    for _ in 0..5 {
        h.drop_socket(1006);
        h.advance(100_000);
    }
    h.open_and_accept();
    h.take_events();
    h.drop_socket(1006);
    let delay = h.events.iter().find_map(|e| match e {
        Event::ReconnectScheduled { attempt, delay_ms, .. } => Some((*attempt, *delay_ms)),
        _ => None,
    });
    let (attempt, delay) = delay.unwrap();
    assert_eq!(attempt, 1);
    // The first attempt after an accepted connection is spread over [0, base] (see core_endpoints.rs).
    assert!((0..=100).contains(&delay), "{delay}");
    h.advance(delay);
    h.drop_socket(1006);
    let delay = h.events.iter().rev().find_map(|e| match e {
        Event::ReconnectScheduled { attempt, delay_ms, .. } => Some((*attempt, *delay_ms)),
        _ => None,
    });
    assert_eq!(delay.map(|d| d.0), Some(2));
    assert!((100..=200).contains(&delay.unwrap().1), "then backoff from base * 2: {delay:?}");
}

#[test]
fn reconnect_attempts_are_bounded() {
    let options = Options { max_reconnect_attempts: Some(3), ..Options::default() };
    let mut h = Harness::new(options);
    h.core.connect(ms(0));
    h.pump();
    for _ in 0..10 {
        if h.socket.is_some() {
            h.drop_socket(1008);
        }
        h.advance(60_000);
    }
    assert_eq!(h.opens.len(), 4, "the first attempt and three reconnects");
    assert!(h.errors().iter().any(|e| matches!(e, Error::ReconnectGaveUp { attempts: 3 })));
    assert_eq!(h.core.state(), Disconnected);
    assert_eq!(h.core.armed_timer_count(), 0);
    h.core.connect(h.t());
    h.pump();
    assert_eq!(h.opens.len(), 5, "connect() tries again");
}

#[test]
fn zero_reconnect_attempts_never_reconnects() {
    let mut h = Harness::new(Options { max_reconnect_attempts: Some(0), ..Options::default() });
    h.connect();
    h.drop_socket(1006);
    h.advance(1_000_000);
    assert_eq!(h.opens.len(), 1);
}

#[test]
fn disconnect_stops_reconnecting_and_closes_the_socket() {
    let mut h = Harness::default();
    h.connect();
    h.core.disconnect(h.t());
    h.pump();
    assert_eq!(h.closes, [(1000, "client disconnected")]);
    assert_eq!(h.core.state(), Disconnected);
    h.advance(1_000_000);
    assert_eq!(h.opens.len(), 1);
    assert_eq!(h.core.armed_timer_count(), 0);
}

#[test]
fn disconnect_while_waiting_to_reconnect_cancels_it() {
    let mut h = Harness::default();
    h.connect();
    h.drop_socket(1006);
    h.core.disconnect(h.t());
    h.pump();
    h.advance(1_000_000);
    assert_eq!(h.opens.len(), 1);
    assert!(h.closes.is_empty(), "there was no socket to close");
}

#[test]
fn disconnect_while_connecting_ignores_the_old_socket() {
    let mut h = Harness::default();
    h.core.connect(ms(0));
    h.pump();
    let old = h.socket();
    h.core.disconnect(ms(1));
    h.pump();
    h.core.handle_socket_open(old, ms(2));
    h.core.handle_frame(
        old,
        r#"{"action":"CONNECT","event":"CONNECTION","channelName":"GATEWAY","payload":{}}"#,
        ms(3),
    );
    h.core.handle_socket_close(old, ms(4), 1000, "");
    h.pump();
    assert_eq!(h.core.state(), Disconnected);
    assert_eq!(h.connection_states(), [Connecting, Disconnected]);
}

#[test]
fn events_of_a_replaced_socket_are_ignored() {
    let mut h = Harness::new(Options { connection_timeout: 100, ..Options::default() });
    h.core.connect(ms(0));
    h.pump();
    let first = h.socket();
    h.advance(100);
    h.advance(1_000);
    assert_eq!(h.opens.len(), 2);
    h.core.handle_socket_close(first, h.t(), 1006, "");
    h.core.handle_socket_error(first, h.t(), "late");
    h.pump();
    assert_eq!(h.core.state(), Connecting, "the new socket is still connecting");
    assert!(!h.errors().iter().any(|e| matches!(e, Error::Socket(_))));
}

#[test]
fn liveness_closes_a_silent_connection_and_reconnects() {
    let mut h = Harness::new(Options { ping_interval: Some(1_000), ..Options::default() });
    h.connect();
    for _ in 0..5 {
        h.advance(1_500);
        h.broadcast("/any", "tick", json!({}));
    }
    assert!(h.closes.is_empty(), "traffic keeps the connection alive");
    h.advance(1_999);
    assert!(h.closes.is_empty());
    h.advance(1);
    assert_eq!(h.closes, [(4000, "liveness timeout")]);
    assert!(h.errors().iter().any(|e| matches!(e, Error::LivenessTimeout { silent_ms: 2_000 })));
    h.advance(1_000);
    assert_eq!(h.opens.len(), 2);
}

#[test]
fn socket_errors_and_unexpected_closes_are_reported() {
    let mut h = Harness::default();
    h.connect();
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "boom");
    h.drop_socket(1011);
    let errors = h.errors();
    assert!(matches!(errors[0], Error::Socket(m) if m == "boom"));
    assert!(matches!(errors[1], Error::ConnectionClosed { code: 1011, .. }));
}

#[test]
fn gateway_errors_are_reported_to_the_client() {
    let mut h = Harness::default();
    h.connect();
    h.server(json!({"action": "ERROR", "event": "INVALID_MESSAGE", "channelName": "GATEWAY", "requestId": "x",
        "payload": {"message": "bad"}}));
    h.server(json!({"action": "SYSTEM", "event": "INTERNAL_ERROR", "channelName": "GATEWAY", "requestId": "y",
        "payload": {}}));
    let events: Vec<String> = h
        .errors()
        .iter()
        .map(|e| match e {
            Error::Server { event, .. } => event.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(events, ["INVALID_MESSAGE", "INTERNAL_ERROR"]);
}

#[test]
fn an_error_before_the_socket_opened_is_a_failed_attempt() {
    // Node 20's WebSocket reports a refused connection with an error event and never a close event.
    let mut h = Harness::default();
    h.core.connect(ms(0));
    h.pump();
    let socket = h.socket();
    h.core.handle_socket_error(socket, ms(5), "ECONNREFUSED");
    h.pump();
    assert_eq!(h.closes, [(4001, "connection failed")]);
    assert_eq!(h.core.state(), Disconnected);
    assert!(h.events.iter().any(|e| matches!(e, Event::ReconnectScheduled { attempt: 1, .. })));
    assert_eq!(h.errors().len(), 1, "one report: {:?}", h.errors());
    h.core.handle_socket_close(socket, ms(6), 1006, "");
    h.pump();
    assert_eq!(h.errors().len(), 1, "the late close of the failed socket is ignored");
}
