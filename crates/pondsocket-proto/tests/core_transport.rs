//! The transport of each connection attempt: WebSocket, SSE, or WebSocket falling back to SSE; the connection id.

mod common;

use common::{Error, Event, Harness};
use pondsocket_proto::{ChannelState, ConnectionState, Options, Transport, TransportChoice};
use serde_json::json;

fn with(transport: TransportChoice) -> Harness {
    Harness::new(Options { transport, base_reconnect_delay: 100, max_reconnect_delay: 100, ..Options::default() })
}

/// The current attempt fails before the socket opens; the reconnect that follows is opened.
fn fail_attempt(h: &mut Harness) {
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    h.advance(100);
}

fn fallbacks(h: &Harness) -> Vec<u32> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::Error(Error::TransportFallback { failures }) => Some(*failures),
            _ => None,
        })
        .collect()
}

#[test]
fn sse_opens_the_same_endpoint_over_http_and_runs_the_same_machines() {
    let mut h = with(TransportChoice::Sse);
    h.connect();
    assert_eq!(h.opens[0].1, "http://server.test/socket?token=good");
    assert_eq!((h.transports.as_slice(), h.core.transport()), ([Transport::Sse].as_slice(), Transport::Sse));
    let id = h.joined("/c");
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Joined));
    h.drop_socket(1006);
    h.advance(100);
    h.open_and_accept();
    assert_eq!(h.transports, [Transport::Sse, Transport::Sse], "SSE stays SSE");
    let secure = pondsocket_proto::ClientCore::<pondsocket_proto::JsonObject>::new(
        "wss://x.test/s".into(),
        Options { transport: TransportChoice::Sse, ..Options::default() },
        [1; 32],
    );
    let mut secure = secure.unwrap();
    secure.connect(h.t());
    assert!(matches!(secure.poll(), Some(pondsocket_proto::Output::Open { url, .. }) if url == "https://x.test/s"));
}

#[test]
fn websocket_is_the_default_and_never_falls_back() {
    assert_eq!(Options::default().transport, TransportChoice::WebSocket);
    let mut h = with(TransportChoice::WebSocket);
    h.core.connect(h.t());
    h.pump();
    for _ in 0..5 {
        fail_attempt(&mut h);
    }
    assert!(h.transports.iter().all(|&t| t == Transport::WebSocket));
    assert_eq!(h.opens[0].1, "ws://server.test/socket?token=good");
}

#[test]
fn auto_tries_sse_after_two_websocket_failures_and_stays_on_it_until_disconnect() {
    let mut h = with(TransportChoice::Auto);
    h.core.connect(h.t());
    h.pump();
    fail_attempt(&mut h);
    fail_attempt(&mut h);
    assert_eq!(h.transports, [Transport::WebSocket, Transport::WebSocket, Transport::Sse]);
    assert_eq!(fallbacks(&h), [] as [u32; 0], "nothing said before SSE connects");
    h.open_and_accept();
    assert_eq!(fallbacks(&h), [2], "the move is reported once, with the failures that caused it");
    assert_eq!(h.core.transport(), Transport::Sse);

    // A lost SSE connection reconnects over SSE, even after failures.
    h.drop_socket(1006);
    h.advance(100);
    fail_attempt(&mut h);
    fail_attempt(&mut h);
    h.open_and_accept();
    assert!(h.transports[2..].iter().all(|&t| t == Transport::Sse), "{:?}", h.transports);
    assert_eq!(fallbacks(&h), [2]);

    // disconnect() then connect() starts over with WebSocket.
    h.core.disconnect(h.t());
    h.pump();
    h.core.connect(h.t());
    h.pump();
    assert_eq!(h.transports.last(), Some(&Transport::WebSocket));
}

#[test]
fn auto_cycles_websocket_websocket_sse_while_nothing_connects_and_stays_on_a_websocket_that_does() {
    let mut h = with(TransportChoice::Auto);
    h.core.connect(h.t());
    h.pump();
    for _ in 0..6 {
        fail_attempt(&mut h);
    }
    use Transport::{Sse, WebSocket as Ws};
    assert_eq!(h.transports, [Ws, Ws, Sse, Ws, Ws, Sse, Ws]);
    h.open_and_accept();
    assert_eq!(h.core.transport(), Ws);
    h.drop_socket(1006);
    h.advance(100);
    fail_attempt(&mut h);
    assert_eq!(&h.transports[7..], [Ws, Ws], "a working WebSocket resets the count");
    assert_eq!(fallbacks(&h), [] as [u32; 0]);
}

#[test]
fn the_connection_id_comes_from_the_connection_event_and_goes_with_the_connection() {
    let mut h = Harness::default();
    assert_eq!(h.core.connection_id(), None);
    h.connect();
    assert_eq!(h.core.connection_id(), Some("u1"));
    h.drop_socket(1006);
    assert_eq!(h.core.connection_id(), None);
    h.advance(2_000);
    let socket = h.socket();
    h.core.handle_socket_open(socket, h.t());
    h.server(json!({"action": "CONNECT", "event": "CONNECTION", "channelName": "GATEWAY", "requestId": "c1",
        "payload": {"id": "only-id"}}));
    assert_eq!(h.core.state(), ConnectionState::Connected);
    assert_eq!(h.core.connection_id(), Some("only-id"), "`id` when there is no `connectionId`");
    h.server(json!({"action": "CONNECT", "event": "CONNECTION", "channelName": "GATEWAY", "requestId": "c2",
        "payload": {"connectionId": "late"}}));
    assert_eq!(h.core.connection_id(), Some("only-id"), "a second CONNECTION changes nothing");
    h.core.disconnect(h.t());
    assert_eq!(h.core.connection_id(), None);
}
