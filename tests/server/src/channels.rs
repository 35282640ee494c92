//! PondSocket side of the test server: connection auth, the channel lobbies
//! and the `/chat/:room` event handlers.
//!
//! Handlers never panic on client input: malformed payloads get a reply with
//! event `error` and payload `{ "message": ... }` (correlated by requestId).

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use pondsocket::channel::EventHandler;
use pondsocket::errors::Result;
use pondsocket::{
    ConnectionContext, ConnectionHandler, Endpoint, Event, EventContext, JoinContext, JoinHandler,
    Options, PondSocket,
};
use pondsocket_common::{PondAssigns, uuid};
use serde_json::{Map, Value, json};

/// WebSocket endpoint path.
pub const SOCKET_PATH: &str = "/socket";

/// Tokens the connection handler accepts (`?token=...`).
const ACCEPTED_TOKENS: &[&str] = &["good", "demo"];

/// Upper bound for `late`'s `delayMs`.
const MAX_DELAY_MS: u64 = 60_000;
/// Upper bound for `flood`'s `count`.
const MAX_FLOOD_COUNT: u64 = 1_000_000;
/// Upper bound for `flood`'s `size` (bytes of `data` per message).
const MAX_FLOOD_SIZE: u64 = 1024 * 1024;

/// Events handled on `/chat/:room`. Each is registered explicitly so that any
/// other event name gets the library's own `NOT_FOUND` reply.
const CHAT_EVENTS: &[&str] = &[
    "echo",
    "ping",
    "late",
    "reply-as",
    "broadcast",
    "message",
    "broadcast-others",
    "status",
    "evict",
    "flood",
    "whoami",
];

/// Route-pattern events on `/chat/:room` (the library matches `:id` against
/// one segment of the event name, ignoring any `?query`).
const ITEM_PATTERN: &str = "item/:id";
const NOTE_PATTERN: &str = "note/:id";

/// Builds the PondSocket server with the `/socket` endpoint and its channels.
pub async fn build() -> Arc<PondSocket> {
    let options = Options {
        // The library delivers every broadcast recipient in a spawned task,
        // bounded by this semaphore. With more than one permit, two
        // broadcasts to the same client may overtake each other; a single
        // permit makes delivery order deterministic, which tests rely on.
        dispatch_concurrency: 1,
        ..Options::default()
    };
    let pond = PondSocket::new(options, None);
    let endpoint = pond.create_endpoint(SOCKET_PATH, TokenAuth).await;

    // Lobbies snapshot their handlers when a channel is first created, so all
    // handlers must be registered before the server starts accepting.
    let chat = endpoint.create_channel("/chat/:room", ChatJoin).await;
    let events = Arc::new(ChatEvents {
        // Weak: the endpoint owns the lobby that owns this handler.
        endpoint: Arc::downgrade(&endpoint),
    });
    for name in CHAT_EVENTS {
        chat.on_message(*name, SharedHandler(events.clone())).await;
    }
    chat.on_message(ITEM_PATTERN, ItemReply).await;
    chat.on_message(NOTE_PATTERN, NoteBroadcast).await;
    endpoint.create_channel("/private/:room", PrivateJoin).await;
    endpoint.create_channel("/silent/:room", SilentJoin).await;
    pond
}

/// Accepts connections whose `token` query parameter is one of
/// [`ACCEPTED_TOKENS`]; every other query parameter becomes a string assign.
struct TokenAuth;

#[async_trait]
impl ConnectionHandler for TokenAuth {
    async fn call(&self, ctx: &mut ConnectionContext) -> Result<()> {
        let token = ctx.request.query.get("token").map(String::as_str);
        if !token.is_some_and(|t| ACCEPTED_TOKENS.contains(&t)) {
            // Note: pondsocket-axum 0.1.4 does not transmit this code or
            // message; it completes the upgrade and sends a bare Close frame.
            return ctx.decline(401, "invalid or missing token");
        }
        let assigns: PondAssigns = ctx
            .request
            .query
            .iter()
            .filter(|(key, _)| key.as_str() != "token")
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect();
        ctx.accept(assigns)?;
        Ok(())
    }
}

/// `/chat/:room`: accept everyone; presence = join params + `id`.
struct ChatJoin;

#[async_trait]
impl JoinHandler for ChatJoin {
    async fn call(&self, ctx: &mut JoinContext) -> Result<()> {
        let mut presence = ctx.event.payload.as_object().cloned().unwrap_or_default();
        // Always the real connection id, so clients can find themselves in
        // presence lists even if they sent an `id` of their own.
        presence.insert("id".to_owned(), json!(ctx.transport.id()));
        ctx.accept(PondAssigns::new()).await?;
        ctx.track(Value::Object(presence)).await
    }
}

/// `/private/:room`: decline every join with 403 "private room".
struct PrivateJoin;

#[async_trait]
impl JoinHandler for PrivateJoin {
    async fn call(&self, ctx: &mut JoinContext) -> Result<()> {
        const CODE: u16 = 403;
        const MESSAGE: &str = "private room";
        // pondsocket 0.1.4 bug: `JoinContext::decline` sends UNAUTHORIZED via
        // `Channel::send_system`, which only delivers to channel *members* —
        // and a declined user never became one, so the frame is dropped.
        // Send the frame the protocol specifies straight to the transport...
        ctx.transport
            .send_event(Event::new(
                "SYSTEM",
                ctx.event.channel_name.clone(),
                ctx.event.request_id.clone(),
                "UNAUTHORIZED",
                json!({ "code": CODE, "message": MESSAGE }),
            ))
            .await?;
        // ...then still decline, so the library records the join as answered
        // (and does not fall back to its own 401 "did not respond" decline).
        ctx.decline(CODE, MESSAGE).await
    }
}

/// `/silent/:room`: never answer.
///
/// Returning without responding makes the library auto-decline with 401
/// "Join handler did not respond"; in pondsocket 0.1.4 that decline is dropped
/// for the reason described on [`PrivateJoin`], so the client observes no
/// reply at all and the connection stays fully usable. (Blocking here instead
/// would stall the whole connection: the adapter awaits each handler inline.)
struct SilentJoin;

#[async_trait]
impl JoinHandler for SilentJoin {
    async fn call(&self, _ctx: &mut JoinContext) -> Result<()> {
        Ok(())
    }
}

/// Adapter so one `Arc`'d handler can be registered under several names.
struct SharedHandler<H>(Arc<H>);

#[async_trait]
impl<H: EventHandler> EventHandler for SharedHandler<H> {
    async fn call(&self, ctx: &mut EventContext) -> Result<()> {
        self.0.call(ctx).await
    }
}

/// Handlers for the `/chat/:room` events listed in [`CHAT_EVENTS`].
struct ChatEvents {
    endpoint: Weak<Endpoint>,
}

#[async_trait]
impl EventHandler for ChatEvents {
    async fn call(&self, ctx: &mut EventContext) -> Result<()> {
        // Inbound payloads are always JSON objects (the parser rejects
        // anything else), but fields may be missing or of any type.
        let payload = ctx.event.payload.clone();
        let name = ctx.event.event.clone();
        match name.as_str() {
            "echo" => ctx.reply("echo", payload).await,
            "ping" => ctx.reply("pong", payload).await,
            "late" => late(ctx, payload).await,
            "reply-as" => match payload.get("event").and_then(Value::as_str) {
                Some(event) if !event.is_empty() => {
                    let event = event.to_owned();
                    ctx.reply(&event, json!({ "ok": true })).await
                }
                _ => reply_error(ctx, "reply-as: payload.event must be a non-empty string").await,
            },
            "broadcast" | "message" => ctx.broadcast("message", payload).await,
            "broadcast-others" => ctx.broadcast_from("message", payload).await,
            "status" => status(ctx, payload).await,
            "evict" => {
                let reason = payload
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("evicted by request");
                ctx.evict(reason, &[]).await
            }
            "flood" => self.flood(ctx, &payload).await,
            "whoami" => {
                let reply = json!({ "node": "rust", "id": ctx.user.id });
                ctx.reply("whoami", reply).await
            }
            other => reply_error(ctx, &format!("unhandled event {other}")).await,
        }
    }
}

impl ChatEvents {
    /// `flood {count, size?}`: `count` BROADCAST frames with event `flood`
    /// and payload `{i, data}` to the sender only, strictly in order.
    async fn flood(&self, ctx: &mut EventContext, payload: &Value) -> Result<()> {
        let Some(count) = non_negative_int(payload, "count") else {
            return reply_error(ctx, "flood: payload.count must be a non-negative number").await;
        };
        let size = match payload.get("size") {
            None | Some(Value::Null) => 0,
            Some(_) => match non_negative_int(payload, "size") {
                Some(size) => size.min(MAX_FLOOD_SIZE),
                None => {
                    return reply_error(ctx, "flood: payload.size must be a non-negative number")
                        .await;
                }
            },
        };
        // Sent straight to the sender's transport rather than through
        // `broadcast_to`: that path would add a `recipients` field and goes
        // through the channel's dispatch queue.
        let Some(transport) = self.endpoint.upgrade() else {
            return Ok(());
        };
        let Some(transport) = transport.get_transport(&ctx.user.id).await else {
            return Ok(());
        };
        let channel_name = ctx.channel.name.clone();
        let count = count.min(MAX_FLOOD_COUNT);
        // Spawned so a long flood does not hold up this connection's reader.
        tokio::spawn(async move {
            let data = "x".repeat(size as usize);
            for i in 0..count {
                let event = Event::new(
                    "BROADCAST",
                    channel_name.clone(),
                    uuid(),
                    "flood",
                    json!({ "i": i, "data": data }),
                );
                // Stop once the client is gone; its writer queue is bounded,
                // so this loop is back-pressured by the socket.
                if transport.send_event(event).await.is_err() || !transport.is_active().await {
                    break;
                }
            }
        });
        Ok(())
    }
}

/// `item/<id>[?query]`: reply with the event name as received and
/// `{id: <the segment, URI-decoded>, payload: <the payload>}`.
struct ItemReply;

#[async_trait]
impl EventHandler for ItemReply {
    async fn call(&self, ctx: &mut EventContext) -> Result<()> {
        let name = ctx.event.event.clone();
        // The route matched `item/:id`, so the segment is there. Not
        // `ctx.route.param("id")`: pondsocket 0.1.4 decodes it byte by byte
        // into Latin-1 chars (`caf%C3%A9` → "cafÃ©") and takes `%+a` for an
        // escape; decode it the way the Python server's library does.
        let id = route_segment(&name, 1).map(uri_decode).unwrap_or_default();
        let payload = json!({ "id": id, "payload": ctx.event.payload.clone() });
        ctx.reply(&name, payload).await
    }
}

/// `note/<id>[?query]`: `BROADCAST` to everyone incl. the sender, event =
/// the name as received up to any `?` (the id still encoded), followed by
/// `?` + `payload.query` when that is a string; payload unchanged.
struct NoteBroadcast;

#[async_trait]
impl EventHandler for NoteBroadcast {
    async fn call(&self, ctx: &mut EventContext) -> Result<()> {
        let payload = ctx.event.payload.clone();
        let path = ctx.event.event.split('?').next().unwrap_or_default();
        let name = match payload.get("query").and_then(Value::as_str) {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        ctx.broadcast(&name, payload).await
    }
}

/// Segment `index` of an event name's path part, split the way the
/// library's route parser splits it (`?query` dropped, empty segments
/// skipped), still encoded.
fn route_segment(event: &str, index: usize) -> Option<&str> {
    let path = event.split('?').next().unwrap_or_default();
    path.split('/').filter(|s| !s.is_empty()).nth(index)
}

/// URI-decodes like Python's `urllib.parse.unquote`: each `%` followed by
/// two hex digits is a byte, anything else stays as is, and the bytes are
/// read as UTF-8 with U+FFFD for invalid sequences. `+` stays `+`.
fn uri_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16)),
                bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `late {delayMs}`: reply `late` with the payload after the delay, without
/// blocking the connection (handlers are awaited inline by the adapter).
async fn late(ctx: &mut EventContext, payload: Value) -> Result<()> {
    let Some(delay) = non_negative_int(&payload, "delayMs") else {
        return reply_error(ctx, "late: payload.delayMs must be a non-negative number").await;
    };
    let delay = Duration::from_millis(delay.min(MAX_DELAY_MS));
    let channel = ctx.channel.clone();
    let user_id = ctx.user.id.clone();
    let request_id = ctx.event.request_id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        // Same frame `EventContext::reply` would produce. If the user left
        // meanwhile, the channel simply has nobody to deliver it to.
        let _ = channel
            .send_system("late", payload, &request_id, &[user_id])
            .await;
    });
    Ok(())
}

/// `status {...}`: shallow-merge the payload into the sender's presence.
async fn status(ctx: &mut EventContext, payload: Value) -> Result<()> {
    let mut presence: Map<String, Value> = ctx.user.presence.clone().unwrap_or_default();
    if let Value::Object(patch) = payload {
        presence.extend(patch);
    }
    presence.insert("id".to_owned(), json!(ctx.user.id));
    ctx.update_presence(Value::Object(presence)).await
}

/// Replies to the request with event `error` and `{ message }`.
async fn reply_error(ctx: &mut EventContext, message: &str) -> Result<()> {
    ctx.reply("error", json!({ "message": message })).await
}

/// Reads `payload[key]` as a non-negative integer; fractional numbers are
/// truncated. Anything else (missing, negative, string, ...) is `None`.
fn non_negative_int(payload: &Value, key: &str) -> Option<u64> {
    let value = payload.get(key)?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}
