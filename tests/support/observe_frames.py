#!/usr/bin/env python3
"""Hand smoke check of a test server: start it, drive it with raw WebSocket
clients and print every frame the server sends, verbatim, so that the two
servers' transcripts can be compared.

    source scripts/lib/python-server.sh && setup_python_server
    target/python-server-venv/bin/python tests/support/observe_frames.py [server command...]
    # the Rust server:
    target/python-server-venv/bin/python tests/support/observe_frames.py tests/server/target/release/pondsocket-test-server

(`websockets` is in the venv already: uvicorn uses it.) Without a command,
runs tests/server-python/app.py with this interpreter. Produced
tests/server*/PROTOCOL-OBSERVED.md. Not part of any automated test run.
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
COMMAND = sys.argv[1:] or [sys.executable, os.path.join(HERE, "..", "server-python", "app.py")]
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
    show(who, ">>", msg if len(msg) < 300 else f"{msg[:120]}... ({len(msg)} bytes)")
    await ws.send(msg)


async def bad_connect(url):
    try:
        ws = await websockets.connect(url)
    except websockets.InvalidStatus as exc:  # handshake refused
        r = exc.response
        print(f"handshake refused: HTTP {r.status_code} {r.reason_phrase}")
        print(f"headers: {dict(r.headers)}")
        print(f"body: {r.body!r}")
        return
    except Exception as exc:
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
    proc = await asyncio.create_subprocess_exec(*COMMAND, stdout=asyncio.subprocess.PIPE)
    t0 = time.monotonic()
    line = (await proc.stdout.readline()).decode().strip()
    print(f"server stdout: {line!r} (after {time.monotonic() - t0:.2f}s)")
    base = line.removeprefix("LISTENING ").replace("http://", "ws://")

    section("connect, bad token (token=bad)")
    await bad_connect(f"{base}/socket?token=bad")
    section("connect, missing token")
    await bad_connect(f"{base}/socket")
    section("connect, unknown path (/other?token=good)")
    await bad_connect(f"{base}/other?token=good")

    section("connect, good token (A: ?token=good&name=alice)")
    a = await websockets.connect(f"{base}/socket?token=good&name=alice")
    print(f"HTTP status: {a.response.status_code}; "
          f"sec-websocket-extensions: {a.response.headers.get('sec-websocket-extensions')}")
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
    await drain("B", b)

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
    section("broadcast, then echo right away (order of the two frames A gets)")
    await send("A", a, "BROADCAST", "/chat/a", "broadcast", {"n": 1})
    await send("A", a, "BROADCAST", "/chat/a", "echo", {"n": 2})
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
    await send("A", a, None, None, None, None, raw=json.dumps({
        "action": "NONSENSE", "event": "echo", "channelName": "/chat/a",
        "requestId": "r-3", "payload": {}}))
    await drain("A", a)
    await send("A", a, None, None, None, None, raw=json.dumps({
        "action": "BROADCAST", "event": "echo", "channelName": "/chat/a",
        "requestId": 7, "payload": {}}))
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
    section("B sends echo to /chat/a after eviction (channel now empty and gone)")
    await send("B", b, "BROADCAST", "/chat/a", "echo", {})
    await drain("B", b)

    section("C: empty event name, then a join (is the connection still served?)")
    c = await websockets.connect(f"{base}/socket?token=good")
    await drain("C", c)
    await send("C", c, None, None, None, None, raw=json.dumps({
        "action": "JOIN_CHANNEL", "event": "", "channelName": "/chat/c",
        "requestId": "r-4", "payload": {}}))
    await drain("C", c)
    await send("C", c, "JOIN_CHANNEL", "/chat/c", "JOIN_CHANNEL", {})
    await drain("C", c)
    await c.close()

    section("D: a 1 MiB + 1 byte message")
    d = await websockets.connect(f"{base}/socket?token=good", max_size=None)
    await drain("D", d)
    big = json.dumps({"action": "BROADCAST", "event": "echo", "channelName": "/chat/d",
                      "requestId": "r-5", "payload": {"data": ""}})
    big = big.replace('"data": ""', '"data": "' + "x" * (1024 * 1024 + 1 - len(big)) + '"')
    assert len(big) == 1024 * 1024 + 1
    await send("D", d, None, None, None, None, raw=big)
    await drain("D", d)
    print(f"(D close code {d.close_code}, reason {d.close_reason!r})")

    section("flood ordering: 200 000 x {size 0}")
    e = await websockets.connect(f"{base}/socket?token=good", max_size=None)
    await drain("E", e, quiet=0.2)
    await send("E", e, "JOIN_CHANNEL", "/chat/e", "JOIN_CHANNEL", {})
    await drain("E", e, quiet=0.2)
    t0 = time.monotonic()
    await send("E", e, "BROADCAST", "/chat/e", "flood", {"count": 200_000})
    n = 0
    while n < 200_000:
        frame = json.loads(await asyncio.wait_for(e.recv(), 10))
        assert frame["payload"]["i"] == n, frame
        n += 1
    print(f"(200 000 flood frames in order, {time.monotonic() - t0:.1f}s)")
    section("broadcast ordering: 2 000 `message` from E, received by E")
    t0 = time.monotonic()
    for i in range(2000):
        await e.send(json.dumps({"action": "BROADCAST", "event": "message", "channelName": "/chat/e",
                                 "requestId": f"m{i}", "payload": {"i": i}}))
    for i in range(2000):
        frame = json.loads(await asyncio.wait_for(e.recv(), 10))
        assert frame["payload"]["i"] == i, frame
    print(f"(2 000 broadcasts in order, {time.monotonic() - t0:.1f}s)")
    await e.close()

    section("SIGTERM with A and B still connected")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    await drain("A", a, quiet=3)
    await drain("B", b, quiet=0.1)
    rc = await proc.wait()
    print(f"server exit code {rc} after {time.monotonic() - t0:.2f}s")


asyncio.run(main())
