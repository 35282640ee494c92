//! Several servers: round robin over the endpoints, the jittered first reconnect after a lost connection, the
//! attempt budget across the list, `auto` per endpoint, and channels and requests failing over.

mod common;

use common::{obj, Error, Event, Harness};
use pondsocket_proto::{CancelReason, ChannelState, ConnectionState, Options, Transport, TransportChoice};
use serde_json::json;

const A: &str = "ws://a.test/socket?token=t";
const B: &str = "ws://b.test/socket?token=t";
const C: &str = "ws://c.test/socket?token=t";

fn cluster(options: Options) -> Harness {
    Harness::with_endpoints(&[A, B, C], options, [7; 32])
}

fn quick() -> Options {
    Options { base_reconnect_delay: 100, max_reconnect_delay: 100, ..Options::default() }
}

fn hosts(h: &Harness) -> Vec<&str> {
    h.opens.iter().map(|(_, url)| url.split('/').nth(2).unwrap()).collect()
}

fn delays(h: &Harness) -> Vec<u64> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::ReconnectScheduled { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect()
}

/// The current attempt fails before its socket opens; the reconnect that follows is opened.
fn fail_attempt(h: &mut Harness) {
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    h.advance(100);
}

#[test]
fn an_empty_list_is_refused() {
    let core = pondsocket_proto::ClientCore::<pondsocket_proto::JsonObject>::with_endpoints(
        vec![],
        Options::default(),
        [0; 32],
    );
    assert!(matches!(core, Err(Error::InvalidUrl(reason)) if reason.contains("empty")));
}

#[test]
fn failed_attempts_and_lost_connections_go_round_the_list() {
    let mut h = cluster(quick());
    assert_eq!(h.core.endpoint(), A, "before any attempt: the first");
    assert_eq!(h.core.endpoint_count(), 3);
    h.core.connect(h.t());
    h.pump();
    fail_attempt(&mut h);
    fail_attempt(&mut h);
    fail_attempt(&mut h);
    assert_eq!(hosts(&h), ["a.test", "b.test", "c.test", "a.test"]);
    h.open_and_accept();
    assert_eq!(h.core.endpoint(), A, "the endpoint in use");
    h.drop_socket(1006);
    assert_eq!(h.core.endpoint(), B, "waiting: the one the next attempt goes to");
    h.advance(100);
    assert_eq!(hosts(&h)[4], "b.test", "a lost connection moves on too");
    let timeout = h.core.options().connection_timeout;
    h.advance(timeout);
    assert_eq!(h.closes.last(), Some(&(4000, "connection timeout")));
    h.advance(100);
    assert_eq!(hosts(&h)[5], "c.test", "a timed-out attempt moves on");
}

#[test]
fn the_first_attempt_after_a_lost_connection_is_spread_over_zero_to_base() {
    let options = Options { base_reconnect_delay: 1_000, max_reconnect_delay: 60_000, ..Options::default() };
    let mut firsts = vec![];
    for seed in 0..200u8 {
        let mut h = Harness::with_endpoints(&[A, B], options.clone(), [seed; 32]);
        h.connect();
        h.drop_socket(1006);
        let first = delays(&h)[0];
        h.advance(first - 1);
        assert_eq!(h.opens.len(), 1, "no attempt before the delay");
        h.advance(1);
        assert_eq!(h.opens.len(), 2, "the attempt starts at the delay");
        // That attempt fails: the usual backoff follows, from base * 2.
        fail_attempt_after(&mut h, 0);
        let second = delays(&h)[1];
        assert!((1_000..=2_000).contains(&second), "seed {seed}: second delay {second}");
        firsts.push(first);
    }
    assert!(firsts.iter().all(|&d| d <= 1_000), "{firsts:?}");
    // Spread over the whole window, not only its upper half as the backoff's equal jitter would be.
    assert!(firsts.iter().filter(|&&d| d < 250).count() > 20, "{firsts:?}");
    assert!(firsts.iter().filter(|&&d| d > 750).count() > 20, "{firsts:?}");
}

fn fail_attempt_after(h: &mut Harness, wait: u64) {
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    h.advance(wait);
}

#[test]
fn attempts_before_the_first_connection_back_off_without_the_window() {
    let options = Options { base_reconnect_delay: 1_000, max_reconnect_delay: 60_000, ..Options::default() };
    let mut h = cluster(options);
    h.core.connect(h.t());
    h.pump();
    fail_attempt_after(&mut h, 0);
    let first = delays(&h)[0];
    assert!((500..=1_000).contains(&first), "{first}: never connected, so the backoff's own jitter");
}

#[test]
fn max_reconnect_attempts_counts_across_the_list_and_gives_up_once() {
    let mut h = cluster(Options { max_reconnect_attempts: Some(4), ..quick() });
    h.core.connect(h.t());
    h.pump();
    for _ in 0..10 {
        if h.socket.is_some() {
            fail_attempt(&mut h);
        } else {
            h.advance(100);
        }
    }
    assert_eq!(hosts(&h), ["a.test", "b.test", "c.test", "a.test", "b.test"], "the first attempt and four more");
    let gave_up: Vec<_> = h.errors().into_iter().filter(|e| matches!(e, Error::ReconnectGaveUp { .. })).collect();
    assert_eq!(gave_up.len(), 1, "one clear error");
    assert!(matches!(gave_up[0], Error::ReconnectGaveUp { attempts: 4 }));
    assert_eq!(h.core.state(), ConnectionState::Disconnected);
    assert_eq!(h.core.armed_timer_count(), 0);
}

#[test]
fn auto_decides_the_transport_per_endpoint() {
    let mut h = Harness::with_endpoints(&[A, B], Options { transport: TransportChoice::Auto, ..quick() }, [7; 32]);
    h.core.connect(h.t());
    h.pump();
    // a ws, b ws, a ws, b ws: each endpoint has failed twice over WebSocket, so each is tried over SSE next.
    for _ in 0..4 {
        fail_attempt(&mut h);
    }
    assert_eq!(hosts(&h), ["a.test", "b.test", "a.test", "b.test", "a.test"]);
    assert_eq!(
        h.transports[..5],
        [Transport::WebSocket; 4].iter().chain(&[Transport::Sse]).copied().collect::<Vec<_>>()
    );
    assert_eq!(h.opens[4].1, "http://a.test/socket?token=t");
    h.open_and_accept();
    assert!(h.errors().iter().any(|e| matches!(e, Error::TransportFallback { failures: 2 })));
    assert_eq!(h.core.endpoint(), "http://a.test/socket?token=t");

    // a dies: b has its own record (two WebSocket failures), so it is tried over SSE; it never connected over
    // WebSocket, and a's fallback is a's.
    h.drop_socket(1006);
    h.advance(100);
    assert_eq!((hosts(&h)[5], h.transports[5]), ("b.test", Transport::Sse));
    fail_attempt(&mut h);
    // A failed SSE try at b starts b's count over; a stays on SSE, where it connected.
    assert_eq!((hosts(&h)[6], h.transports[6]), ("a.test", Transport::Sse));
    fail_attempt(&mut h);
    assert_eq!((hosts(&h)[7], h.transports[7]), ("b.test", Transport::WebSocket));
    h.open_and_accept();
    assert_eq!(h.core.transport(), Transport::WebSocket);

    // disconnect() starts every endpoint over with WebSocket.
    h.core.disconnect(h.t());
    h.pump();
    h.core.connect(h.t());
    h.pump();
    assert_eq!(*h.transports.last().unwrap(), Transport::WebSocket);
}

#[test]
fn moving_on_from_an_endpoint_that_fell_back_starts_the_next_on_websocket() {
    let mut h = Harness::with_endpoints(&[A, B], Options { transport: TransportChoice::Auto, ..quick() }, [7; 32]);
    h.core.connect(h.t());
    h.pump();
    // Only a refuses WebSockets: a ws fails, b ws connects.
    fail_attempt(&mut h);
    h.open_and_accept();
    h.drop_socket(1006);
    h.advance(100);
    fail_attempt(&mut h); // a ws: a's second failure
    fail_attempt(&mut h); // b ws
    assert_eq!(h.transports.len(), 5);
    assert_eq!((hosts(&h)[4], h.transports[4]), ("a.test", Transport::Sse), "a: two failures of its own");
    h.open_and_accept();
    h.drop_socket(1006);
    h.advance(100);
    assert_eq!((hosts(&h)[5], h.transports[5]), ("b.test", Transport::WebSocket), "b: its own record");
}

#[test]
fn channels_and_requests_fail_over_to_the_next_endpoint() {
    let mut h = cluster(quick());
    let chat = h.joined("/chat/1");
    let other = h.joined("/chat/2");
    let request = h.request(chat, "late", json!({"delayMs": 1000}), None);
    h.drop_socket(1006);
    assert_eq!(h.core.channel_state(chat), Some(ChannelState::Stalled));
    assert_eq!(h.core.channel_state(other), Some(ChannelState::Stalled));
    assert!(matches!(
        h.response(request),
        Some(Err(Error::RequestCancelled { reason: CancelReason::ConnectionLost, .. }))
    ));
    // Sent while the connection is down: queued, sent after the rejoin.
    h.core.send_message(chat, "message", &obj(json!({"text": "queued"}))).unwrap();
    h.pump();
    h.take_sent();
    let delay = delays(&h)[0];
    h.advance(delay);
    assert_eq!(hosts(&h)[1], "b.test");
    h.open_and_accept();
    let sent = h.take_sent();
    let joins: Vec<_> = sent.iter().filter(|m| m["action"] == "JOIN_CHANNEL").collect();
    assert_eq!(joins.len(), 2, "both channels rejoin on b: {sent:?}");
    assert!(joins.iter().all(|j| j["payload"] == json!({"user": "alice"})), "with their join params");
    assert!(!sent.iter().any(|m| m["event"] == "message"), "nothing before the rejoin is acknowledged");
    h.sent = sent;
    let join = h.last_join("/chat/1");
    h.ack("/chat/1", &join);
    assert_eq!(h.core.channel_state(chat), Some(ChannelState::Joined));
    assert!(h.take_sent().iter().any(|m| m["event"] == "message" && m["payload"]["text"] == "queued"));
}
