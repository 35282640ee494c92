#!/usr/bin/env python3
"""Hand smoke check: start the test server, drive it with raw WebSocket
clients and print every frame the server sends, verbatim.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install websockets
    cargo build --release --manifest-path tests/server/Cargo.toml
    /tmp/venv/bin/python tests/server/smoke/observe.py [path/to/binary]

Used to produce PROTOCOL-OBSERVED.md. Not part of any automated test run.
"""
import asyncio
import json
import os
import signal
import sys
import time
import uuid

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "target", "release", "pondsocket-test-server")
QUIET = 0.4  # seconds of silence that end a "drain"


def section(title):
    print(f"\n### {title}\n")


def show(who, direction, text):
    print(f"{who} {direction} {text}")


async def drain(who, ws, quiet=QUIET):
    """Print frames until `quiet` seconds pass without one."""
    frames = []
    while True:
        try:
            text = await asyncio.wait_for(ws.recv(), quiet)
        except asyncio.TimeoutError:
            break
        except websockets.ConnectionClosed as exc:
            show(who, "<<", f"(connection closed: rcvd={exc.rcvd!r})")
            break
        show(who, "<<", text)
        frames.append(json.loads(text))
    if not frames:
        show(who, "<<", "(nothing)")
    return frames


async def send(who, ws, action, channel, event, payload, raw=None):
    msg = raw if raw is not None else json.dumps({
        "action": action, "event": event, "channelName": channel,
        "requestId": str(uuid.uuid4()), "payload": payload,
    })
    show(who, ">>", msg)
    await ws.send(msg)


async def bad_connect(url):
    try:
        ws = await websockets.connect(url)
    except Exception as exc:  # handshake refused
        print(f"handshake failed: {exc!r}")
        return
    print(f"HTTP status: {ws.response.status_code} {ws.response.reason_phrase}")
    try:
        text = await asyncio.wait_for(ws.recv(), 2)
        print(f"frame: {text}")
    except websockets.ConnectionClosed as exc:
        print(f"closed by server: close frame rcvd={exc.rcvd!r} (code {ws.close_code})")
    except asyncio.TimeoutError:
        print("no frame and no close within 2s")


async def main():
    proc = await asyncio.create_subprocess_exec(
        BINARY, stdout=asyncio.subprocess.PIPE)
    line = (await proc.stdout.readline()).decode().strip()
    print(f"server stdout: {line!r}")
    base = line.removeprefix("LISTENING ").replace("http://", "ws://")

    section("connect, bad token (token=bad)")
    await bad_connect(f"{base}/socket?token=bad")
    section("connect, missing token")
    await bad_connect(f"{base}/socket")

    section("connect, good token (A: ?token=good&name=alice)")
    a = await websockets.connect(f"{base}/socket?token=good&name=alice")
    print(f"HTTP status: {a.response.status_code}")
    await drain("A", a)
    b = await websockets.connect(f"{base}/socket?token=demo&name=bob")
    print("(B: ?token=demo&name=bob)")
    await drain("B", b)

    section("A joins /chat/a with {name: 'x'}")
    await send("A", a, "JOIN_CHANNEL", "/chat/a", "JOIN_CHANNEL", {"name": "x"})
    await drain("A", a)
    section("B joins /chat/a with {name: 'y'}")
    await send("B", b, "JOIN_CHANNEL", "/chat/a", "JOIN_CHANNEL", {"name": "y"})
    await drain("B", b)
    await drain("A", a)
    section("A joins /chat/a again (already a member)")
    await send("A", a, "JOIN_CHANNEL", "/chat/a", "JOIN_CHANNEL", {"name": "x"})
    await drain("A", a)

    section("A joins /private/a")
    await send("A", a, "JOIN_CHANNEL", "/private/a", "JOIN_CHANNEL", {})
    await drain("A", a)
    section("A joins /nope")
    await send("A", a, "JOIN_CHANNEL", "/nope", "JOIN_CHANNEL", {})
    await drain("A", a)
    section("A joins /silent/a (waiting 2s)")
    await send("A", a, "JOIN_CHANNEL", "/silent/a", "JOIN_CHANNEL", {})
    await drain("A", a, quiet=2)

    section("A leaves /silent/a (join was never answered)")
    await send("A", a, "LEAVE_CHANNEL", "/silent/a", "LEAVE_CHANNEL", {})
    await drain("A", a)

    section("echo / ping")
    await send("A", a, "BROADCAST", "/chat/a", "echo", {"text": "hi", "n": 1})
    await drain("A", a)
    await send("A", a, "BROADCAST", "/chat/a", "ping", {"t": 5})
    await drain("A", a)
    section("reply-as ACKNOWLEDGE / UNAUTHORIZED")
    await send("A", a, "BROADCAST", "/chat/a", "reply-as", {"event": "ACKNOWLEDGE"})
    await drain("A", a)
    await send("A", a, "BROADCAST", "/chat/a", "reply-as", {"event": "UNAUTHORIZED"})
    await drain("A", a)
    section("late {delayMs: 500}, then echo immediately (echo must come first)")
    t0 = time.monotonic()
    await send("A", a, "BROADCAST", "/chat/a", "late", {"delayMs": 500})
    await send("A", a, "BROADCAST", "/chat/a", "echo", {"after": "late"})
    await drain("A", a, quiet=1)
    print(f"(elapsed {time.monotonic() - t0:.2f}s)")

    section("broadcast {text: 'hello'} (A sends; A and B receive)")
    await send("A", a, "BROADCAST", "/chat/a", "broadcast", {"text": "hello"})
    await drain("A", a)
    await drain("B", b)
    section("message {text: 'chat'}")
    await send("A", a, "BROADCAST", "/chat/a", "message", {"text": "chat"})
    await drain("A", a)
    await drain("B", b)
    section("broadcast-others {text: 'not you'}")
    await send("A", a, "BROADCAST", "/chat/a", "broadcast-others", {"text": "not you"})
    await drain("A", a)
    await drain("B", b)

    section("status {typing: true}")
    await send("A", a, "BROADCAST", "/chat/a", "status", {"typing": True})
    await drain("A", a)
    await drain("B", b)

    section("flood {count: 3, size: 4}")
    await send("A", a, "BROADCAST", "/chat/a", "flood", {"count": 3, "size": 4})
    await drain("A", a)
    await drain("B", b)

    section("malformed input")
    await send("A", a, "BROADCAST", "/chat/a", "late", {"delayMs": "soon"})
    await drain("A", a)
    await send("A", a, "BROADCAST", "/chat/a", "reply-as", {})
    await drain("A", a)
    await send("A", a, "BROADCAST", "/chat/a", "flood", {"count": -1})
    await drain("A", a)
    await send("A", a, "BROADCAST", "/chat/a", "no-such-event", {})
    await drain("A", a)
    await send("A", a, "BROADCAST", "/chat/zzz", "echo", {})
    await drain("A", a)
    await send("A", a, None, None, None, None, raw=json.dumps({
        "action": "BROADCAST", "event": "echo", "channelName": "/chat/a",
        "requestId": "r-1", "payload": 5}))
    await drain("A", a)
    await send("A", a, None, None, None, None, raw="not json")
    await drain("A", a)
    await send("A", a, None, None, None, None, raw=json.dumps({
        "action": "BROADCAST", "event": "echo", "channelName": "/chat/a",
        "requestId": "r-2"}))
    await drain("A", a)

    section("B leaves /chat/a")
    await send("B", b, "LEAVE_CHANNEL", "/chat/a", "LEAVE_CHANNEL", {})
    await drain("B", b)
    await drain("A", a)
    section("B leaves /chat/zzz (never joined, channel does not exist)")
    await send("B", b, "LEAVE_CHANNEL", "/chat/zzz", "LEAVE_CHANNEL", {})
    await drain("B", b)
    section("B leaves /chat/a again (channel exists, B not a member)")
    await send("B", b, "LEAVE_CHANNEL", "/chat/a", "LEAVE_CHANNEL", {})
    await drain("B", b)
    await send("B", b, "JOIN_CHANNEL", "/chat/a", "JOIN_CHANNEL", {"name": "y"})
    await drain("B", b)
    await drain("A", a)

    section("evict {reason: 'bye'} (A evicts itself)")
    await send("A", a, "BROADCAST", "/chat/a", "evict", {"reason": "bye"})
    await drain("A", a)
    await drain("B", b)
    section("A sends echo to /chat/a after eviction")
    await send("A", a, "BROADCAST", "/chat/a", "echo", {})
    await drain("A", a)
    section("evict {} (B, default reason)")
    await send("B", b, "BROADCAST", "/chat/a", "evict", {})
    await drain("B", b)

    section("SIGTERM with A and B still connected")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    await drain("A", a, quiet=3)
    await drain("B", b, quiet=0.1)
    rc = await proc.wait()
    print(f"server exit code {rc} after {time.monotonic() - t0:.2f}s")


asyncio.run(main())
