//! Frame parsing: good frames, a table of malformed ones, URLs and options.

mod common;

use common::{value, Harness};
use pondsocket_proto::url::resolve_endpoint;
use pondsocket_proto::wire::{parse_frame, Body, ServerAction};
use pondsocket_proto::{Error, Event, FrameErrorKind, JsonObject, Options, PresenceKind};
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
    assert_eq!(message.event, "café \"q\"");
    assert_eq!(message.channel_name, "/ch/x");
    assert_eq!(message.action, ServerAction::System);
    let Body::Object(payload) = message.body else { panic!() };
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
        (
            "lone surrogate",
            GOOD.replace(r#""hi""#, r#""\ud800""#),
            |k| matches!(k, FrameErrorKind::NotJson(m) if m.contains("event")),
        ),
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
        ("duplicate key", GOOD.replace(r#""event":"hi""#, r#""event":"hi","event":"ho""#), |k| {
            matches!(k, FrameErrorKind::NotJson(_))
        }),
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
        ("nested 200 deep", deep(200), |k| *k == FrameErrorKind::TooDeep),
        ("nested 20000 deep", deep(20_000), |k| *k == FrameErrorKind::TooDeep),
        ("nested 129 deep", deep(128), |k| *k == FrameErrorKind::TooDeep),
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
    h.core.handle_binary_frame(socket, h.now);
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
fn nesting_up_to_the_limit_is_accepted_and_brackets_in_strings_do_not_count() {
    // The message object is one level and the payload another: `deep(126)` reaches 128.
    assert!(parse_frame(&deep(126)).next().unwrap().is_ok());
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
fn urls_are_resolved_and_params_merged() {
    let none: &[(&str, &str)] = &[];
    type Params<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(&str, Params<'_>, Option<&str>, &str)] = &[
        ("ws://h/s", none, None, "ws://h/s"),
        ("wss://h:8443/s", none, None, "wss://h:8443/s"),
        ("http://h/s", none, None, "ws://h/s"),
        ("HTTPS://h/s", none, None, "wss://h/s"),
        ("http://h", none, None, "ws://h/"),
        ("ws://h/s?a=1", &[("b", "2")], None, "ws://h/s?a=1&b=2"),
        ("ws://h/s?a=1&token=old", &[("token", "new")], None, "ws://h/s?a=1&token=new"),
        ("ws://h/s#frag", &[("t", "x y&z")], None, "ws://h/s?t=x%20y%26z"),
        ("ws://h/s", &[("ü", "é")], None, "ws://h/s?%C3%BC=%C3%A9"),
        ("/socket", &[("t", "1")], Some("https://site.test/app/page"), "wss://site.test/socket?t=1"),
        ("socket", none, Some("http://site.test:8080/app/page?q=1"), "ws://site.test:8080/app/socket"),
        ("../socket", none, Some("http://site.test/app/deep/page"), "ws://site.test/app/socket"),
        ("//other.test/s", none, Some("https://site.test/"), "wss://other.test/s"),
        ("ws://[::1]:4000/s", none, None, "ws://[::1]:4000/s"),
        ("ws://[::1]/s", none, None, "ws://[::1]/s"),
        ("ws://user:pw@h:65535/s", none, None, "ws://user:pw@h:65535/s"),
    ];
    for (endpoint, params, base, expected) in cases {
        assert_eq!(resolve_endpoint(endpoint, params, *base).as_deref(), Ok(*expected), "{endpoint}");
    }
}

#[test]
fn bad_urls_are_clear_errors_that_never_show_the_query() {
    let params: &[(&str, &str)] = &[("token", "s3cret")];
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("ftp://h/s?token=s3cret", None, "unsupported scheme \"ftp\""),
        ("file:///etc/passwd", None, "unsupported scheme"),
        ("/socket?token=s3cret", None, "no scheme"),
        ("", None, "empty"),
        ("ws://", None, "no host"),
        ("ws:h/s", None, "scheme://host"),
        ("ws://h/s p?token=s3cret", None, "white space"),
        ("/s", Some("not a url"), "not an absolute URL"),
        ("ws://127.0.0.1:99999/socket?token=s3cret", None, "port"),
        ("ws://h:8x/s?token=s3cret", None, "port"),
        ("ws://h%41/s?token=s3cret", None, "character"),
        ("ws://[::1/s?token=s3cret", None, "unclosed"),
        ("ws://[zz]/s?token=s3cret", None, "IPv6"),
    ];
    for (endpoint, base, needle) in cases {
        let error = resolve_endpoint(endpoint, params, *base).expect_err(endpoint);
        let text = error.to_string();
        assert!(matches!(error, Error::InvalidUrl(_)));
        assert!(text.contains(needle), "{endpoint}: {text}");
        assert!(!text.contains("s3cret"), "{endpoint}: the token leaked into {text}");
    }
}

#[test]
fn options_are_validated() {
    assert!(Options::default().validate().is_ok());
    let bad = [
        Options { connection_timeout: 0, ..Options::default() },
        Options { response_timeout: u64::MAX, ..Options::default() },
        Options { ping_interval: Some(0), ..Options::default() },
        Options { max_queue_size: 0, ..Options::default() },
        Options { base_reconnect_delay: 5_000, max_reconnect_delay: 1_000, ..Options::default() },
    ];
    let names = ["connectionTimeout", "responseTimeout", "pingInterval", "maxQueueSize", "maxReconnectDelay"];
    for (options, name) in bad.into_iter().zip(names) {
        match options.validate() {
            Err(Error::InvalidOption { name: got, .. }) => assert_eq!(got, name),
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
    assert_eq!((o.ping_interval, o.max_queue_size, o.response_timeout, o.join_timeout), (None, 100, 5_000, 10_000));
}
