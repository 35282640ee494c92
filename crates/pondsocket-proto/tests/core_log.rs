//! The debug log (records as events, only with `Options::log`) and giving requests up (`cancel_request`).

mod common;

use common::{Error, Event, Harness};
use pondsocket_proto::{CancelReason, LogLevel, Options};
use serde_json::json;

type Line = (LogLevel, &'static str, Vec<(&'static str, String)>);

fn records(h: &Harness) -> Vec<Line> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::Log(r) => Some((r.level, r.message, r.fields.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_log_tells_what_happens_and_never_the_query_string() {
    let mut h =
        Harness::new(Options { log: true, base_reconnect_delay: 10, max_reconnect_delay: 10, ..Options::default() });
    h.connect();
    let id = h.joined("/c");
    h.take_events();
    let request = h.request(id, "slow", json!({}), Some(100));
    h.advance(100);
    assert!(h.response(request).is_some());
    h.server_raw("{not json");
    h.drop_socket(1006);
    h.advance(10);
    let log = records(&h);
    let messages: Vec<_> = log.iter().map(|(_, m, _)| *m).collect();
    for wanted in ["request timed out", "frame dropped", "connection state", "reconnect scheduled", "connecting"] {
        assert!(messages.contains(&wanted), "{wanted} in {messages:?}");
    }
    let connecting = log.iter().find(|(_, m, _)| *m == "connecting").unwrap();
    assert_eq!(connecting.2[0], ("endpoint", "ws://server.test/socket".to_owned()), "no query string");
    let timeout = log.iter().find(|(_, m, _)| *m == "request timed out").unwrap();
    assert_eq!(timeout.0, LogLevel::Warn);
    assert_eq!(timeout.2[0], ("channel", "/c".to_owned()));
    assert_eq!(timeout.2[1].0, "requestId");
    let all = format!("{log:?}");
    assert!(!all.contains("token"), "the token never appears: {all}");
}

#[test]
fn no_log_unless_asked() {
    let mut h = Harness::default();
    h.connect();
    h.joined("/c");
    h.drop_socket(1006);
    assert!(records(&h).is_empty());
}

#[test]
fn a_cancelled_request_ends_at_once_and_its_late_reply_is_dropped() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let request = h.request(id, "slow", json!({}), None);
    let request_id = h.last_request_id();
    let timers = h.core.armed_timer_count();
    h.core.cancel_request(request);
    h.pump();
    assert!(matches!(h.response(request), Some(Err(Error::RequestCancelled { reason: CancelReason::Aborted, .. }))));
    assert_eq!(h.core.pending_request_count(), 0);
    assert_eq!(h.core.armed_timer_count(), timers - 1, "its timer is gone");
    h.take_events();
    h.system("/c", "slow", &request_id, json!({"late": true}));
    assert!(h.messages_of(id).is_empty(), "the late reply is dropped");
    h.core.cancel_request(request);
    h.pump();
    assert!(h.take_events().is_empty(), "cancelling again does nothing");

    // Not sent yet (queued while joining): it leaves the queue.
    let queued_on = h.channel("/q", json!({}));
    h.core.join(queued_on, h.t()).unwrap();
    h.pump();
    let queued = h.request(queued_on, "echo", json!({}), None);
    h.core.cancel_request(queued);
    h.pump();
    let join = h.last_join("/q");
    h.take_sent();
    h.ack("/q", &join);
    assert!(h.take_sent().iter().all(|m| m["event"] != "echo"), "never sent");
}
