//! Client options, their defaults and their validation. All durations are milliseconds.

use crate::error::Error;
use crate::wire::decimal;

/// How the client connects, reconnects, queues and waits.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// How long the socket may take to open and the server to send its CONNECTION event.
    pub connection_timeout: u64,
    /// The first reconnect delay; attempt `n` waits about `base * 2^n`.
    pub base_reconnect_delay: u64,
    /// The longest reconnect delay.
    pub max_reconnect_delay: u64,
    /// Reconnect attempts in a row before giving up; `None` never gives up (`-1` in JS).
    pub max_reconnect_attempts: Option<u32>,
    /// When set, the connection is dropped and re-made if nothing arrives for twice this long.
    pub ping_interval: Option<u64>,
    /// Messages a channel keeps while not joined; the oldest is dropped beyond this.
    pub max_queue_size: usize,
    /// The default `sendForResponse` timeout.
    pub response_timeout: u64,
    /// How long a join may wait for the server's answer before the channel is DECLINED (status 408).
    pub join_timeout: u64,
    /// WebSocket, Server-Sent Events, or WebSocket falling back to SSE.
    pub transport: TransportChoice,
    /// Emit [`Event::Log`](crate::Event::Log) records: the debug log (the JS `logger` option).
    pub log: bool,
}

/// The transport a client connects with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TransportChoice {
    /// WebSocket only.
    #[default]
    WebSocket,
    /// Server-Sent Events only: a `text/event-stream` to read, a POST per message sent.
    Sse,
    /// WebSocket first; after two attempts in a row that fail to connect, SSE is tried (then WebSocket twice, and
    /// so on). Once SSE connects the client stays on it until `disconnect()`.
    Auto,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connection_timeout: 10_000,
            base_reconnect_delay: 1_000,
            max_reconnect_delay: 30_000,
            max_reconnect_attempts: None,
            ping_interval: None,
            max_queue_size: 100,
            response_timeout: 30_000,
            join_timeout: 10_000,
            transport: TransportChoice::WebSocket,
            log: false,
        }
    }
}

/// The longest duration an option takes: about 24.8 days, the most a JS timer can wait.
pub const MAX_DURATION_MS: u64 = i32::MAX as u64;

impl Options {
    /// Checks that every option can be used.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option that cannot.
    pub fn validate<P>(&self) -> Result<(), Error<P>> {
        let positive = [
            ("connectionTimeout", Some(self.connection_timeout)),
            ("baseReconnectDelay", Some(self.base_reconnect_delay)),
            ("maxReconnectDelay", Some(self.max_reconnect_delay)),
            ("pingInterval", self.ping_interval),
            ("responseTimeout", Some(self.response_timeout)),
            ("joinTimeout", Some(self.join_timeout)),
        ];
        for (name, value) in positive {
            if let Some(value) = value {
                check_duration(name, value)?;
            }
        }
        if self.max_reconnect_delay < self.base_reconnect_delay {
            return Err(Error::InvalidOption {
                name: "maxReconnectDelay",
                reason: ["must be at least baseReconnectDelay (", &decimal(self.base_reconnect_delay), ")"].concat(),
            });
        }
        if self.max_queue_size == 0 {
            return Err(Error::InvalidOption { name: "maxQueueSize", reason: "must be at least 1".into() });
        }
        Ok(())
    }
}

/// Checks one duration given in milliseconds.
///
/// # Errors
/// [`Error::InvalidOption`] if it is zero or longer than [`MAX_DURATION_MS`].
pub(crate) fn check_duration<P>(name: &'static str, value: u64) -> Result<(), Error<P>> {
    if value == 0 || value > MAX_DURATION_MS {
        return Err(Error::InvalidOption {
            name,
            reason: ["must be between 1 and ", &decimal(MAX_DURATION_MS), " milliseconds, got ", &decimal(value)]
                .concat(),
        });
    }
    Ok(())
}
