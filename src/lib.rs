//! The npm package `pondsocket-wasm`: the JS classes `PondClient` and `Channel` over the Rust web client
//! ([`pondsocket_web`]), and nothing else. Rust applications depend on `pondsocket-web` directly.

#[cfg(all(target_arch = "wasm32", feature = "diagnostics"))]
mod diagnostics;

/// The JS classes (`PondClient`, `Channel`) as Rust types, for tests that drive the JS API from Rust.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod js;
