//! The event-stream parser: the HTML standard's examples, every line ending, a BOM, and any way of cutting the
//! stream into chunks giving the same events.

use pondsocket_proto::sse::EventStreamParser;

/// (event, data, last event id) of every event `chunks` complete, fed in order to one parser.
fn events(chunks: &[&[u8]]) -> Vec<(String, String, String)> {
    let mut parser = EventStreamParser::default();
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, |e| out.push((e.event.to_owned(), e.data.to_owned(), e.last_event_id.to_owned())));
    }
    out
}

fn whole(stream: &str) -> Vec<(String, String, String)> {
    events(&[stream.as_bytes()])
}

fn ev(event: &str, data: &str, id: &str) -> (String, String, String) {
    (event.to_owned(), data.to_owned(), id.to_owned())
}

#[test]
fn the_standards_examples() {
    assert_eq!(whole("data: YHOO\ndata: +2\ndata: 10\n\n"), [ev("message", "YHOO\n+2\n10", "")]);
    assert_eq!(
        whole(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"),
        [ev("message", "first event", "1"), ev("message", "second event", "")],
        "the last event has no blank line after it and is never dispatched"
    );
    assert_eq!(whole("data\n\ndata\ndata\n\ndata:"), [ev("message", "", ""), ev("message", "\n", "")]);
    assert_eq!(whole("data:test\n\ndata: test\n\n"), [ev("message", "test", ""), ev("message", "test", "")]);
    assert_eq!(
        whole("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"),
        [ev("add", "73857293", ""), ev("remove", "2153", ""), ev("add", "113411", "")]
    );
}

#[test]
fn what_pondsocket_servers_send() {
    let frame = r#"{"action":"CONNECT","event":"CONNECTION","channelName":"GATEWAY","requestId":"r","payload":{}}"#;
    let stream = ["event: CONNECTION\ndata: ", frame, "\n\n: keep-alive\n\n"].concat();
    assert_eq!(whole(&stream), [ev("CONNECTION", frame, "")]);
}

#[test]
fn every_line_ending_and_a_bom() {
    for end in ["\n", "\r", "\r\n"] {
        let stream = ["\u{FEFF}event: a", end, "data: 1", end, "data: 2", end, end, "data: 3", end, end].concat();
        assert_eq!(whole(&stream), [ev("a", "1\n2", ""), ev("message", "3", "")], "line end {end:?}");
    }
    assert_eq!(whole("data: a\r\n\rdata: b\n\r\n"), [ev("message", "a", ""), ev("message", "b", "")], "mixed");
    assert_eq!(whole("\u{FEFF}\u{FEFF}data: x\n\n"), [], "one BOM is skipped: a second is part of the field name");
}

#[test]
fn fields_as_the_standard_reads_them() {
    assert_eq!(whole("data:no space\n\n"), [ev("message", "no space", "")]);
    assert_eq!(whole("data:  two spaces\n\n"), [ev("message", " two spaces", "")]);
    assert_eq!(whole("data: a:b: c\n\n"), [ev("message", "a:b: c", "")], "only the first colon splits");
    assert_eq!(whole("event: x\n\ndata: y\n\n"), [ev("message", "y", "")], "an event with no data is not dispatched");
    assert_eq!(whole("id: 7\ndata: a\n\ndata: b\n\n"), [ev("message", "a", "7"), ev("message", "b", "7")]);
    assert_eq!(whole("id: 7\n\nid: a\0b\ndata: c\n\n"), [ev("message", "c", "7")], "an id with NUL is ignored");
    assert_eq!(whole("Data: x\ndata : y\nunknown: z\n\n"), [], "field names are exact");
    let mut parser = EventStreamParser::default();
    parser.feed(b"retry: 2500\n\nretry: 12x\n\n", |_| {});
    assert_eq!(parser.retry(), Some(2500), "a retry that is not all digits is ignored");
}

#[test]
fn chunks_split_anywhere_give_the_same_events() {
    let stream = "\u{FEFF}: hi\r\nevent: CONNECTION\r\ndata: {\"é\":\"日本\"}\r\n\r\nevent: x\rdata: 1\rdata: 2\r\r\
                  id: 9\ndata: 😀\n\n";
    let bytes = stream.as_bytes();
    let expected = events(&[bytes]);
    assert_eq!(expected.len(), 3);
    assert_eq!(expected[0], ev("CONNECTION", "{\"é\":\"日本\"}", ""));
    for i in 0..=bytes.len() {
        assert_eq!(events(&[&bytes[..i], &bytes[i..]]), expected, "split at byte {i}");
        for j in i..=bytes.len() {
            assert_eq!(events(&[&bytes[..i], &bytes[i..j], &bytes[j..]]), expected, "split at {i} and {j}");
        }
    }
    let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(events(&one_by_one), expected, "a byte at a time");
}

#[test]
fn invalid_utf8_becomes_replacement_characters_and_the_stream_goes_on() {
    assert_eq!(
        events(&[b"data: a\xff\xfeb\n\n", b"data: ok\n\n"]),
        [ev("message", "a\u{FFFD}\u{FFFD}b", ""), ev("message", "ok", "")]
    );
}
