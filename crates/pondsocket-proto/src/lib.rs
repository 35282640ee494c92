//! The protocol core: everything a PondSocket client decides, with no I/O.
//!
//! [`ClientCore`] takes inputs (socket opened or closed, frame received, timer fired, user call) with the current
//! time, and answers with [`Output`]s (sockets to open or close, frames to send, events to deliver) and a deadline for
//! its next timer. The browser/Node shell carries them out; native tests drive it with a simulated clock.
//! This module uses no `wasm_bindgen`, `js_sys` or `web_sys`.

pub(crate) mod channel;
pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod json;
pub mod map;
pub mod memory;
pub(crate) mod options;
pub(crate) mod rng;
pub(crate) mod timers;
pub mod url;
pub mod wire;

pub use channel::{ChannelId, ChannelState};
pub use client::{ChannelEvent, ClientCore, ConnectionState, Event, Output, RequestHandle, SocketId};
pub use error::{CancelReason, ChannelError, Error};
pub use json::MAX_DEPTH;
pub use options::{Options, MAX_DURATION_MS};
pub use wire::{FrameError, FrameErrorKind, HostPayload, JsonObject, Payload, PresenceKind};
