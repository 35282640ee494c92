//! PondSocket client for browsers and Node, in Rust compiled to WebAssembly.
//!
//! [`proto`] is the protocol core: wire format, connection and channel state machines, queues, requests and
//! backoff, with no I/O, so that native tests cover every transition deterministically.

pub mod proto;
