//! End to end in headless Chromium, against the real test server (`tests/server`) and its supervisor.
//!
//! Run by `scripts/test-browser.sh`, which starts the server and compiles this suite with `PONDSOCKET_TEST_URL` and
//! `PONDSOCKET_CONTROL_URL` set. wasm-bindgen-test runs the tests one at a time, so the test that restarts the
//! server disturbs no other. Each test has its own clients (disconnected when dropped) and its own room names.
//! Waits are for recorded events, each with a timeout that fails the test; the few fixed waits are the assertion
//! that nothing more happens.

#![cfg(target_arch = "wasm32")]

#[macro_use]
#[path = "browser/support.rs"]
mod support;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Reflect, JSON};
use pondsocket_proto::CancelReason;
use pondsocket_wasm::js::JsPondClient;
use pondsocket_web::{
    ChannelError, ChannelState, ConnectionState, Error, JsonObject, Options, Transport, TransportChoice,
};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use wasm_bindgen_test::*;

use support::*;

wasm_bindgen_test_configure!(run_in_browser);

// ----- connection -----

#[wasm_bindgen_test]
async fn connection_states_in_order() -> TestResult {
    let client = TestClient::good(quick_options())?;
    ensure_eq!(client.states.items(), vec![ConnectionState::Disconnected], "on_connection_change is called at once");
    client.connect();
    ensure_eq!(
        client.states.items(),
        vec![ConnectionState::Disconnected, ConnectionState::Connecting],
        "connect() starts connecting at once"
    );
    client.wait_connected().await?;
    ensure_eq!(
        client.states.items(),
        vec![ConnectionState::Disconnected, ConnectionState::Connecting, ConnectionState::Connected],
        "states"
    );
    // The transport this run is over (PONDSOCKET_TRANSPORT), the endpoint in its form (http for SSE), and the
    // server's id for the connection.
    let expected = if transport() == TransportChoice::Sse { Transport::Sse } else { Transport::WebSocket };
    let url = if expected == Transport::Sse { client.url().replacen("http", "ws", 1) } else { client.url() };
    ensure!(url.starts_with(ws_url()?), "url {}", client.url());
    ensure_eq!(client.transport(), expected, "transport");
    ensure!(client.connection_id().is_some_and(|id| !id.is_empty()), "connection id {:?}", client.connection_id());

    let late = Log::new();
    let sink = late.clone();
    client.on_connection_change(move |s| sink.push(s)).forget();
    ensure_eq!(late.items(), vec![ConnectionState::Connected], "a late subscriber hears the current state at once");

    client.disconnect();
    ensure_eq!(client.state(), ConnectionState::Disconnected, "state after disconnect()");
    ensure_eq!(client.states.last(), Some(ConnectionState::Disconnected), "last state heard");
    ensure_eq!(late.last(), Some(ConnectionState::Disconnected), "last state heard by the late subscriber");
    ensure!(client.errors.items().is_empty(), "errors: {:?}", client.errors.items());
    Ok(())
}

#[wasm_bindgen_test]
async fn endpoint_with_a_query_string() -> TestResult {
    let endpoint = format!("{}?name=zed", ws_url()?);
    let client = TestClient::new(&endpoint, &[("token", "good")], quick_options())?;
    let url = client.url();
    ensure!(url.starts_with(ws_url()?), "url {url}");
    ensure!(url.contains("name=zed"), "the endpoint's query is kept: {url}");
    ensure!(url.contains("token=good"), "the params are added: {url}");
    ensure_eq!(url.matches('?').count(), 1, "one query string in {url}");
    client.connect();
    client.wait_connected().await?;
    let chat = client.joined(&unique("/chat/query"), json!({"name": "zed"})).await?;
    let reply = chat.send_for_response("echo", &obj(json!({"ok": 1})), None).await?;
    ensure_eq!(val(&reply), json!({"ok": 1}), "echo over the connection");
    Ok(())
}

/// URLs as the page's own `URL` reads them: relative endpoints against the page, http(s) as ws(s), params merged
/// into the query (replacing one of the same name), the fragment dropped; what the parser or the scheme check
/// refuses is a clear error that never shows the query string.
#[wasm_bindgen_test]
fn endpoints_resolve_as_the_page_reads_them() -> TestResult {
    let page = web_sys::window().and_then(|w| w.location().href().ok()).ok_or_else(|| Fail("no page".into()))?;
    let page = web_sys::Url::new(&page)?;
    let origin = ["ws://", &page.host()].concat();
    let url = |endpoint: &str, params: &[(&str, &str)]| -> TestResult<String> {
        Ok(pondsocket_web::Client::new(endpoint, params, Options::default())?.url())
    };
    ensure_eq!(
        url("/socket", &[("token", "a b")])?,
        [origin.as_str(), "/socket?token=a%20b"].concat(),
        "relative to the page"
    );
    let path = page.pathname();
    let directory = path.rsplit_once('/').map_or("", |(directory, _)| directory);
    ensure_eq!(url("socket", &[])?, [origin.as_str(), directory, "/socket"].concat(), "relative to the directory");
    ensure_eq!(url("https://example.test/s#frag", &[])?, "wss://example.test/s", "https is wss, no fragment");
    ensure_eq!(url("http://example.test:8080/s", &[])?, "ws://example.test:8080/s", "http is ws");
    ensure_eq!(
        url("ws://ex%41mple.test/s", &[])?,
        "ws://example.test/s",
        "a percent-encoded host, as browsers read it"
    );
    ensure_eq!(
        url("ws://example.test/s?token=old&keep=1", &[("token", "new")])?,
        "ws://example.test/s?keep=1&token=new",
        "a param replaces one of the same name and keeps the others"
    );
    for bad in
        ["ftp://example.test/s?token=s3cret", "ws://127.0.0.1:99999/s?token=s3cret", "ws://[::1/s?token=s3cret", "  "]
    {
        match pondsocket_web::Client::new(bad, &[("token", "s3cret")], Options::default()) {
            Err(Error::InvalidUrl(message)) => {
                ensure!(!message.contains("s3cret"), "{bad}: the token shows in {message}");
            }
            Err(other) => return Err(Fail(format!("{bad}: {other:?}"))),
            Ok(client) => return Err(Fail(format!("{bad} was accepted as {}", client.url()))),
        }
    }
    Ok(())
}

#[wasm_bindgen_test]
async fn disconnect_closes_everything_and_stays_disconnected() -> TestResult {
    let options = quick_options();
    let base = options.base_reconnect_delay;
    let client = TestClient::connected(options).await?;
    let chat = client.joined(&unique("/chat/disconnect"), json!({})).await?;
    let pending = chat.send_for_response("late", &obj(json!({"delayMs": 3000})), None);
    // The echo's reply proves the late request reached the server before the disconnect.
    chat.send_for_response("echo", &JsonObject::empty(), None).await?;

    client.disconnect();
    ensure_eq!(client.state(), ConnectionState::Disconnected, "state after disconnect()");
    ensure_eq!(chat.state(), ChannelState::Closed, "channel after disconnect()");
    ensure_eq!(chat.states.last(), Some(ChannelState::Closed), "last channel state heard");
    let outcome = with_timeout("the pending request", 1_000, pending).await?;
    ensure!(
        matches!(outcome, Err(Error::RequestCancelled { reason: CancelReason::Disconnected, .. })),
        "pending request after disconnect(): {outcome:?}"
    );
    ensure!(
        matches!(chat.send_message("echo", &JsonObject::empty()), Err(Error::ChannelUnavailable { .. })),
        "sending on a channel closed by disconnect() fails"
    );

    let connecting_before = client.states.items().iter().filter(|s| **s == ConnectionState::Connecting).count();
    // The assertion: no reconnect within three times the base delay.
    quiet_period((base * 3) as u32).await;
    let connecting_after = client.states.items().iter().filter(|s| **s == ConnectionState::Connecting).count();
    ensure_eq!(
        connecting_after,
        connecting_before,
        "no reconnect after disconnect(); states {:?}",
        client.states.items()
    );
    ensure!(client.reconnects.items().is_empty(), "reconnects scheduled: {:?}", client.reconnects.items());
    ensure_eq!(client.state(), ConnectionState::Disconnected, "still disconnected");
    Ok(())
}

#[wasm_bindgen_test]
async fn bad_token_gives_up_after_max_reconnect_attempts() -> TestResult {
    let options = Options {
        base_reconnect_delay: 50,
        max_reconnect_delay: 100,
        max_reconnect_attempts: Some(2),
        connection_timeout: 3_000,
        ..Options::default()
    };
    let client = TestClient::new(ws_url()?, &[("token", "bad")], options)?;
    client.connect();
    client
        .errors
        .wait("ReconnectGaveUp", 5_000, |errors| errors.iter().any(|e| matches!(e, Error::ReconnectGaveUp { .. })))
        .await?;
    let gave_up: Vec<Error> =
        client.errors.items().into_iter().filter(|e| matches!(e, Error::ReconnectGaveUp { .. })).collect();
    ensure_eq!(gave_up, vec![Error::ReconnectGaveUp { attempts: 2 }], "gave up once, after 2 reconnects");
    let connecting = |states: &[ConnectionState]| states.iter().filter(|s| **s == ConnectionState::Connecting).count();
    ensure_eq!(connecting(&client.states.items()), 3, "connection attempts; states {:?}", client.states.items());
    ensure_eq!(
        client.reconnects.items().iter().map(|(attempt, _)| *attempt).collect::<Vec<_>>(),
        vec![1, 2],
        "reconnects scheduled"
    );
    ensure!(!client.states.contains(&ConnectionState::Connected), "never connected: {:?}", client.states.items());
    ensure_eq!(client.state(), ConnectionState::Disconnected, "state after giving up");
    // The assertion: nothing more (the longest delay is 100 ms).
    quiet_period(300).await;
    ensure_eq!(connecting(&client.states.items()), 3, "no attempt after giving up; states {:?}", client.states.items());
    ensure_eq!(client.state(), ConnectionState::Disconnected, "still disconnected");
    Ok(())
}

// ----- joining -----

#[wasm_bindgen_test]
async fn join_accepted() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let name = unique("/chat/join");
    let chat = client.channel(&name, json!({"name": "ann"}))?;
    ensure_eq!(chat.states.items(), vec![ChannelState::Idle], "on_state_change is called at once");
    chat.join()?;
    chat.wait_state(ChannelState::Joined, 5_000).await?;
    ensure_eq!(chat.states.items(), vec![ChannelState::Idle, ChannelState::Joining, ChannelState::Joined], "states");
    ensure_eq!(chat.name(), name, "name");
    ensure_eq!(chat.join_error(), None, "join_error");
    chat.joins.wait("our own presence", 2_000, |joins| !joins.is_empty()).await?;
    ensure_eq!(names(&chat.presence()), vec!["ann".to_owned()], "presence");
    // join() again on a joined channel changes nothing.
    chat.join()?;
    ensure_eq!(chat.state(), ChannelState::Joined, "state after a second join()");
    Ok(())
}

async fn expect_declined(
    client: &TestClient,
    name: &str,
    code: &str,
    status: u16,
    timeout_ms: u32,
) -> TestResult<ChannelError> {
    let channel = client.channel(name, json!({}))?;
    let pending = channel.send_for_response("echo", &JsonObject::empty(), None);
    channel.join()?;
    channel.wait_state(ChannelState::Declined, timeout_ms).await?;
    ensure_eq!(
        channel.states.items(),
        vec![ChannelState::Idle, ChannelState::Joining, ChannelState::Declined],
        "states of {name}"
    );
    let error = channel.join_error().ok_or_else(|| Fail(format!("no join_error on {name}")))?;
    ensure_eq!(error.code, code, "join_error.code of {name}");
    ensure_eq!(error.status, status, "join_error.status of {name}");
    ensure_eq!(channel.errors.items(), vec![error.clone()], "on_error of {name}");
    let outcome = with_timeout("the queued request", 1_000, pending).await?;
    ensure!(
        matches!(&outcome, Err(Error::RequestCancelled { reason: CancelReason::Declined(e), .. }) if *e == error),
        "request queued on {name}: {outcome:?}"
    );
    ensure!(matches!(channel.join(), Err(Error::ChannelUnavailable { .. })), "join() on a DECLINED channel fails");
    ensure!(
        matches!(channel.send_message("echo", &JsonObject::empty()), Err(Error::ChannelUnavailable { .. })),
        "send_message on a DECLINED channel fails"
    );
    Ok(error)
}

#[wasm_bindgen_test]
async fn join_declined_by_the_server() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let error = expect_declined(&client, &unique("/private/room"), "UNAUTHORIZED", 403, 5_000).await?;
    ensure_eq!(error.message, "private room", "join_error.message");
    Ok(())
}

#[wasm_bindgen_test]
async fn join_of_an_unknown_channel() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    expect_declined(&client, &unique("/nope"), "NOT_FOUND", 404, 5_000).await?;
    Ok(())
}

#[wasm_bindgen_test]
async fn join_timeout() -> TestResult {
    let options = Options { join_timeout: 300, ..quick_options() };
    let client = TestClient::connected(options).await?;
    let start = now_ms();
    let error = expect_declined(&client, &unique("/silent/room"), "JOIN_TIMEOUT", 408, 3_000).await?;
    let elapsed = now_ms() - start;
    ensure!(elapsed >= 290.0, "declined after {elapsed} ms, before the 300 ms join timeout");
    ensure!(error.message.contains("300"), "message {:?}", error.message);
    // The client stays usable.
    let chat = client.joined(&unique("/chat/after-timeout"), json!({})).await?;
    chat.send_for_response("echo", &JsonObject::empty(), None).await?;
    Ok(())
}

// ----- requests -----

#[wasm_bindgen_test]
async fn echo_request_and_response() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/echo"), json!({})).await?;
    let payload = json!({"text": "héllo ✓", "n": 1, "nested": {"list": [1, 2, 3], "none": null}});
    let reply = chat.send_for_response("echo", &obj(payload.clone()), None).await?;
    ensure_eq!(val(&reply), payload, "echo");
    let pong = chat.send_for_response("ping", &obj(json!({"t": 5})), None).await?;
    ensure_eq!(val(&pong), json!({"t": 5}), "ping → pong");
    // A reply is matched by requestId, whatever its event name, even a join answer's name.
    let odd = chat.send_for_response("reply-as", &obj(json!({"event": "ACKNOWLEDGE"})), None).await?;
    ensure_eq!(val(&odd), json!({"ok": true}), "reply-as ACKNOWLEDGE");
    ensure_eq!(chat.state(), ChannelState::Joined, "state");
    ensure!(chat.messages.items().is_empty(), "replies are not messages: {:?}", chat.messages.items());
    Ok(())
}

#[wasm_bindgen_test]
async fn fifty_concurrent_requests_each_get_their_own_reply() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/concurrent"), json!({})).await?;
    // Odd ones are answered late, later the earlier they were sent: replies come back out of order.
    let requests: Vec<(Value, _)> = (0..50)
        .map(|n| {
            let (event, payload) =
                if n % 2 == 0 { ("echo", json!({"n": n})) } else { ("late", json!({"n": n, "delayMs": 200 - 4 * n})) };
            let future = chat.send_for_response(event, &obj(payload.clone()), Some(5_000));
            (payload, future)
        })
        .collect();
    // Await them concurrently, recording the order in which they complete.
    let results: Log<(Value, Result<Value, Error>)> = Log::new();
    let order: Log<i64> = Log::new();
    for (expected, future) in requests {
        let (results, order) = (results.clone(), order.clone());
        spawn_local(async move {
            let reply = future.await.map(|r| val(&r));
            order.push(expected["n"].as_i64().unwrap_or(-1));
            results.push((expected, reply));
        });
    }
    results.wait("50 replies", 5_000, |r| r.len() == 50).await?;
    for (expected, reply) in results.items() {
        ensure_eq!(reply, Ok(expected.clone()), "the reply to {expected}");
    }
    let order = order.items();
    ensure!(order != (0..50).collect::<Vec<i64>>(), "replies were expected out of order: {order:?}");
    Ok(())
}

#[wasm_bindgen_test]
async fn request_timeout() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/timeout"), json!({})).await?;
    let start = now_ms();
    let outcome = chat.send_for_response("late", &obj(json!({"delayMs": 500, "id": "first"})), Some(100)).await;
    let elapsed = now_ms() - start;
    ensure_eq!(
        outcome,
        Err(Error::ResponseTimeout { event: "late".into(), timeout_ms: 100 }),
        "a 500 ms reply with a 100 ms timeout"
    );
    ensure!((95.0..450.0).contains(&elapsed), "timed out after {elapsed} ms");
    // A second late request, sent later with the same delay, is answered after the first one's reply: by then that
    // reply has arrived, and it must have been dropped, not delivered as a message.
    let second = chat.send_for_response("late", &obj(json!({"delayMs": 500, "id": "second"})), Some(3_000)).await?;
    ensure_eq!(val(&second), json!({"delayMs": 500, "id": "second"}), "the second reply");
    ensure!(chat.messages.items().is_empty(), "the late reply leaked as a message: {:?}", chat.messages.items());
    ensure!(client.errors.items().is_empty(), "errors: {:?}", client.errors.items());
    Ok(())
}

#[wasm_bindgen_test]
async fn request_timeout_through_the_js_api() -> TestResult {
    let params = JSON::parse(r#"{"token": "good"}"#)?;
    let options = JSON::parse(r#"{"baseReconnectDelay": 100, "maxReconnectDelay": 500}"#)?;
    let transport = match transport() {
        TransportChoice::WebSocket => "websocket",
        TransportChoice::Sse => "sse",
        _ => "auto",
    };
    Reflect::set(&options, &"transport".into(), &transport.into())?;
    let client = JsPondClient::new(ws_url()?.into(), params, options)?;
    let result = async {
        client.connect();
        wait_until("the JS client to connect", 5_000, || client.get_state() == "connected", || client.get_state())
            .await?;
        let channel =
            client.create_channel(unique("/chat/js").into(), JSON::parse(r#"{"name": "js"}"#)?, JsValue::UNDEFINED)?;
        channel.join()?;
        wait_until("the JS channel to join", 5_000, || channel.channel_state() == "JOINED", || channel.channel_state())
            .await?;

        let reply =
            JsFuture::from(channel.send_for_response("echo".into(), JSON::parse(r#"{"n": 7}"#)?, JsValue::UNDEFINED))
                .await?;
        ensure_eq!(Reflect::get(&reply, &"n".into())?.as_f64(), Some(7.0), "the JS echo");

        let late = channel.send_for_response("late".into(), JSON::parse(r#"{"delayMs": 500}"#)?, 100.into());
        let rejected = match with_timeout("the JS request", 3_000, JsFuture::from(late)).await? {
            Ok(value) => return Err(Fail(format!("the late request resolved: {value:?}"))),
            Err(error) => error,
        };
        let name = Reflect::get(&rejected, &"name".into())?.as_string();
        ensure_eq!(name.as_deref(), Some("ResponseTimeoutError"), "the rejection's name");
        ensure!(rejected.is_instance_of::<js_sys::Error>(), "the rejection is an Error");
        ensure_eq!(Reflect::get(&rejected, &"timeoutMs".into())?.as_f64(), Some(100.0), "timeoutMs");
        ensure_eq!(Reflect::get(&rejected, &"event".into())?.as_string().as_deref(), Some("late"), "event");
        Ok(())
    }
    .await;
    client.disconnect();
    ensure_eq!(client.get_state(), "disconnected", "JS client state after disconnect()");
    result
}

// ----- presence and broadcasts -----

#[wasm_bindgen_test]
async fn presence_across_two_clients() -> TestResult {
    let room = unique("/chat/presence");
    let a = TestClient::connected(quick_options()).await?;
    let b = TestClient::connected(quick_options()).await?;
    let chat_a = a.joined(&room, json!({"name": "ann"})).await?;
    chat_a.joins.wait("ann's own join", 2_000, |j| j.len() == 1).await?;
    let chat_b = b.joined(&room, json!({"name": "bob"})).await?;

    let is_bob = |p: &Value| p["name"] == "bob";
    chat_a.joins.wait("bob's join at ann", 2_000, |j| j.iter().any(is_bob)).await?;
    ensure_eq!(
        chat_a.joins.items().iter().map(|p| p["name"].clone()).collect::<Vec<_>>(),
        vec![json!("ann"), json!("bob")],
        "joins heard by ann"
    );
    chat_a.users.wait("two users at ann", 2_000, |u| u.last().is_some_and(|u| u.len() == 2)).await?;
    chat_b.users.wait("two users at bob", 2_000, |u| u.last().is_some_and(|u| u.len() == 2)).await?;
    ensure_eq!(names(&chat_a.presence()), vec!["ann".to_owned(), "bob".to_owned()], "presence at ann");
    ensure_eq!(presence_set(&chat_a.presence()), presence_set(&chat_b.presence()), "both sides agree");

    // A status update of bob's reaches both.
    chat_b.send_message("status", &obj(json!({"mood": "happy"})))?;
    let updated =
        |u: &[(Value, Vec<Value>)]| u.iter().any(|(changed, _)| changed["name"] == "bob" && changed["mood"] == "happy");
    chat_a.updates.wait("bob's update at ann", 2_000, updated).await?;
    chat_b.updates.wait("bob's update at bob", 2_000, updated).await?;
    let (_, everyone) = chat_a.updates.last().ok_or_else(|| Fail("no update".into()))?;
    ensure!(
        everyone.iter().any(|p| p["name"] == "bob" && p["mood"] == "happy"),
        "everyone in the update: {everyone:?}"
    );
    let bob_at_a = chat_a.presence().iter().map(val).find(is_bob);
    ensure_eq!(bob_at_a.as_ref().map(|p| p["mood"].clone()), Some(json!("happy")), "bob at ann");
    ensure_eq!(presence_set(&chat_a.presence()), presence_set(&chat_b.presence()), "both sides agree after the update");
    ensure_eq!(chat_a.users.last().map(|u| u.len()), Some(2), "users after the update");

    // Bob disconnects: ann hears him leave.
    b.disconnect();
    chat_a.leaves.wait("bob's leave at ann", 2_000, |l| l.iter().any(is_bob)).await?;
    ensure_eq!(names(&chat_a.presence()), vec!["ann".to_owned()], "presence at ann after bob left");
    ensure_eq!(chat_a.users.last().map(|u| u.len()), Some(1), "users after bob left");
    ensure!(chat_a.leaves.items().iter().all(is_bob), "leaves: {:?}", chat_a.leaves.items());
    Ok(())
}

#[wasm_bindgen_test]
async fn broadcast_reaches_everyone_broadcast_others_not_the_sender() -> TestResult {
    let room = unique("/chat/broadcast");
    let a = TestClient::connected(quick_options()).await?;
    let b = TestClient::connected(quick_options()).await?;
    let chat_a = a.joined(&room, json!({"name": "ann"})).await?;
    let chat_b = b.joined(&room, json!({"name": "bob"})).await?;

    chat_a.send_message("broadcast", &obj(json!({"k": 1})))?;
    chat_a.messages.wait("k=1 at ann", 2_000, |m| m.len() == 1).await?;
    chat_b.messages.wait("k=1 at bob", 2_000, |m| m.len() == 1).await?;
    ensure_eq!(chat_a.messages.items(), vec![("message".to_owned(), json!({"k": 1}))], "ann's messages");
    ensure_eq!(chat_b.messages.items(), vec![("message".to_owned(), json!({"k": 1}))], "bob's messages");

    chat_a.send_message("broadcast-others", &obj(json!({"k": 2})))?;
    chat_b.messages.wait("k=2 at bob", 2_000, |m| m.len() == 2).await?;
    // The server sends in order: once ann has k=3, she would have had k=2 before it.
    chat_a.send_message("broadcast", &obj(json!({"k": 3})))?;
    chat_a.messages.wait("k=3 at ann", 2_000, |m| m.len() >= 2).await?;
    chat_b.messages.wait("k=3 at bob", 2_000, |m| m.len() == 3).await?;
    ensure_eq!(chat_a.message_payloads(), vec![json!({"k": 1}), json!({"k": 3})], "ann's messages");
    ensure_eq!(chat_b.message_payloads(), vec![json!({"k": 1}), json!({"k": 2}), json!({"k": 3})], "bob's messages");
    Ok(())
}

#[wasm_bindgen_test]
async fn unsubscribed_listener_hears_nothing_more() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/unsubscribe"), json!({})).await?;
    let (first, second, by_event) = (Log::new(), Log::new(), Log::new());
    let sink = first.clone();
    let first_sub = chat.on_message(move |_, p| sink.push(val(p)));
    let sink = second.clone();
    chat.on_message(move |_, p| sink.push(val(p))).forget();
    let sink = by_event.clone();
    let by_event_sub = chat.on_message_event("message", move |p| sink.push(val(p)));

    chat.send_message("broadcast", &obj(json!({"m": 1})))?;
    second.wait("m=1", 2_000, |m| m.len() == 1).await?;
    ensure_eq!(first.items(), vec![json!({"m": 1})], "first listener before unsubscribing");
    ensure_eq!(by_event.items(), vec![json!({"m": 1})], "event listener before unsubscribing");

    first_sub.unsubscribe();
    by_event_sub.unsubscribe();
    chat.send_message("broadcast", &obj(json!({"m": 2})))?;
    chat.send_message("broadcast", &obj(json!({"m": 3})))?;
    second.wait("m=3", 2_000, |m| m.len() == 3).await?;
    ensure_eq!(second.items(), vec![json!({"m": 1}), json!({"m": 2}), json!({"m": 3})], "the listener kept");
    ensure_eq!(first.items(), vec![json!({"m": 1})], "the unsubscribed listener");
    ensure_eq!(by_event.items(), vec![json!({"m": 1})], "the unsubscribed event listener");
    Ok(())
}

#[wasm_bindgen_test]
async fn leave_closes_the_channel_and_the_others_see_it() -> TestResult {
    let room = unique("/chat/leave");
    let a = TestClient::connected(quick_options()).await?;
    let b = TestClient::connected(quick_options()).await?;
    let chat_a = a.joined(&room, json!({"name": "ann"})).await?;
    let chat_b = b.joined(&room, json!({"name": "bob"})).await?;
    chat_a.users.wait("bob at ann", 2_000, |u| u.last().is_some_and(|u| u.len() == 2)).await?;
    let pending = chat_b.send_for_response("late", &obj(json!({"delayMs": 3000})), None);

    chat_b.leave();
    ensure_eq!(chat_b.state(), ChannelState::Closed, "state after leave()");
    ensure_eq!(
        chat_b.states.items(),
        vec![ChannelState::Idle, ChannelState::Joining, ChannelState::Joined, ChannelState::Closed],
        "bob's channel states"
    );
    let outcome = with_timeout("bob's pending request", 1_000, pending).await?;
    ensure!(
        matches!(outcome, Err(Error::RequestCancelled { reason: CancelReason::Left, .. })),
        "pending request after leave(): {outcome:?}"
    );
    ensure!(
        matches!(chat_b.send_message("echo", &JsonObject::empty()), Err(Error::ChannelUnavailable { .. })),
        "sending on a left channel fails"
    );
    chat_a.leaves.wait("bob's leave at ann", 2_000, |l| l.iter().any(|p| p["name"] == "bob")).await?;
    ensure_eq!(names(&chat_a.presence()), vec!["ann".to_owned()], "presence at ann");
    ensure!(chat_b.presence().is_empty(), "a left channel has no presence: {:?}", chat_b.presence());
    chat_b.leave(); // leaving again does nothing
    ensure_eq!(chat_b.states.len(), 4, "no state change from a second leave()");

    // Bob's connection is fine, and the room can be joined again (a new channel).
    let again = b.joined(&room, json!({"name": "bob"})).await?;
    chat_a.joins.wait("bob back at ann", 2_000, |j| j.iter().filter(|p| p["name"] == "bob").count() == 2).await?;
    again.send_for_response("echo", &JsonObject::empty(), None).await?;
    Ok(())
}

#[wasm_bindgen_test]
async fn eviction_closes_the_channel_for_good() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/evict"), json!({})).await?;
    let pending = chat.send_for_response("late", &obj(json!({"delayMs": 3000})), None);
    let evict = chat.send_for_response("evict", &obj(json!({"reason": "go away"})), None);

    chat.wait_state(ChannelState::Closed, 3_000).await?;
    ensure_eq!(chat.evicted_reason(), Some("go away".to_owned()), "evicted_reason");
    let codes: Vec<(String, String)> = chat.errors.items().into_iter().map(|e| (e.code, e.message)).collect();
    ensure_eq!(codes, vec![("EVICTED".to_owned(), "go away".to_owned())], "on_error");
    for (what, request) in [("late", pending), ("evict", evict)] {
        let outcome = with_timeout(what, 1_000, request).await?;
        ensure!(
            matches!(&outcome, Err(Error::RequestCancelled { reason: CancelReason::Evicted(r), .. }) if r == "go away"),
            "the {what} request after the eviction: {outcome:?}"
        );
    }
    ensure!(matches!(chat.join(), Err(Error::ChannelUnavailable { .. })), "join() on an evicted channel fails");

    // A round trip on another channel: anything the client would have done (a rejoin) has been sent by then.
    let other = client.joined(&unique("/chat/evict-other"), json!({})).await?;
    other.send_for_response("echo", &JsonObject::empty(), None).await?;
    ensure_eq!(
        chat.states.items(),
        vec![ChannelState::Idle, ChannelState::Joining, ChannelState::Joined, ChannelState::Closed],
        "no rejoin after the eviction"
    );
    ensure_eq!(client.state(), ConnectionState::Connected, "the connection stays");
    Ok(())
}

// ----- queue -----

#[wasm_bindgen_test]
async fn messages_sent_while_joining_arrive_in_order() -> TestResult {
    let room = unique("/chat/queue");
    let observer = TestClient::connected(quick_options()).await?;
    let seen = observer.joined(&room, json!({"name": "observer"})).await?;

    // Before the client is even connected.
    let a = TestClient::good(quick_options())?;
    let early = a.channel(&room, json!({"name": "early"}))?;
    early.join()?;
    for i in 0..10 {
        early.send_message("broadcast", &obj(json!({"i": i})))?;
    }
    ensure_eq!(early.state(), ChannelState::Joining, "state while the client is not connected");
    a.connect();
    let expected: Vec<Value> = (0..10).map(|i| json!({"i": i})).collect();
    seen.messages.wait("10 broadcasts at the observer", 5_000, |m| m.len() >= 10).await?;
    ensure_eq!(seen.message_payloads(), expected, "order at the observer");
    early.messages.wait("10 broadcasts at the sender", 2_000, |m| m.len() >= 10).await?;
    ensure_eq!(early.message_payloads(), expected, "order at the sender");

    // Connected, but the join not answered yet.
    let room2 = unique("/chat/queue2");
    let seen2 = observer.joined(&room2, json!({"name": "observer"})).await?;
    let late = a.channel(&room2, json!({"name": "late"}))?;
    late.join()?;
    let reply = late.send_for_response("echo", &obj(json!({"first": true})), None);
    for i in 0..20 {
        late.send_message("broadcast", &obj(json!({"j": i})))?;
    }
    ensure_eq!(late.state(), ChannelState::Joining, "state right after join()");
    let reply = with_timeout("the queued echo", 5_000, reply).await??;
    ensure_eq!(val(&reply), json!({"first": true}), "the queued request's reply");
    let expected: Vec<Value> = (0..20).map(|i| json!({"j": i})).collect();
    seen2.messages.wait("20 broadcasts at the observer", 5_000, |m| m.len() >= 20).await?;
    ensure_eq!(seen2.message_payloads(), expected, "order at the observer");
    Ok(())
}

#[wasm_bindgen_test]
async fn bounded_queue_rejects_the_oldest() -> TestResult {
    let options = Options { max_queue_size: 3, ..quick_options() };
    let client = TestClient::good(options)?;
    let chat = client.channel(&unique("/chat/bounded"), json!({}))?;
    chat.join()?;
    let mut requests: Vec<_> =
        (0..5).map(|n| chat.send_for_response("echo", &obj(json!({"n": n})), Some(5_000))).collect();
    let kept = requests.split_off(2);
    // The first two are rejected at once, before the client even connects.
    for (n, request) in requests.into_iter().enumerate() {
        let outcome = with_timeout("an overflowed request", 500, request).await?;
        ensure!(
            matches!(outcome, Err(Error::RequestCancelled { reason: CancelReason::QueueOverflow, .. })),
            "request {n}: {outcome:?}"
        );
    }
    ensure_eq!(client.state(), ConnectionState::Disconnected, "not connected yet");
    client.connect();
    for (n, request) in (2..5).zip(kept) {
        let reply = with_timeout("a queued request", 5_000, request).await??;
        ensure_eq!(val(&reply), json!({"n": n}), "reply to request {n}");
    }
    ensure_eq!(chat.state(), ChannelState::Joined, "state");
    Ok(())
}

// ----- re-entrancy -----

#[wasm_bindgen_test]
async fn callbacks_may_call_back_into_the_client() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let problems: Log<String> = Log::new();
    let x = client.channel(&unique("/chat/reentrant-x"), json!({}))?;
    let y_name = unique("/chat/reentrant-y");
    let y: Rc<RefCell<Option<TestChannel>>> = Rc::default();
    let replies: Log<Result<Value, Error>> = Log::new();

    // On JOINED, create and join another channel.
    {
        let (client, y, y_name, problems) = (client.client.clone(), y.clone(), y_name.clone(), problems.clone());
        x.on_state_change(move |state| {
            if state != ChannelState::Joined || y.borrow().is_some() {
                return;
            }
            match client.create_channel(&y_name, &JsonObject::empty()) {
                Ok(channel) => {
                    let channel = TestChannel::watch(channel);
                    if let Err(e) = channel.join() {
                        problems.push(format!("join() in a callback: {e:?}"));
                    }
                    *y.borrow_mut() = Some(channel);
                }
                Err(e) => problems.push(format!("create_channel() in a callback: {e:?}")),
            }
        })
        .forget();
    }
    // On a message, send a request, or leave.
    {
        let (channel, replies) = (x.channel.clone(), replies.clone());
        x.on_message(move |_, payload| match val(payload)["cmd"].as_str() {
            Some("request") => {
                let reply = channel.send_for_response("echo", &obj(json!({"from": "callback"})), None);
                let replies = replies.clone();
                spawn_local(async move { replies.push(reply.await.map(|r| val(&r))) });
            }
            Some("leave") => channel.leave(),
            _ => {}
        })
        .forget();
    }

    x.join()?;
    x.wait_state(ChannelState::Joined, 5_000).await?;
    let y_slot = y.clone();
    wait_until(
        "the channel created in a callback",
        2_000,
        move || y_slot.borrow().is_some(),
        || problems_of(&problems),
    )
    .await?;
    let y_channel = y.borrow_mut().take().ok_or_else(|| Fail("no channel".into()))?;
    y_channel.wait_state(ChannelState::Joined, 5_000).await?;

    x.send_message("broadcast", &obj(json!({"cmd": "request"})))?;
    replies.wait("the reply to the request sent in a callback", 3_000, |r| !r.is_empty()).await?;
    ensure_eq!(replies.items(), vec![Ok(json!({"from": "callback"}))], "reply");

    x.send_message("broadcast", &obj(json!({"cmd": "leave"})))?;
    x.wait_state(ChannelState::Closed, 3_000).await?;

    ensure!(problems.items().is_empty(), "{}", problems_of(&problems));
    let echo = y_channel.send_for_response("echo", &obj(json!({"still": "fine"})), None).await?;
    ensure_eq!(val(&echo), json!({"still": "fine"}), "the client works after all that");
    ensure!(client.errors.items().is_empty(), "errors: {:?}", client.errors.items());
    Ok(())
}

#[wasm_bindgen_test]
async fn presence_and_error_callbacks_may_call_back_into_the_client() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let problems: Log<String> = Log::new();
    let replies: Log<Result<Value, Error>> = Log::new();
    let other: Rc<RefCell<Option<TestChannel>>> = Rc::default();

    // On our own presence JOIN, send a request.
    let chat = client.channel(&unique("/chat/reentrant-presence"), json!({"name": "me"}))?;
    {
        let (channel, replies) = (chat.channel.clone(), replies.clone());
        chat.on_join(move |changed| {
            if val(changed)["name"] == "me" {
                let reply = channel.send_for_response("echo", &obj(json!({"from": "on_join"})), None);
                let replies = replies.clone();
                spawn_local(async move { replies.push(reply.await.map(|r| val(&r))) });
            }
        })
        .forget();
    }
    // On a declined join's error, create and join another channel.
    let private = client.channel(&unique("/private/reentrant"), json!({}))?;
    {
        let (client, other, problems) = (client.client.clone(), other.clone(), problems.clone());
        let name = unique("/chat/reentrant-after-error");
        private
            .on_error(move |_| match client.create_channel(&name, &JsonObject::empty()) {
                Ok(channel) => {
                    let channel = TestChannel::watch(channel);
                    if let Err(e) = channel.join() {
                        problems.push(format!("join() in on_error: {e:?}"));
                    }
                    *other.borrow_mut() = Some(channel);
                }
                Err(e) => problems.push(format!("create_channel() in on_error: {e:?}")),
            })
            .forget();
    }

    chat.join()?;
    private.join()?;
    replies.wait("the reply to the request sent in on_join", 3_000, |r| !r.is_empty()).await?;
    ensure_eq!(replies.items(), vec![Ok(json!({"from": "on_join"}))], "reply");
    private.wait_state(ChannelState::Declined, 3_000).await?;
    let slot = other.clone();
    wait_until("the channel created in on_error", 2_000, move || slot.borrow().is_some(), || problems_of(&problems))
        .await?;
    let other_channel = other.borrow_mut().take().ok_or_else(|| Fail("no channel".into()))?;
    other_channel.wait_state(ChannelState::Joined, 5_000).await?;
    let echo = other_channel.send_for_response("echo", &obj(json!({"still": "fine"})), None).await?;
    ensure_eq!(val(&echo), json!({"still": "fine"}), "the client works after all that");
    ensure!(problems.items().is_empty(), "{}", problems_of(&problems));
    ensure!(client.errors.items().is_empty(), "errors: {:?}", client.errors.items());
    Ok(())
}

fn problems_of(problems: &Log<String>) -> String {
    format!("problems: {:?}", problems.items())
}

// ----- scale -----

#[wasm_bindgen_test]
async fn one_hundred_fifty_channels_on_one_client() -> TestResult {
    const COUNT: usize = 150;
    let client = TestClient::connected(quick_options()).await?;
    let prefix = unique("/chat/many");
    let channels: Vec<TestChannel> =
        (0..COUNT).map(|i| client.channel(&format!("{prefix}-{i}"), json!({"i": i}))).collect::<Result<_, _>>()?;
    for channel in &channels {
        channel.join()?;
    }
    let states: Vec<_> = channels.iter().map(|c| c.channel.clone()).collect();
    wait_until(
        "150 channels JOINED",
        10_000,
        || states.iter().all(|c| c.state() == ChannelState::Joined),
        || {
            let joined = states.iter().filter(|c| c.state() == ChannelState::Joined).count();
            format!(
                "{joined} joined; others: {:?}",
                states.iter().map(|c| c.state()).filter(|s| *s != ChannelState::Joined).collect::<Vec<_>>()
            )
        },
    )
    .await?;

    let replies: Vec<_> = channels
        .iter()
        .enumerate()
        .map(|(i, c)| c.send_for_response("echo", &obj(json!({"i": i, "name": c.name()})), Some(10_000)))
        .collect();
    for ((i, reply), channel) in replies.into_iter().enumerate().zip(&channels) {
        let reply = with_timeout("an echo", 10_000, reply).await??;
        ensure_eq!(val(&reply), json!({"i": i, "name": channel.name()}), "echo on channel {i}");
    }
    ensure!(channels.iter().all(|c| c.messages.len() == 0), "no stray messages");
    ensure!(client.errors.items().is_empty(), "errors: {:?}", client.errors.items());
    Ok(())
}

// ----- server restart -----

#[wasm_bindgen_test]
async fn server_restart_stalls_then_rejoins() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/restart"), json!({"name": "ann"})).await?;
    chat.send_for_response("echo", &JsonObject::empty(), None).await?;

    let restart = control_start("/restart?downMs=300")?;
    chat.wait_state(ChannelState::Stalled, 5_000).await?;
    ensure_ne_connected(&client)?;
    // Sent while STALLED: queued, then delivered after the rejoin.
    let queued_reply = chat.send_for_response("echo", &obj(json!({"while": "stalled"})), Some(10_000));
    chat.send_message("broadcast", &obj(json!({"while": "stalled"})))?;
    let info = control_done(restart, 15_000).await?;
    ensure_eq!(info["running"], json!(true), "the supervisor's answer: {info}");

    chat.wait_state(ChannelState::Joined, 10_000).await?;
    let states = chat.states.items();
    ensure_eq!(
        states[states.len() - 2..].to_vec(),
        vec![ChannelState::Stalled, ChannelState::Joined],
        "channel states {states:?}"
    );
    let reply = with_timeout("the request sent while stalled", 10_000, queued_reply).await??;
    ensure_eq!(val(&reply), json!({"while": "stalled"}), "the reply to the request sent while stalled");
    chat.messages.wait("the broadcast sent while stalled", 3_000, |m| !m.is_empty()).await?;
    ensure_eq!(chat.message_payloads(), vec![json!({"while": "stalled"})], "messages after the rejoin");
    let echo = chat.send_for_response("echo", &obj(json!({"after": "restart"})), None).await?;
    ensure_eq!(val(&echo), json!({"after": "restart"}), "echo after the rejoin");

    let connection = client.states.items();
    let last_connected = connection.iter().rposition(|s| *s == ConnectionState::Connected);
    ensure!(
        connection.iter().filter(|s| **s == ConnectionState::Connected).count() == 2
            && last_connected == Some(connection.len() - 1),
        "connection states {connection:?}"
    );
    ensure!(!client.reconnects.items().is_empty(), "no reconnect was scheduled");
    ensure!(names(&chat.presence()) == vec!["ann".to_owned()], "presence after the rejoin: {:?}", chat.presence());
    Ok(())
}

fn ensure_ne_connected(client: &TestClient) -> TestResult {
    ensure!(client.state() != ConnectionState::Connected, "still connected while the channel is STALLED");
    Ok(())
}

// ----- two servers -----

/// One page, two clients, each on a different server implementation at once: nothing is shared between clients.
#[wasm_bindgen_test]
async fn two_clients_on_two_servers_at_once() -> TestResult {
    let other_url = option_env!("PONDSOCKET_OTHER_URL")
        .ok_or_else(|| Fail("PONDSOCKET_OTHER_URL is not set: run through scripts/test-browser.sh".into()))?;
    let here = TestClient::connected(quick_options()).await?;
    let there = TestClient::new(other_url, &[("token", "good")], quick_options())?;
    there.connect();
    there.wait_connected().await?;
    let room = unique("/chat/two-servers");
    let (a, b) =
        (here.joined(&room, json!({"name": "here"})).await?, there.joined(&room, json!({"name": "there"})).await?);
    // The same room name on two servers is two rooms: each sees only itself.
    a.users.wait("this server's presence", 5_000, |u| !u.is_empty()).await?;
    b.users.wait("the other server's presence", 5_000, |u| !u.is_empty()).await?;
    ensure_eq!(names(&a.presence()), vec!["here".to_owned()], "presence on this server");
    ensure_eq!(names(&b.presence()), vec!["there".to_owned()], "presence on the other server");
    // Both requests are in flight at once before either is awaited.
    let (here_reply, there_reply) = (
        a.send_for_response("echo", &obj(json!({"from": "here"})), None),
        b.send_for_response("echo", &obj(json!({"from": "there"})), None),
    );
    ensure_eq!(val(&there_reply.await?), json!({"from": "there"}), "reply from the other server");
    ensure_eq!(val(&here_reply.await?), json!({"from": "here"}), "reply from this server");
    a.send_message("broadcast", &obj(json!({"n": 1})))?;
    b.send_message("broadcast", &obj(json!({"n": 2})))?;
    a.messages.wait("its own broadcast", 5_000, |m| !m.is_empty()).await?;
    b.messages.wait("its own broadcast", 5_000, |m| !m.is_empty()).await?;
    ensure_eq!(a.message_payloads(), vec![json!({"n": 1})], "this server's room");
    ensure_eq!(b.message_payloads(), vec![json!({"n": 2})], "the other server's room");
    there.disconnect();
    ensure_eq!(here.state(), ConnectionState::Connected, "disconnecting one client leaves the other");
    ensure_eq!(
        val(&a.send_for_response("echo", &obj(json!({"still": true})), None).await?),
        json!({"still": true}),
        "still"
    );
    Ok(())
}

/// RAII: dropping a subscription removes its listener; `forget()` keeps it.
#[wasm_bindgen_test]
async fn a_dropped_subscription_hears_nothing_more() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/raii-sub"), json!({})).await?;
    let (dropped, kept) = (Log::new(), Log::new());
    let sink = dropped.clone();
    let subscription = chat.on_message_event("message", move |p| sink.push(val(p)));
    let sink = kept.clone();
    chat.on_message_event("message", move |p| sink.push(val(p))).forget();
    chat.send_message("broadcast", &obj(json!({"m": 1})))?;
    kept.wait("m=1", 2_000, |m| m.len() == 1).await?;
    drop(subscription);
    chat.send_message("broadcast", &obj(json!({"m": 2})))?;
    kept.wait("m=2", 2_000, |m| m.len() == 2).await?;
    ensure_eq!(dropped.items(), vec![json!({"m": 1})], "nothing after the drop");
    Ok(())
}

/// RAII: dropping a request's future gives it up at once; its late reply is dropped, not delivered.
#[wasm_bindgen_test]
async fn a_dropped_future_cancels_its_request() -> TestResult {
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/raii-future"), json!({})).await?;
    let heard = Log::new();
    let sink = heard.clone();
    chat.on_message(move |event, _| sink.push(event.to_owned())).forget();
    let (_, before, _) = client.counts();
    let future = chat.send_for_response("late", &obj(json!({"delayMs": 200})), None);
    ensure_eq!(client.counts().1, before + 1, "pending while the future lives");
    drop(future);
    ensure_eq!(client.counts().1, before, "freed at once");
    // A later request's reply comes after the dropped one's: by then the late reply has been dropped.
    let echo = chat.send_for_response("late", &obj(json!({"delayMs": 400})), None).await?;
    ensure_eq!(val(&echo), json!({"delayMs": 400}), "the next request");
    ensure_eq!(heard.items(), Vec::<String>::new(), "the dropped request's reply was not delivered");
    Ok(())
}

/// RAII: dropping the last handle of a client disconnects it; the others in the room see it leave.
#[wasm_bindgen_test]
async fn a_dropped_client_disconnects() -> TestResult {
    let room = unique("/chat/raii-client");
    let watcher = TestClient::connected(quick_options()).await?;
    let watching = watcher.joined(&room, json!({"name": "watcher"})).await?;
    let states = Log::new();
    {
        let client = pondsocket_web::Client::new(ws_url()?, &[("token", "good")], quick_options())?;
        let sink = states.clone();
        client.on_connection_change(move |s| sink.push(s)).forget();
        client.connect();
        let channel = client.create_channel(&room, &obj(json!({"name": "dropped"})))?;
        // A listener that reaches the client through a weak handle does not keep it alive.
        let weak = client.downgrade();
        channel
            .on_users_change(move |_| {
                let _ = weak.upgrade().map(|c| c.state());
            })
            .forget();
        channel.join()?;
        watching.users.wait("two present", 5_000, |u| u.last().is_some_and(|u| u.len() == 2)).await?;
        // `client` and `channel` go out of scope here: the last handles.
    }
    ensure_eq!(states.last(), Some(ConnectionState::Disconnected), "disconnected by the drop");
    watching.users.wait("the dropped one left", 5_000, |u| u.last().is_some_and(|u| u.len() == 1)).await?;
    Ok(())
}

/// A listener whose drop calls back into the client, dropped by unsubscribing: no borrow of ours is held then.
#[wasm_bindgen_test]
async fn a_listener_dropped_by_unsubscribing_may_call_the_client() -> TestResult {
    struct CallsBack(pondsocket_web::Client, Log<ConnectionState>);
    impl Drop for CallsBack {
        fn drop(&mut self) {
            self.1.push(self.0.state());
            let _ = self.0.create_channel("/chat/from-a-drop", &JsonObject::empty());
        }
    }
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/raii-drop"), json!({})).await?;
    let seen = Log::new();
    let owned = CallsBack((*client).clone(), seen.clone());
    let subscription = chat.on_message(move |_, _| {
        let _ = &owned;
    });
    subscription.unsubscribe();
    ensure_eq!(seen.items(), vec![ConnectionState::Connected], "the listener's drop ran and read the client");
    Ok(())
}

/// Typed payloads both ways: a `Serialize` value sent, replies and messages decoded; a payload of another shape is
/// reported through `on_error` and not delivered.
#[wasm_bindgen_test]
async fn typed_payloads_both_ways_and_decode_failures_reported() -> TestResult {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
    struct Note {
        text: String,
        n: u32,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Other {
        #[allow(dead_code)]
        missing: bool,
    }
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/typed"), json!({})).await?;
    let note = Note { text: "hi".into(), n: 1 };
    let echoed: Note = chat.request("echo", &note, None).await?;
    ensure_eq!(echoed, note, "a typed request and reply");
    let heard: Log<Note> = Log::new();
    let sink = heard.clone();
    chat.on::<Note>("message", move |n| sink.push(n)).forget();
    let wrong: Log<String> = Log::new();
    let sink = wrong.clone();
    chat.on::<Other>("message", move |_| sink.push("decoded".into())).forget();
    chat.send("broadcast", &Note { text: "all".into(), n: 2 })?;
    heard.wait("the typed broadcast", 2_000, |n| n.len() == 1).await?;
    ensure_eq!(heard.items()[0], Note { text: "all".into(), n: 2 }, "a typed message");
    client
        .errors
        .wait("the decode failure", 2_000, |e| {
            e.iter().any(|e| matches!(e, Error::Decode { event, .. } if event == "message"))
        })
        .await?;
    ensure!(wrong.items().is_empty(), "a payload of another shape is not delivered");
    let failed = chat.request::<Other, _>("echo", &note, None).await;
    ensure!(matches!(failed, Err(Error::Decode { .. })), "a reply of another shape: {failed:?}");
    ensure!(matches!(chat.send("message", &42), Err(Error::InvalidArgument { .. })), "a payload that is not an object");
    Ok(())
}

/// A channel's messages as a stream: bounded (the oldest waiting item dropped and counted), ending with the channel.
#[wasm_bindgen_test]
async fn messages_as_a_bounded_stream_that_ends_with_the_channel() -> TestResult {
    use futures_core::Stream;
    use std::pin::Pin;
    async fn next<T>(stream: &mut pondsocket_web::MessageStream<T>) -> Option<T> {
        std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
    }
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/stream"), json!({})).await?;
    let mut stream = chat.messages::<Value>("message", 2);
    let arrived = Log::new();
    let sink = arrived.clone();
    chat.on::<Value>("message", move |m| sink.push(m)).forget();
    for n in 0..5 {
        chat.send("broadcast", &json!({ "n": n }))?;
    }
    // Nothing polls the stream meanwhile: all five wait there, or were dropped.
    arrived.wait("five broadcasts", 5_000, |m| m.len() == 5).await?;
    ensure_eq!(stream.dropped(), 3, "beyond two waiting, the oldest went");
    ensure_eq!(next(&mut stream).await, Some(json!({"n": 3})), "the newest two");
    ensure_eq!(next(&mut stream).await, Some(json!({"n": 4})), "the newest two");
    chat.leave();
    ensure_eq!(next(&mut stream).await, None, "ended with the channel");
    let mut states = client.states();
    ensure_eq!(next(&mut states).await, Some(ConnectionState::Connected), "the state at once");
    Ok(())
}

/// A Rust params function: called before every attempt (a refreshed token is used at the next connection); an `Err`
/// is a failed attempt reported through `on_error`, then the next attempt asks again.
#[wasm_bindgen_test]
async fn a_rust_params_function_is_called_before_every_attempt() -> TestResult {
    use std::cell::Cell;
    let calls = Rc::new(Cell::new(0u32));
    let counter = calls.clone();
    let options = Options { transport: transport(), ..quick_options() };
    let client = pondsocket_web::Client::with_params_fn(
        &[ws_url()?],
        move || {
            let n = counter.get() + 1;
            counter.set(n);
            async move {
                if n == 1 {
                    Err("the token service is down".to_owned())
                } else {
                    Ok(vec![("token".to_owned(), "good".to_owned())])
                }
            }
        },
        options,
    )?;
    let (states, errors) = (Log::new(), Log::new());
    let sink = states.clone();
    client.on_connection_change(move |s| sink.push(s)).forget();
    let sink = errors.clone();
    client.on_error(move |e| sink.push(e.to_string())).forget();
    client.connect();
    states.wait_for("connected", 5_000, ConnectionState::Connected).await?;
    ensure_eq!(calls.get(), 2, "once per attempt");
    ensure!(
        errors.items().iter().any(|e| e.contains("token service is down")),
        "the failure reported: {:?}",
        errors.items()
    );
    client.disconnect();
    client.connect();
    states
        .wait("connected again", 5_000, |s| s.iter().filter(|s| **s == ConnectionState::Connected).count() == 2)
        .await?;
    ensure_eq!(calls.get(), 3, "asked again for the next connection");
    client.disconnect();
    Ok(())
}

/// A waker that calls back into the client from `wake` (as an executor that polls inside `wake` would): the reply is
/// handed over with nothing of ours borrowed.
#[wasm_bindgen_test]
async fn a_waker_may_call_the_client_from_wake() -> TestResult {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
    thread_local! {
        static ON_WAKE: RefCell<Option<Box<dyn Fn()>>> = RefCell::new(None);
    }
    fn raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            raw()
        }
        fn wake(_: *const ()) {
            ON_WAKE.with(|f| {
                if let Some(f) = f.borrow().as_ref() {
                    f()
                }
            })
        }
        fn drop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    let client = TestClient::connected(quick_options()).await?;
    let chat = client.joined(&unique("/chat/waker"), json!({})).await?;
    let woken = Log::new();
    let (inside, sink) = ((*client).clone(), woken.clone());
    let probe = (*chat).clone();
    ON_WAKE.with(|f| {
        *f.borrow_mut() = Some(Box::new(move || {
            // Calls that borrow the runtime, from inside wake: a panic here would be a BorrowMutError.
            sink.push(inside.state());
            let _ = probe.send_message("broadcast", &JsonObject::empty());
        }))
    });
    // SAFETY: the vtable's functions ignore the data pointer, which is null.
    let waker = unsafe { Waker::from_raw(raw()) };
    let mut future = chat.send_for_response("echo", &obj(json!({"w": 1})), None);
    let mut cx = Context::from_waker(&waker);
    ensure!(Pin::new(&mut future).poll(&mut cx).is_pending(), "pending before the reply");
    woken.wait("the wake", 5_000, |w| !w.is_empty()).await?;
    ON_WAKE.with(|f| *f.borrow_mut() = None);
    ensure_eq!(woken.items(), vec![ConnectionState::Connected], "the waker read the client");
    match Pin::new(&mut future).poll(&mut cx) {
        Poll::Ready(Ok(reply)) => ensure_eq!(val(&reply), json!({"w": 1}), "the reply"),
        other => return Err(Fail(format!("not ready after the wake: {other:?}"))),
    }
    Ok(())
}
