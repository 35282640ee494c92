//! A stand-in for a Leptos/Yew/Dioxus application: its own global allocator and its own JS export, with the
//! PondSocket client as an ordinary dependency. scripts/test-rust-app.sh builds it for wasm32 and checks that the
//! result links and exports `app_start` and nothing of the npm package's.

#![cfg(target_arch = "wasm32")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use pondsocket_web::{Channel, Client, JsonObject, Options};
use wasm_bindgen::prelude::*;

/// The application's allocator: `System`, counting the bytes it holds. A second `#[global_allocator]` anywhere in
/// the dependency graph would fail the link.
struct AppAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for AppAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout);
    }
}

#[global_allocator]
static ALLOCATOR: AppAllocator = AppAllocator;

thread_local! {
    /// What the app keeps alive: its client and its channel.
    static APP: RefCell<Option<(Client, Channel)>> = const { RefCell::new(None) };
}

/// The application's own export: a client (not connected; the port is closed), a channel and a listener on it.
/// Returns the bytes its allocator holds afterwards.
#[wasm_bindgen]
pub fn app_start() -> Result<usize, JsError> {
    let client = Client::new("ws://127.0.0.1:1/socket", &[("token", "t")], Options::default())
        .map_err(|error| JsError::new(&error.to_string()))?;
    let channel =
        client.create_channel("/x", &JsonObject::empty()).map_err(|error| JsError::new(&error.to_string()))?;
    channel
        .on_message_event("hello", |payload| {
            let _ = payload.as_str().len();
        })
        .forget();
    APP.with(|app| *app.borrow_mut() = Some((client, channel)));
    Ok(LIVE_BYTES.load(Ordering::Relaxed))
}
