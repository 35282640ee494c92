#!/usr/bin/env python3
"""pondsocket-python-test-server

A second, independent PondSocket test server for pondsocket-wasm's
integration tests, built on the upstream Python implementation (PyPI
``pondsocket`` 0.0.7 + ``pondsocket-asgi`` 0.0.6, served by ``uvicorn``). It
offers the same contract as the Rust test server (tests/server/src/main.rs);
where the *library* behaves differently, the library's behaviour is kept on
purpose (that is what this server is for). Those differences are listed in
tests/server-python/PROTOCOL-OBSERVED.md.

    python app.py [--port N] [--host 127.0.0.1] [--static DIR] [--verbose]
                  [--redis URL] [--node NAME] [--token-file PATH]

* ``--port`` defaults to 0 (OS-chosen). ``--host`` must be a loopback address.
* Once bound (and listening), exactly one line is printed to stdout and
  flushed: ``LISTENING http://127.0.0.1:<port>``. Diagnostics go to stderr
  (uvicorn's at level warning; ``--verbose`` for info).
* ``--static DIR`` serves DIR at ``/`` (``.wasm`` as ``application/wasm``,
  ``.js``/``.mjs`` as ``text/javascript``, ``Cache-Control: no-store``).
* ``GET /health`` answers ``ok``. SIGINT/SIGTERM: every socket gets a Close
  frame (uvicorn sends 1012 "service restart"), then the process exits 0.
* ``--redis URL`` (e.g. ``redis://127.0.0.1:6379``): this process is one node
  of a cluster. Every node started with the same Redis shares channels through
  Redis pub/sub (pondsocket's ``RedisPubSub``): broadcasts and presence
  reach the users connected to the other nodes. Redis is pinged once
  at start-up: unreachable -> message on stderr, exit 1 (no LISTENING line).
  Without it the server is standalone (in-process pub/sub), as before.
  scripts/cluster.sh starts Redis and several nodes. What pondsocket 0.0.7
  does across nodes (observed): a node's presence list holds the users of
  other nodes, but an entry learnt from a remote PRESENCE JOIN/UPDATE has no
  ``id`` (the library strips it; the frame's ``changed`` keeps it) until a
  state sync overwrites it; a remote LEAVE's ``changed`` is ``{userId}``; a
  channel's first presence list on a node may miss earlier users of other
  nodes. A node stopped by SIGTERM sends LEAVEs for its users; a node killed
  (SIGKILL) sends nothing: the others drop its users silently (no LEAVE),
  60 to 180 s later (heartbeat every 30 s, timeout 90 s, checked every 90 s).
  Redis itself holds no keys: pub/sub only. While Redis is down, nodes serve
  their own clients and lose what they publish; they resubscribe on its return.
* ``--node NAME``: the node's name, reported by the ``whoami`` event
  (default ``node-<port>``, the bound port). Only a label: the library's own
  node id (in Redis messages) is a fresh random one at every start.
* ``--token-file PATH``: the accepted token is the content of PATH (surrounding
  whitespace stripped), read at every connection attempt, so rewriting the
  file rotates it (a missing, unreadable or empty file accepts nobody).
  ``good``/``demo`` are then no longer accepted, unless the file holds them.

Endpoint ``/socket`` (WebSocket): accepted when the query has ``token=good``
or ``token=demo`` (with ``--token-file``: ``token=<the file's content>``); the
other query parameters become string assigns. Any other token: declined (401
"invalid or missing token"); pondsocket-asgi then refuses the upgrade, which
uvicorn answers with HTTP 403 (no WebSocket).

Channels:

  /chat/:room      accepted; presence tracked = join params + ``id`` (connection id)
  /private/:room   declined: SYSTEM/UNAUTHORIZED {code: 403, message: "private room"}
  /silent/:room    never answered
  anything else    SYSTEM/NOT_FOUND {channel} (from the library)

Events on ``/chat/:room`` (client BROADCAST with this event name); "reply" =
SYSTEM frame to the sender only, requestId = the request's:

  echo              any            reply ``echo``, same payload
  ping              any            reply ``pong``, same payload
  late              {delayMs}      reply ``late``, same payload, after delayMs (<= 60000)
  reply-as          {event}        reply with that event name, payload {ok: true}
  broadcast         any            BROADCAST ``message`` to everyone incl. sender
  message           any            same as ``broadcast``
  broadcast-others  any            BROADCAST ``message`` to everyone except the sender
  status            object         merge into sender's presence -> PRESENCE/UPDATE
  evict             {reason?}      SYSTEM/EVICTED {reason} (default "evicted by request")
  flood             {count, size?} ``count`` (<= 1e6) BROADCAST ``flood`` {i, data: "x"*size}
                                   (size <= 1 MiB) to the sender only, in order
  whoami            any            reply ``whoami``, {node: <--node NAME>, id: <connection id>}
  item/<id>         any            reply with the event name as received,
                                   payload {id: <id URI-decoded>, payload}
  note/<id>         any            BROADCAST to everyone incl. the sender, event ``note/<id>``
                                   (still encoded; a received ``?query`` dropped) +
                                   ``?<payload.query>`` when that is a string, same payload

``item/<id>`` and ``note/<id>`` are route patterns (``item/:id``,
``note/:id``): ``<id>`` is one URI-encoded segment, optionally followed by
``?query`` (e.g. ``item/a%20b?x=1`` -> id ``a b``), decoded by the library
(``urllib.parse.unquote``: UTF-8).

Server-Sent Events on the same endpoint (pondsocket-asgi): ``GET /socket`` with
``Accept: text/event-stream`` opens the stream, ``POST`` with header
``X-Connection-ID`` sends a message, ``DELETE`` ends the connection. Requests
with an ``Origin`` header get CORS as a deployment would set it: the caller's
origin echoed with credentials allowed, ``x-connection-id`` exposed, and the
``OPTIONS`` preflight of POST and DELETE answered here.

Malformed payloads (missing field, wrong type) get a reply with event
``error`` and ``{message}``. Unknown event names get no answer at all
(pondsocket 0.0.7 has no NOT_FOUND for unhandled events).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import math
import mimetypes
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from pondsocket import (
    ConnectionContext,
    Endpoint,
    Event,
    EventContext,
    JoinContext,
    Options,
    PondSocket,
)
from pondsocket.distributed.redis_pubsub import RedisPubSub
import pondsocket_asgi.transport
from pondsocket_asgi import PondASGIApp
from pondsocket_common import ValidationError, uuid
from redis import Redis as SyncRedis
from redis.asyncio import Redis

SOCKET_PATH = "/socket"
ACCEPTED_TOKENS = frozenset({"good", "demo"})

MAX_DELAY_MS = 60_000
MAX_FLOOD_COUNT = 1_000_000
MAX_FLOOD_SIZE = 1024 * 1024
# Frames a flood writes before yielding to the event loop. The WebSocket
# send only suspends once the transport buffer is over its high-water mark,
# so without this a flood to a fast reader would starve every other task.
FLOOD_YIELD_EVERY = 64

CHAT_EVENTS = (
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
)

# Route-pattern events on /chat/:room (the library matches ``:id`` against
# one segment of the event name, ignoring any ``?query``).
ITEM_PATTERN = "item/:id"
NOTE_PATTERN = "note/:id"

log = logging.getLogger("pondsocket-python-test-server")

# Background tasks (late replies, floods): referenced here so they are not
# garbage-collected while running.
_background: set[asyncio.Task[None]] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


# --------------------------------------------------------------------- payloads


def non_negative_int(payload: dict[str, Any], key: str) -> int | None:
    """``payload[key]`` as a non-negative integer (fractions truncated);
    None when missing, negative, not a number (bools are not numbers)."""
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value < 0:
        return None
    return int(value)


async def reply_error(ctx: EventContext, message: str) -> None:
    await ctx.reply("error", {"message": message})


# ------------------------------------------------------------------ connection


def read_token_file(path: Path) -> str | None:
    """The token in ``path`` (stripped); None when the file is missing,
    unreadable or empty."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("--token-file %s: %r", path, exc)
        return None
    return token or None


def make_token_auth(token_file: Path | None) -> Any:
    """The connection handler: tokens ``good``/``demo``, or, with
    ``token_file``, the file's content at the time of the attempt."""

    async def token_auth(ctx: ConnectionContext) -> None:
        token = ctx.query.get("token")
        if token_file is None:
            accepted = token in ACCEPTED_TOKENS
        else:
            expected = read_token_file(token_file)
            accepted = expected is not None and token == expected
        if not accepted:
            # pondsocket-asgi turns this into a `websocket.close` before accept
            # (close code 4401), which uvicorn answers with a plain HTTP 403.
            ctx.decline(401, "invalid or missing token")
            return
        ctx.accept(**{k: v for k, v in ctx.query.items() if k != "token"})

    return token_auth


# ------------------------------------------------------------------------ joins


async def chat_join(ctx: JoinContext) -> None:
    presence = dict(ctx.join_params)
    # Always the real connection id, so clients can find themselves in
    # presence lists even if they sent an `id` of their own.
    presence["id"] = ctx.transport.get_id()
    await ctx.accept()
    await ctx.track(presence)


async def private_join(ctx: JoinContext) -> None:
    # pondsocket 0.0.7 sends this UNAUTHORIZED frame straight to the
    # transport (unlike pondsocket-rs 0.1.4, whose decline is dropped).
    await ctx.decline(403, "private room")


_CAN_MARK_ANSWERED = "_responded" in getattr(JoinContext, "__slots__", ())


async def silent_join(ctx: JoinContext) -> None:
    # pondsocket 0.0.7 declines (UNAUTHORIZED 401 "Join handler did not
    # respond") every join whose handler returns without answering, and it
    # awaits join handlers inline on the connection's reader, so blocking
    # here would stall the whole connection. Mark the request as answered
    # without answering it: the library then sends nothing and, the channel
    # being empty, closes it again.
    if _CAN_MARK_ANSWERED:
        ctx._responded = True  # noqa: SLF001 - see above
    else:  # pragma: no cover - only with another pondsocket version
        log.warning("cannot keep /silent joins unanswered with this pondsocket version")


# ----------------------------------------------------------------- chat events


class ChatEvents:
    """Handlers for the events in CHAT_EVENTS on /chat/:room."""

    def __init__(self, endpoint: Endpoint, node_name: str) -> None:
        self._endpoint = endpoint
        self._node_name = node_name
        self._by_name = {
            "echo": self.echo,
            "ping": self.ping,
            "late": self.late,
            "reply-as": self.reply_as,
            "broadcast": self.broadcast,
            "message": self.broadcast,
            "broadcast-others": self.broadcast_others,
            "status": self.status,
            "evict": self.evict,
            "flood": self.flood,
            "whoami": self.whoami,
        }

    async def __call__(self, ctx: EventContext) -> None:
        await self._run(ctx, self._by_name.get(ctx.event_name))

    async def on_item(self, ctx: EventContext) -> None:
        """Registered under ITEM_PATTERN."""
        await self._run(ctx, self.item)

    async def on_note(self, ctx: EventContext) -> None:
        """Registered under NOTE_PATTERN."""
        await self._run(ctx, self.note)

    async def _run(self, ctx: EventContext, handler: Any) -> None:
        # Inbound payloads are always JSON objects (the library's parser
        # rejects anything else), but fields may be missing or of any type.
        # An exception escaping a handler is swallowed by the library
        # without any frame; answer with `error` instead.
        try:
            if handler is None:
                await reply_error(ctx, f"unhandled event {ctx.event_name}")
            else:
                await handler(ctx, ctx.get_payload())
        except Exception as exc:  # noqa: BLE001 - never let client input kill a handler
            log.warning("handler %r failed: %r", ctx.event_name, exc)
            try:
                await reply_error(ctx, f"{ctx.event_name}: {exc}")
            except Exception:  # noqa: BLE001
                pass

    async def echo(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        await ctx.reply("echo", payload)

    async def ping(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        await ctx.reply("pong", payload)

    async def whoami(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        await ctx.reply("whoami", {"node": self._node_name, "id": ctx.user.id})

    async def item(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        # route.params holds the segment already decoded (urllib's unquote).
        await ctx.reply(ctx.event_name, {"id": ctx.route.param("id"), "payload": payload})

    async def note(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        name = ctx.event_name.partition("?")[0]
        query = payload.get("query")
        if isinstance(query, str):
            name = f"{name}?{query}"
        await ctx.broadcast(name, payload)

    async def late(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        delay = non_negative_int(payload, "delayMs")
        if delay is None:
            await reply_error(ctx, "late: payload.delayMs must be a non-negative number")
            return
        delay = min(delay, MAX_DELAY_MS)
        channel = ctx.channel
        user_id = ctx.user.id
        request_id = ctx.request_id

        async def later() -> None:
            await asyncio.sleep(delay / 1000)
            # The frame EventContext.reply would produce. If the user left
            # meanwhile, the channel simply has nobody to deliver it to.
            try:
                await channel.send_system("late", payload, request_id=request_id, user_ids=[user_id])
            except Exception as exc:  # noqa: BLE001
                log.warning("late reply failed: %r", exc)

        # Handlers are awaited inline on the connection's reader: do not block it.
        _spawn(later())

    async def reply_as(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        event = payload.get("event")
        if not isinstance(event, str) or not event:
            await reply_error(ctx, "reply-as: payload.event must be a non-empty string")
            return
        await ctx.reply(event, {"ok": True})

    async def broadcast(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        await ctx.broadcast("message", payload)

    async def broadcast_others(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        await ctx.broadcast_from("message", payload)

    async def status(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        presence = dict(ctx.user.presence or {})
        presence.update(payload)
        presence["id"] = ctx.user.id
        if ctx.user.presence is None:
            await ctx.track(presence)
        else:
            await ctx.update_presence(presence)

    async def evict(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        reason = payload.get("reason")
        if not isinstance(reason, str):
            reason = "evicted by request"
        await ctx.evict(reason)

    async def flood(self, ctx: EventContext, payload: dict[str, Any]) -> None:
        count = non_negative_int(payload, "count")
        if count is None:
            await reply_error(ctx, "flood: payload.count must be a non-negative number")
            return
        if payload.get("size") is None:
            size = 0
        else:
            size = non_negative_int(payload, "size")
            if size is None:
                await reply_error(ctx, "flood: payload.size must be a non-negative number")
                return
            size = min(size, MAX_FLOOD_SIZE)
        count = min(count, MAX_FLOOD_COUNT)
        # Written straight to the sender's transport (not through the
        # channel's dispatch queue), in a task so a long flood does not hold
        # up this connection's reader.
        transport = await self._endpoint.get_transport(ctx.user.id)
        if transport is None:
            return
        _spawn(_run_flood(transport, ctx.channel.name, count, size))


async def _run_flood(transport: Any, channel_name: str, count: int, size: int) -> None:
    data = "x" * size
    for i in range(count):
        if not transport.is_active():
            return
        event = Event(
            action="BROADCAST",
            channel_name=channel_name,
            request_id=uuid(),
            event="flood",
            payload={"i": i, "data": data},
        )
        try:
            # Back-pressured: suspends while uvicorn's write buffer is full.
            await transport.send_event(event)
        except Exception:  # noqa: BLE001 - client gone
            return
        if i % FLOOD_YIELD_EVERY == FLOOD_YIELD_EVERY - 1:
            await asyncio.sleep(0)


# ------------------------------------------------------------ library patch


def _patch_inbound_parser() -> None:
    """pondsocket 0.0.7 bug: a frame whose ``event``, ``channelName`` or
    ``requestId`` is an empty string passes validation, then ``Event()``
    raises ValueError, which only ValidationError is caught for: the
    connection's reader task dies silently (socket open, nothing processed
    any more, the ASGI task hangs until shutdown). Turn it into the
    ValidationError the adapter already answers with ERROR/INVALID_MESSAGE.
    """
    original = pondsocket_asgi.transport.parse_inbound_text

    def parse_inbound_text(text: str) -> Event:
        try:
            return original(text)
        except ValueError as exc:  # pondsocket's ValidationError is not one
            raise ValidationError(str(exc), "wireMessage") from exc

    pondsocket_asgi.transport.parse_inbound_text = parse_inbound_text


# ------------------------------------------------------------------- the pond


def build_pond(node_name: str, redis_url: str | None = None, token_file: Path | None = None) -> PondSocket:
    _patch_inbound_parser()
    if redis_url is None:
        pond = PondSocket(options=Options())
    else:
        # RedisPubSub wants an asyncio client that returns bytes (the
        # default, decode_responses=False). It connects lazily, on the
        # event loop of the first channel that subscribes.
        pubsub = RedisPubSub(Redis.from_url(redis_url), owns_client=True)
        pond = PondSocket(options=Options(), pubsub=pubsub)
    endpoint = pond.create_endpoint(SOCKET_PATH, make_token_auth(token_file))
    chat = endpoint.create_channel("/chat/:room", chat_join)
    events = ChatEvents(endpoint, node_name)
    # One registration per name: any other event name is left to the
    # library (which, in 0.0.7, answers nothing).
    for name in CHAT_EVENTS:
        chat.on_message(name, events)
    chat.on_message(ITEM_PATTERN, events.on_item)
    chat.on_message(NOTE_PATTERN, events.on_note)
    endpoint.create_channel("/private/:room", private_join)
    endpoint.create_channel("/silent/:room", silent_join)
    return pond


# ----------------------------------------------------------------- HTTP side

_FORCED_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
}


async def _respond(send: Any, status: int, body: bytes, content_type: str, head: bool = False) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


class App:
    """ASGI app: /health, optional static files, everything else (WebSocket
    and SSE on /socket, lifespan) to pondsocket-asgi."""

    def __init__(self, pond: PondSocket, static_dir: Path | None) -> None:
        self.pond_app = PondASGIApp(pond)
        self.static_dir = static_dir.resolve() if static_dir else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            method = scope.get("method", "")
            if path == "/health" and method in ("GET", "HEAD"):
                await _respond(send, 200, b"ok", "text/plain; charset=utf-8", method == "HEAD")
                return
            if self.static_dir is not None and path != SOCKET_PATH and method in ("GET", "HEAD"):
                await self._static(path, send, head=method == "HEAD")
                return
            origin = _header(scope, b"origin")
            if path == SOCKET_PATH and origin is not None:
                await self._cross_origin(origin, scope, receive, send)
                return
        await self.pond_app(scope, receive, send)

    async def _cross_origin(self, origin: bytes, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """CORS for SSE from pages of other origins, as a deployment would set it up: the preflight of POST and
        DELETE (which carry x-connection-id) answered here; every answer names the caller's origin (echoed, not
        `*`, so that `withCredentials` works), allows credentials, and exposes x-connection-id."""
        allow = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"origin"),
        ]
        if scope.get("method") == "OPTIONS":
            preflight = allow + [
                (b"access-control-allow-methods", b"GET, POST, DELETE"),
                (b"access-control-allow-headers", b"content-type, x-connection-id"),
                (b"access-control-max-age", b"600"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": preflight})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + allow
                headers.append((b"access-control-expose-headers", b"x-connection-id"))
                message = {**message, "headers": headers}
            await send(message)

        await self.pond_app(scope, receive, send_with_cors)

    async def _static(self, url_path: str, send: Any, head: bool) -> None:
        assert self.static_dir is not None
        rel = url_path.lstrip("/")
        target = (self.static_dir / rel).resolve()
        if target != self.static_dir and self.static_dir not in target.parents:
            await _respond(send, 404, b"not found", "text/plain; charset=utf-8", head)
            return
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            await _respond(send, 404, b"not found", "text/plain; charset=utf-8", head)
            return
        body = await asyncio.to_thread(target.read_bytes)
        content_type = _FORCED_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        await _respond(send, 200, body, content_type, head)


# ---------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="PondSocket test server on the upstream Python implementation.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = OS-chosen)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--static", type=Path, default=None, metavar="DIR", help="serve DIR at /")
    parser.add_argument("--verbose", action="store_true", help="uvicorn logs at level info")
    parser.add_argument(
        "--redis", default=None, metavar="URL", help="join the cluster whose pub/sub is this Redis (redis://host:port)"
    )
    parser.add_argument("--node", default=None, metavar="NAME", help="node name for whoami (default node-<port>)")
    parser.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="accept only token=<PATH's content>, read at every connection",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"invalid port {args.port}")
    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        parser.error(f"invalid host {args.host!r}")
    if not ip.is_loopback:
        parser.error(f"refusing to bind non-loopback address {ip}")
    args.ip = ip
    if args.static is not None and not args.static.is_dir():
        parser.error(f"--static {args.static}: not a directory")
    if args.node is not None and not args.node:
        parser.error("--node: empty name")
    return args


def check_redis(url: str) -> str | None:
    """None when Redis at ``url`` answers PING, else the reason."""
    try:
        client = SyncRedis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    except ValueError as exc:
        return f"invalid URL: {exc}"
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no cluster
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None


def bind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> socket.socket:
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # Like tokio's TcpListener: rebinding right after a kill (TIME_WAIT) works.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((str(ip), port))
    # Listen now, so connections made right after the LISTENING line wait in
    # the backlog instead of being refused while uvicorn starts up.
    sock.listen(1024)
    sock.set_inheritable(False)
    return sock


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])

    if args.redis is not None:
        problem = check_redis(args.redis)
        if problem is not None:
            print(f"pondsocket-python-test-server: --redis {args.redis}: {problem}", file=sys.stderr)
            return 1

    try:
        sock = bind(args.ip, args.port)
    except OSError as exc:
        print(f"pondsocket-python-test-server: bind {args.ip}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    node_name = args.node if args.node is not None else f"node-{port}"

    config = uvicorn.Config(
        App(build_pond(node_name, args.redis, args.token_file), args.static),
        # Explicit choices, so behaviour does not depend on what else is installed.
        loop="asyncio",
        http="h11",
        ws="websockets-sansio",
        lifespan="on",
        # The library's own limit (Options.max_message_size, 1 MiB); uvicorn's
        # default would be 16 MiB.
        ws_max_size=Options().max_message_size,
        # Like the Rust server (tungstenite has no permessage-deflate); it
        # also makes floods several times faster.
        ws_per_message_deflate=False,
        log_config=None,  # keep the logging set up above (stderr only)
        log_level=level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)

    # A signal arriving before uvicorn installs its own handlers (or after it
    # restores ours and re-raises the signal it caught) must just stop it.
    def request_exit(_sig: int, _frame: Any) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, request_exit)
    signal.signal(signal.SIGINT, request_exit)

    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(f"LISTENING http://{shown}:{port}\n")
    sys.stdout.flush()

    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
