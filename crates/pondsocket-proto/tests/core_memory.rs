//! The core releases what a channel or a request held: bytes allocated and not freed come back to the baseline
//! after thousands of join/leave cycles and requests (counted by a global allocator of this test binary).
//! Native only: on wasm32 the library brings its own counting allocator (src/diagnostics.rs), and two cannot link
//! (wasm-pack test builds every test target for wasm32).
//!
//! The count is per thread: each test drives its core on its own thread, and counts only what that thread allocates
//! and frees. A process-wide count also saw the test harness's other threads (a finished test's thread being torn
//! down, the main thread collecting results) and failed now and then with bytes that were not the core's.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{obj, Harness};
use pondsocket_proto::Event;
use serde_json::json;

thread_local! {
    /// Bytes this thread allocated and has not freed. `const` and without `Drop`: reading or writing it never
    /// allocates (no lazy initialisation, no destructor to register), so the allocator may touch it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// Adds to this thread's count. `try_with`: an allocation made while the thread's locals are being torn down is
/// not counted, instead of panicking inside the allocator.
fn count(bytes: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
}

/// What this thread holds now.
fn live() -> isize {
    LIVE.with(Cell::get)
}

struct Counting;

// SAFETY: forwards to the system allocator; only counts, without allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        System.dealloc(pointer, layout)
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        System.realloc(pointer, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn cycle(h: &mut Harness, i: usize) {
    let name = format!("/chat/{}", i % 50);
    let id = h.channel(&name, json!({"i": i}));
    h.core.join(id, h.t()).unwrap();
    h.pump();
    let join = h.last_join(&name);
    h.ack(&name, &join);
    h.core.leave(id, h.t());
    h.core.release_channel(id);
    h.pump();
    h.take_sent();
    h.take_events();
}

fn requests(h: &mut Harness, id: pondsocket_proto::ChannelId, count: usize) {
    for _ in 0..count / 100 {
        for n in 0..100 {
            h.core.send_for_response(id, "echo", &obj(json!({"n": n})), None, h.t()).unwrap();
        }
        h.pump();
        let sent = h.take_sent();
        for message in sent {
            h.system("/requests", "echo", message["requestId"].as_str().unwrap(), json!({}));
        }
        assert_eq!(h.take_events().iter().filter(|e| matches!(e, Event::Response(_, Ok(_)))).count(), 100);
    }
}

#[test]
fn join_leave_cycles_and_requests_release_what_they_held() {
    let mut h = Harness::default();
    let requests_channel = h.joined("/requests");
    for i in 0..200 {
        cycle(&mut h, i);
    }
    requests(&mut h, requests_channel, 1_000);
    let start = live();
    for i in 0..10_000 {
        cycle(&mut h, i);
    }
    let after_cycles = live();
    requests(&mut h, requests_channel, 100_000);
    let end = live();
    assert!(after_cycles - start < 4096, "10,000 cycles kept {} bytes", after_cycles - start);
    assert!(end - start < 4096, "100,000 requests kept {} bytes", end - after_cycles);
    assert_eq!(h.core.channel_count(), 1);
}

#[test]
fn a_burst_leaves_no_high_water_mark() {
    let mut h = Harness::default();
    let requests_channel = h.joined("/requests");
    h.take_sent();
    let start = live();
    // Thousands of channels held at once (as JS handles are until garbage collection), then all released.
    let ids: Vec<_> = (0..5_000).map(|i| h.channel(&format!("/burst/{i}"), json!({}))).collect();
    for &id in &ids {
        h.core.join(id, h.t()).unwrap();
    }
    h.pump();
    for id in ids {
        h.core.leave(id, h.t());
        h.core.release_channel(id);
    }
    // Thousands of requests in flight at once, then all answered.
    for n in 0..5_000 {
        h.core.send_for_response(requests_channel, "echo", &obj(json!({"n": n})), None, h.t()).unwrap();
    }
    h.pump();
    for message in h.take_sent() {
        if message["action"] == "BROADCAST" {
            h.system("/requests", "echo", message["requestId"].as_str().unwrap(), json!({}));
        }
    }
    h.take_events();
    h.take_sent();
    h.pump();
    let end = live();
    assert!(end - start < 16 * 1024, "the burst left {} bytes behind", end - start);
}
