//! The PondSocket client protocol with no I/O, in the spirit of `quinn-proto`.
//!
//! [`ClientCore`] takes inputs (socket opened or closed, message received, timer fired, user call) with the current
//! time, and answers with [`Output`]s (sockets to open or close, frames to send, events to deliver) and a deadline for
//! its next timer. A host carries them out: `pondsocket-web` in a browser or Node; native tests drive it with a
//! simulated clock. The core parses no JSON and keeps payloads in the host's form ([`Payload`]): the browser's
//! `JSON.parse` objects, or [`JsonObject`] text parsed by `serde_json` (feature `serde`, on by default).

mod channel;
mod channels;
mod client;
mod connection;
mod endpoints;
mod error;
#[cfg(feature = "serde")]
pub mod json;
mod life;
pub mod log;
// Collections the web client shares with the core; not API.
#[doc(hidden)]
pub mod map;
#[doc(hidden)]
pub mod memory;
mod options;
#[doc(hidden)]
pub mod ordered;
mod payload;
mod requests;
mod rng;
mod routing;
pub mod sse;
mod time;
mod timers;
pub mod wire;

pub use channel::{ChannelId, ChannelState};
pub use client::{ChannelEvent, ClientCore, ConnectionState, Event, Output, RequestHandle, SocketId, Transport};
pub use error::{CancelReason, ChannelError, Error};
#[cfg(feature = "serde")]
pub use json::JsonObject;
pub use log::{LogLevel, LogRecord};
pub use options::{Options, TransportChoice, MAX_DURATION_MS};
pub use payload::Payload;
pub use time::Instant;
pub use wire::{FrameError, FrameErrorKind, PresenceKind, ServerMessage};
