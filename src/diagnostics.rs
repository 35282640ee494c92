//! What tests and benchmarks read to prove that memory is released: bytes the allocator holds, and the size of
//! linear memory. Counting costs one relaxed add per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use wasm_bindgen::prelude::*;

struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only the byte count is added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = System.alloc(layout);
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = System.alloc_zeroed(layout);
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        System.dealloc(pointer, layout);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = System.realloc(pointer, layout, new_size);
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// `{ liveBytes, memoryBytes }`: bytes allocated and not freed, and the size of wasm linear memory (which only grows).
#[wasm_bindgen(js_name = __diagnostics, skip_typescript)]
pub fn diagnostics() -> JsValue {
    let object = js_sys::Object::new();
    let live = LIVE_BYTES.load(Ordering::Relaxed) as f64;
    let memory = (core::arch::wasm32::memory_size(0) * 65_536) as f64;
    let _ = js_sys::Reflect::set(&object, &"liveBytes".into(), &live.into());
    let _ = js_sys::Reflect::set(&object, &"memoryBytes".into(), &memory.into());
    object.into()
}
