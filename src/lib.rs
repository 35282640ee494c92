//! PondSocket client for browsers and Node, in Rust compiled to WebAssembly.
//!
//! [`proto`] is the protocol core: wire format, connection and channel state machines, queues, requests and
//! backoff, with no I/O, so that native tests cover every transition deterministically.

pub mod proto;

#[cfg(target_arch = "wasm32")]
mod diagnostics;
#[cfg(target_arch = "wasm32")]
mod shell;
#[cfg(target_arch = "wasm32")]
pub use shell::{Channel, Client, ResponseFuture, Subscription};

pub use proto::{ChannelError, ChannelState, ConnectionState, Error, JsonObject, Options};

/// The JS classes (`PondClient`, `Channel`) as Rust types, for tests that drive the JS API from Rust.
/// Rust applications use [`Client`] and [`Channel`].
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod js;
