//! Frame decoding (serde_json, for Rust hosts): good frames, a table of malformed ones, and options.

mod common;

use common::{value, Harness};
use common::{Error, Event};
use pondsocket_proto::json::decode_frame as parse_frame;
use pondsocket_proto::wire::{Body, ServerAction};
use pondsocket_proto::{FrameError, FrameErrorKind, JsonObject, Options, PresenceKind};
use serde_json::json;

const GOOD: &str = r#"{"action":"BROADCAST","event":"hi","channelName":"/c","requestId":"r","payload":{"n":1}}"#;

#[test]
fn a_frame_with_several_objects_yields_each() {
    let frame = format!("{GOOD}\n\n{}\r\n{GOOD}", GOOD.replace("hi", "second"));
    let events: Vec<String> = parse_frame(&frame).map(|m| m.unwrap().event.into_owned()).collect();
    assert_eq!(events, ["hi", "second", "hi"]);
}

#[test]
fn escaped_strings_and_unicode_survive() {
    let frame = r#"{"action":"SYSTEM","event":"caf\u00e9 \"q\"","channelName":"/ch\/x","requestId":"r","payload":{"s":"\ud83d\ude00"}}"#;
    let message = parse_frame(frame).next().unwrap().unwrap();
    assert_eq!(message.event.name(), "café \"q\"");
    assert_eq!(message.channel_name, "/ch/x");
    assert_eq!(message.action, ServerAction::System);
    let Body::Payload(payload) = message.body else { panic!() };
    assert_eq!(value(&payload)["s"], "😀");
}

#[test]
fn presence_payload_is_split_into_list_and_changed() {
    let frame = json!({"action": "PRESENCE", "event": "UPDATE", "channelName": "/c", "requestId": "r",
        "payload": {"presence": [{"id": 1}, {"id": 2}], "changed": {"id": 2}}})
    .to_string();
    let message = parse_frame(&frame).next().unwrap().unwrap();
    let Body::Presence { kind, presence, changed } = message.body else { panic!() };
    assert_eq!(kind, PresenceKind::Update);
    assert_eq!(presence.len(), 2);
    assert_eq!(value(&changed), json!({"id": 2}));
}

#[test]
fn a_duplicated_key_keeps_its_last_value_as_json_parse_does() {
    let frame = GOOD.replace(r#""event":"hi""#, r#""event":"hi","event":"ho""#);
    assert_eq!(parse_frame(&frame).next().unwrap().unwrap().event.name(), "ho");
}

#[test]
fn a_missing_request_id_is_accepted() {
    let frame = r#"{"action":"BROADCAST","event":"e","channelName":"/c","payload":{}}"#;
    assert_eq!(parse_frame(frame).next().unwrap().unwrap().request_id, None);
}

fn deep(levels: usize) -> String {
    format!(
        r#"{{"action":"BROADCAST","event":"e","channelName":"/c","requestId":"r","payload":{{"a":{}1{}}}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

/// A named malformed object and a test of the error kind it must give.
type Case = (&'static str, String, fn(&FrameErrorKind) -> bool);

/// Every malformed object, the kind of error it must give.
fn malformed_table() -> Vec<Case> {
    let with = |field: &str, text: &str| {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(GOOD).unwrap();
        v.insert(field.into(), serde_json::from_str(text).unwrap());
        serde_json::Value::Object(v).to_string()
    };
    let without = |field: &str| {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(GOOD).unwrap();
        v.remove(field);
        serde_json::Value::Object(v).to_string()
    };
    let presence = |payload: &str| {
        format!(r#"{{"action":"PRESENCE","event":"JOIN","channelName":"/c","requestId":"r","payload":{payload}}}"#)
    };
    vec![
        ("not json", "hello".into(), |k| matches!(k, FrameErrorKind::NotJson(_))),
        ("truncated", GOOD[..30].into(), |k| matches!(k, FrameErrorKind::NotJson(_))),
        ("trailing garbage", format!("{GOOD} x"), |k| matches!(k, FrameErrorKind::NotJson(_))),
        ("two objects on one line", format!("{GOOD}{GOOD}"), |k| matches!(k, FrameErrorKind::NotJson(_))),
        ("bad escape", r#"{"action":"BROADCAST\q"}"#.into(), |k| matches!(k, FrameErrorKind::NotJson(_))),
        ("lone surrogate", GOOD.replace(r#""hi""#, r#""\ud800""#), |k| matches!(k, FrameErrorKind::NotJson(_))),
        ("array", "[1,2,3]".into(), |k| *k == FrameErrorKind::NotAnObject),
        ("array of a message", format!("[{GOOD}]"), |k| *k == FrameErrorKind::NotAnObject),
        ("string", r#""BROADCAST""#.into(), |k| *k == FrameErrorKind::NotAnObject),
        ("number", "42".into(), |k| *k == FrameErrorKind::NotAnObject),
        ("null", "null".into(), |k| *k == FrameErrorKind::NotAnObject),
        ("empty object", "{}".into(), |k| *k == FrameErrorKind::MissingField("action")),
        ("no action", without("action"), |k| *k == FrameErrorKind::MissingField("action")),
        ("no event", without("event"), |k| *k == FrameErrorKind::MissingField("event")),
        ("no channelName", without("channelName"), |k| *k == FrameErrorKind::MissingField("channelName")),
        ("no payload", without("payload"), |k| *k == FrameErrorKind::MissingField("payload")),
        ("null action", with("action", "null"), |k| *k == FrameErrorKind::MissingField("action")),
        ("numeric action", with("action", "3"), |k| matches!(k, FrameErrorKind::WrongType { field: "action", .. })),
        ("object event", with("event", "{}"), |k| matches!(k, FrameErrorKind::WrongType { field: "event", .. })),
        ("array channelName", with("channelName", "[]"), |k| {
            matches!(k, FrameErrorKind::WrongType { field: "channelName", .. })
        }),
        ("numeric requestId", with("requestId", "7"), |k| {
            matches!(k, FrameErrorKind::WrongType { field: "requestId", .. })
        }),
        (
            "unknown action",
            with("action", r#""PING""#),
            |k| matches!(k, FrameErrorKind::UnknownAction(a) if a == "PING"),
        ),
        ("lower-case action", with("action", r#""broadcast""#), |k| matches!(k, FrameErrorKind::UnknownAction(_))),
        ("string payload", with("payload", r#""text""#), |k| {
            matches!(k, FrameErrorKind::WrongType { field: "payload", .. })
        }),
        ("array payload", with("payload", "[1]"), |k| matches!(k, FrameErrorKind::WrongType { field: "payload", .. })),
        ("number payload", with("payload", "1"), |k| matches!(k, FrameErrorKind::WrongType { field: "payload", .. })),
        ("null payload", with("payload", "null"), |k| *k == FrameErrorKind::MissingField("payload")),
        ("unknown presence event", presence(r#"{"presence":[],"changed":{}}"#).replace("JOIN", "ENTER"), |k| {
            matches!(k, FrameErrorKind::UnknownPresenceEvent(_))
        }),
        ("presence not a list", presence(r#"{"presence":{},"changed":{}}"#), |k| {
            matches!(k, FrameErrorKind::BadPresence(_))
        }),
        ("presence of numbers", presence(r#"{"presence":[1],"changed":{}}"#), |k| {
            matches!(k, FrameErrorKind::BadPresence(_))
        }),
        ("presence without changed", presence(r#"{"presence":[]}"#), |k| matches!(k, FrameErrorKind::BadPresence(_))),
        ("presence changed a string", presence(r#"{"presence":[],"changed":"x"}"#), |k| {
            matches!(k, FrameErrorKind::BadPresence(_))
        }),
        ("presence payload an array", presence("[]"), |k| {
            matches!(k, FrameErrorKind::WrongType { field: "payload", .. })
        }),
    ]
}

#[test]
fn every_malformed_object_is_one_typed_error_and_good_neighbours_still_pass() {
    let table = malformed_table();
    assert!(table.len() >= 25);
    for (name, bad, expected) in table {
        let frame = format!("{GOOD}\n{bad}\n{GOOD}");
        let results: Vec<_> = parse_frame(&frame).collect();
        assert_eq!(results.len(), 3, "{name}: {results:?}");
        assert!(results[0].is_ok() && results[2].is_ok(), "{name}: good neighbours lost");
        let error = results[1].as_ref().expect_err(name);
        assert!(expected(&error.kind), "{name}: got {:?}", error.kind);
        assert!(error.to_string().starts_with("malformed frame: "), "{name}: {error}");
    }
}

#[test]
fn malformed_objects_reach_on_error_once_each_and_the_client_keeps_working() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    for (name, bad, _) in malformed_table() {
        let frame = format!("{bad}\n{}", GOOD.replace("\"hi\"", &format!("{:?}", name)));
        h.server_raw(&frame);
        let events = h.take_events();
        let errors = events.iter().filter(|e| matches!(e, Event::Error(Error::MalformedFrame(_)))).count();
        assert_eq!(errors, 1, "{name}: {events:?}");
        assert!(events.iter().any(|e| matches!(e, Event::Channel(c, _) if *c == id)), "{name}: good message lost");
    }
}

#[test]
fn empty_and_binary_frames_are_reported() {
    let mut h = Harness::default();
    h.connect();
    h.take_events();
    for frame in ["", "   ", "\n\n", "\t\r\n"] {
        h.server_raw(frame);
    }
    let socket = h.socket();
    h.core.handle_frame_error(socket, FrameError { kind: FrameErrorKind::Binary, excerpt: String::new() }, h.t());
    h.pump();
    let kinds: Vec<FrameErrorKind> = h
        .take_events()
        .into_iter()
        .map(|e| match e {
            Event::Error(Error::MalformedFrame(f)) => f.kind,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            FrameErrorKind::Empty,
            FrameErrorKind::Empty,
            FrameErrorKind::Empty,
            FrameErrorKind::Empty,
            FrameErrorKind::Binary
        ]
    );
}

#[test]
fn a_two_megabyte_payload_is_delivered_whole() {
    let mut h = Harness::default();
    let id = h.joined("/c");
    let big = "x".repeat(2 << 20);
    h.broadcast("/c", "big", json!({ "data": big }));
    let messages = h.messages_of(id);
    assert_eq!(messages[0].1["data"].as_str().unwrap().len(), 2 << 20);
}

#[test]
fn deep_nesting_is_accepted_as_json_parse_accepts_it_and_brackets_in_strings_do_not_count() {
    // One parser's behaviour for every host: JSON.parse takes any depth, and so does the serde path (which skips
    // the payload without recursing), without a panic or a stack overflow.
    for levels in [126, 200, 20_000] {
        let frame = deep(levels);
        let message = parse_frame(&frame).next().unwrap().unwrap();
        let Body::Payload(payload) = message.body else { panic!() };
        assert_eq!(payload.as_str().len(), 7 + 2 * levels, "{levels}");
    }
    let brackets = format!(
        r#"{{"action":"BROADCAST","event":"e","channelName":"/c","payload":{{"s":"{}\\\"["}}}}"#,
        "[".repeat(500)
    );
    assert!(parse_frame(&brackets).next().unwrap().is_ok(), "{brackets}");
}

#[test]
fn json_object_accepts_objects_only() {
    assert!(JsonObject::parse(r#"{"a":1}"#).is_ok());
    assert!(JsonObject::parse(" { } ").is_ok());
    assert_eq!(JsonObject::parse("[1]"), Err(FrameErrorKind::NotAnObject));
    assert!(matches!(JsonObject::parse("{"), Err(FrameErrorKind::NotJson(_))));
}

#[test]
fn options_are_validated() {
    assert!(Options::default().validate::<()>().is_ok());
    let bad = [
        Options { connection_timeout: 0, ..Options::default() },
        Options { response_timeout: u64::MAX, ..Options::default() },
        Options { ping_interval: Some(0), ..Options::default() },
        Options { max_queue_size: 0, ..Options::default() },
        Options { base_reconnect_delay: 5_000, max_reconnect_delay: 1_000, ..Options::default() },
    ];
    let names = ["connectionTimeout", "responseTimeout", "pingInterval", "maxQueueSize", "maxReconnectDelay"];
    for (options, name) in bad.into_iter().zip(names) {
        match options.validate::<()>() {
            Err(pondsocket_proto::Error::InvalidOption { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn defaults_are_the_documented_ones() {
    let o = Options::default();
    assert_eq!(
        (o.connection_timeout, o.base_reconnect_delay, o.max_reconnect_delay, o.max_reconnect_attempts),
        (10_000, 1_000, 30_000, None)
    );
    assert_eq!((o.ping_interval, o.max_queue_size, o.response_timeout, o.join_timeout), (None, 100, 30_000, 10_000));
}
