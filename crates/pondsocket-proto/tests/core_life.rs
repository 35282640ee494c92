//! Life in a browser tab: offline and online, visibility and focus, sleep (a clock the test controls jumps while a
//! visible page's timers are due), the back/forward cache. A host with no page reports none of it.

mod common;

use common::{Event, Harness};
use pondsocket_proto::{ChannelState, ConnectionState, Options};
use serde_json::json;

fn slow() -> Options {
    // A minute's backoff: any attempt within the test's few seconds is the page's doing.
    Options { base_reconnect_delay: 60_000, max_reconnect_delay: 120_000, ..Options::default() }
}

fn scheduled(h: &Harness) -> Vec<(u32, u64)> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::ReconnectScheduled { attempt, delay_ms, .. } => Some((*attempt, *delay_ms)),
            _ => None,
        })
        .collect()
}

/// A connected client whose server went away and refuses it: it waits a minute to try again.
fn waiting(options: Options) -> Harness {
    let mut h = Harness::new(options);
    h.connect();
    h.drop_socket(1006);
    let first = scheduled(&h)[0].1;
    h.advance(first);
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    assert_eq!(h.opens.len(), 2);
    assert!(scheduled(&h)[1].1 >= 60_000, "the next attempt is a minute away");
    h
}

#[test]
fn offline_makes_no_attempt_and_online_makes_one_at_once() {
    let mut h = waiting(slow());
    h.core.network_lost();
    h.advance(600_000);
    assert_eq!(h.opens.len(), 2, "no attempt while offline, however long");
    assert_eq!(h.core.armed_timer_count(), 0, "nothing waits on a timer meanwhile");
    h.core.network_back(h.t());
    h.pump();
    assert_eq!(h.opens.len(), 3, "one attempt at once");
    // It fails too: the delay starts over from the base, the count goes on (attempt 3).
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    let (attempt, delay) = *scheduled(&h).last().unwrap();
    assert_eq!(attempt, 3);
    assert!((30_000..=60_000).contains(&delay), "the delay reset to the base: {delay}");
}

#[test]
fn a_connection_lost_while_offline_waits_for_the_network() {
    let mut h = Harness::new(slow());
    h.connect();
    let id = h.joined("/c");
    h.core.network_lost();
    h.drop_socket(1006);
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Stalled));
    assert!(scheduled(&h).is_empty(), "no attempt planned while offline");
    h.advance(600_000);
    assert_eq!(h.opens.len(), 1);
    h.core.network_back(h.t());
    h.pump();
    h.open_and_accept();
    let join = h.last_join("/c");
    h.ack("/c", &join);
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Joined));
}

#[test]
fn visible_and_focus_try_at_once_and_keep_the_attempt_count() {
    let options = Options { max_reconnect_attempts: Some(3), ..slow() };
    let mut h = waiting(options);
    h.core.page_visible(true, h.t());
    h.pump();
    assert_eq!(h.opens.len(), 3, "visible: at once");
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    h.core.page_focused(h.t());
    h.pump();
    assert_eq!(h.opens.len(), 4, "focus: at once");
    let socket = h.socket();
    h.core.handle_socket_error(socket, h.t(), "refused");
    h.pump();
    assert!(h.errors().iter().any(|e| matches!(e, common::Error::ReconnectGaveUp { attempts: 3 })), "gave up");
    h.core.page_focused(h.t());
    h.core.page_visible(true, h.t());
    h.pump();
    assert_eq!(h.opens.len(), 4, "a client that gave up stays given up");
}

#[test]
fn hidden_and_focus_while_connected_change_nothing_without_a_ping_interval() {
    let mut h = Harness::new(slow());
    h.connect();
    h.core.page_visible(false, h.t());
    h.core.page_focused(h.t());
    h.core.page_visible(true, h.t());
    h.pump();
    assert_eq!((h.opens.len(), h.closes.len()), (1, 0));
    assert_eq!(h.core.state(), ConnectionState::Connected);
}

#[test]
fn focus_checks_a_silent_connection_at_once_with_a_ping_interval() {
    let mut h = Harness::new(Options { ping_interval: Some(10_000), ..slow() });
    h.connect();
    // The liveness timer would check at 20 s; a frozen tab's timers fired nothing meanwhile.
    h.now += 25_000;
    h.core.page_focused(h.t());
    h.pump();
    assert_eq!(h.closes.last(), Some(&(4000, "liveness timeout")), "checked at once");
}

#[test]
fn a_visible_page_that_slept_reconnects_at_once() {
    let mut h = Harness::new(slow());
    h.core.page_visible(true, h.t());
    h.connect();
    let id = h.joined("/c");
    // Awake: the watch fires on time, nothing happens.
    h.advance(30_000);
    assert_eq!((h.opens.len(), h.closes.len()), (1, 0));
    // The machine sleeps for ten minutes: the clock jumps, then the overdue timer fires.
    h.now += 600_000;
    h.core.handle_timeout(h.t());
    h.pump();
    assert_eq!(h.closes, [(4000, "the machine slept")]);
    assert_eq!(h.opens.len(), 2, "made again at once, with no backoff");
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Stalled));
    h.open_and_accept();
    let join = h.last_join("/c");
    h.ack("/c", &join);
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Joined));
}

#[test]
fn a_hidden_page_or_no_page_reads_nothing_into_late_timers() {
    for visible in [None, Some(false)] {
        let mut h = Harness::new(Options { connection_timeout: 1_000, ..slow() });
        if let Some(visible) = visible {
            h.core.page_visible(visible, h.t());
        }
        h.connect();
        let id = h.joined("/c");
        let request = h.request(id, "late", json!({}), Some(5_000));
        h.now += 600_000;
        h.core.handle_timeout(h.t());
        h.pump();
        assert!(h.closes.is_empty(), "{visible:?}: throttled timers are late on purpose");
        assert!(h.response(request).is_some(), "the request's timer fired");
        assert_eq!(h.core.state(), ConnectionState::Connected);
    }
}

#[test]
fn the_back_forward_cache_closes_cleanly_and_restores() {
    let mut h = Harness::new(slow());
    h.core.page_visible(true, h.t());
    h.connect();
    let id = h.joined("/c");
    let request = h.request(id, "late", json!({}), None);
    h.core.page_frozen(h.t());
    h.pump();
    assert_eq!(h.closes, [(1000, "page hidden")], "a clean close: an open socket keeps a page out of the cache");
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Stalled));
    assert!(matches!(h.response(request), Some(Err(common::Error::RequestCancelled { .. }))));
    h.send(id, "message", json!({"queued": true}));
    assert_eq!(h.core.armed_timer_count(), 0, "nothing runs in the cache");
    h.advance(3_600_000);
    assert_eq!(h.opens.len(), 1, "no reconnect while frozen");
    h.core.page_restored(h.t());
    h.pump();
    assert_eq!(h.opens.len(), 2, "restored: reconnects at once");
    h.open_and_accept();
    let join = h.last_join("/c");
    h.ack("/c", &join);
    assert_eq!(h.core.channel_state(id), Some(ChannelState::Joined));
    assert!(h.take_sent().iter().any(|m| m["payload"]["queued"] == true), "the queued message went out");
}

fn presence_frame(event: &str, list: serde_json::Value, changed: serde_json::Value) -> serde_json::Value {
    json!({"action": "PRESENCE", "event": event, "channelName": "/c", "requestId": "p",
        "payload": {"presence": list, "changed": changed}})
}

fn presence_news(h: &Harness) -> Vec<String> {
    use pondsocket_proto::ChannelEvent;
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::Channel(_, ChannelEvent::Presence { kind, presence, .. }) => {
                Some(format!("{kind:?} {}", presence.len()))
            }
            Event::Channel(_, ChannelEvent::PresenceSync { previous, presence }) => {
                Some(format!("sync {} -> {}", previous.len(), presence.len()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_rejoin_tells_presence_once_against_the_list_from_before() {
    for list_before_ack in [true, false] {
        let mut h = Harness::new(Options { base_reconnect_delay: 10, max_reconnect_delay: 10, ..Options::default() });
        let id = h.joined("/c");
        h.server(presence_frame("JOIN", json!([{"u": "me"}, {"u": "bob"}]), json!({"u": "bob"})));
        h.drop_socket(1006);
        h.advance(10);
        h.open_and_accept();
        h.take_events();
        let join = h.last_join("/c");
        let now = json!([{"u": "me"}, {"u": "carol"}]);
        if list_before_ack {
            h.server(presence_frame("JOIN", now.clone(), json!({"u": "me"})));
            h.server(presence_frame("JOIN", now.clone(), json!({"u": "carol"})));
            h.ack("/c", &join);
        } else {
            h.ack("/c", &join);
            h.server(presence_frame("JOIN", now.clone(), json!({"u": "me"})));
        }
        assert_eq!(h.core.channel_state(id), Some(ChannelState::Joined));
        assert_eq!(presence_news(&h), ["sync 2 -> 2"], "before the ack: {list_before_ack}");
        // Afterwards, news as usual.
        h.server(presence_frame("LEAVE", json!([{"u": "me"}]), json!({"u": "carol"})));
        assert_eq!(presence_news(&h), ["sync 2 -> 2", "Leave 1"]);
    }
}
