//! The one error type of the client, and the error a server reports about a channel.
//!
//! The JS boundary turns [`Error`] into `Error`, `TypeError` or `ResponseTimeoutError` objects; Rust users match on it.

use std::fmt;

use crate::channel::ChannelState;
use crate::payload::Payload;
use crate::wire::FrameError;

/// An error the server reported about a channel: a declined join, a channel that does not exist, an eviction.
///
/// The shape matches the JS client's `joinError`: a string code, a message and an HTTP-like status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelError {
    pub code: String,
    pub message: String,
    pub status: u16,
    /// The server's `details` member, as JSON text, when it sent one.
    pub details: Option<String>,
}

impl ChannelError {
    /// Normalizes a server payload the way every PondSocket server shapes it: `code` is a number (the status) or a
    /// string, `message` may be nested in `error`, `status`/`statusCode` may be given.
    pub(crate) fn from_payload<P: Payload>(
        event: &str,
        payload: &P,
        default_status: u16,
        default_message: impl FnOnce() -> String,
    ) -> Self {
        let numeric_code = payload.whole_number("code");
        let status = payload.whole_number("status").or_else(|| payload.whole_number("statusCode")).or(numeric_code);
        let message =
            payload.string("message").or_else(|| payload.object("error").and_then(|error| error.string("message")));
        ChannelError {
            code: payload.string("code").unwrap_or_else(|| event.to_owned()),
            message: message.unwrap_or_else(default_message),
            status: status.filter(|s| (100..1000).contains(s)).map_or(default_status, |s| s as u16),
            details: payload.json("details"),
        }
    }
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

/// Why a pending request ended without a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// `leave()` was called on the channel.
    Left,
    /// The join was declined; the channel is DECLINED.
    Declined(ChannelError),
    /// The server evicted this user from the channel.
    Evicted(String),
    /// `disconnect()` was called.
    Disconnected,
    /// The socket closed after the request was sent; the reply can no longer arrive.
    ConnectionLost,
    /// The request waited in a full outbound queue and was dropped for a newer message.
    QueueOverflow,
    /// The server answered that the channel does not exist.
    NotFound(ChannelError),
    /// The server rejected the request with an `ERROR` message.
    Rejected(ChannelError),
    /// The caller gave it up ([`crate::ClientCore::cancel_request`]: an `AbortSignal`, a dropped future).
    Aborted,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelReason::Left => f.write_str("the channel was left"),
            CancelReason::Declined(e) => write!(f, "the join was declined: {e}"),
            CancelReason::Evicted(reason) => write!(f, "evicted from the channel: {reason}"),
            CancelReason::Disconnected => f.write_str("the client disconnected"),
            CancelReason::ConnectionLost => f.write_str("the connection was lost before the reply arrived"),
            CancelReason::QueueOverflow => f.write_str("dropped from the full outbound queue"),
            CancelReason::NotFound(e) => write!(f, "the channel does not exist on the server: {e}"),
            CancelReason::Rejected(e) => write!(f, "the server rejected it: {e}"),
            CancelReason::Aborted => f.write_str("aborted"),
        }
    }
}

/// Everything that can go wrong in the client. `P` is the host's payload type, for [`Error::Server`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error<P> {
    /// The endpoint is not a usable WebSocket URL. The message never contains the query string.
    InvalidUrl(String),
    /// An option has a value it cannot take.
    InvalidOption { name: &'static str, reason: String },
    /// An argument of a call has a value it cannot take.
    InvalidArgument { name: &'static str, reason: String },
    /// The channel is CLOSED or DECLINED (or was released): create a new one.
    ChannelUnavailable { channel: String, state: ChannelState },
    /// No response within the request's timeout.
    ResponseTimeout { event: String, timeout_ms: u64 },
    /// The request ended without a response.
    RequestCancelled { event: String, reason: CancelReason },
    /// A frame from the server could not be understood; it was dropped.
    MalformedFrame(FrameError),
    /// The server reported an error that concerns no channel of ours (e.g. `INVALID_MESSAGE`, `INTERNAL_ERROR`).
    Server { event: String, channel: String, payload: P },
    /// The socket did not open, or the server did not accept the connection, within `connectionTimeout`.
    ConnectionTimeout { timeout_ms: u64 },
    /// Nothing arrived from the server for twice `pingInterval`.
    LivenessTimeout { silent_ms: u64 },
    /// The socket closed; `code` and `reason` as the close event gave them.
    ConnectionClosed { code: u16, reason: String },
    /// The socket reported an error (the shell's description).
    Socket(String),
    /// `maxReconnectAttempts` reconnects failed in a row; the client stays disconnected until `connect()`.
    ReconnectGaveUp { attempts: u32 },
    /// A subscriber's callback threw; delivery to the others went on.
    Callback(String),
    /// A payload did not have the shape a typed listener or request asked for (Rust clients); it was not delivered.
    Decode { event: String, reason: String },
    /// With `TransportChoice::Auto`: WebSocket failed to connect `failures` times in a row and SSE connected, so the
    /// client stays on SSE until `disconnect()`.
    TransportFallback { failures: u32 },
}

impl<P: fmt::Debug> fmt::Display for Error<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl(reason) => write!(f, "invalid endpoint: {reason}"),
            Error::InvalidOption { name, reason } => write!(f, "invalid option `{name}`: {reason}"),
            Error::InvalidArgument { name, reason } => write!(f, "invalid argument `{name}`: {reason}"),
            Error::ChannelUnavailable { channel, state } => {
                write!(f, "channel \"{channel}\" is {}: create a new channel to use it again", state.as_str())
            }
            Error::ResponseTimeout { event, timeout_ms } => {
                write!(f, "no response to \"{event}\" within {timeout_ms} ms")
            }
            Error::RequestCancelled { event, reason } => write!(f, "request \"{event}\" cancelled: {reason}"),
            Error::MalformedFrame(error) => error.fmt(f),
            Error::Server { event, channel, payload } => {
                write!(f, "server error {event} on \"{channel}\": {payload:?}")
            }
            Error::ConnectionTimeout { timeout_ms } => {
                write!(f, "the server did not accept the connection within {timeout_ms} ms")
            }
            Error::LivenessTimeout { silent_ms } => write!(f, "nothing from the server for {silent_ms} ms"),
            Error::ConnectionClosed { code, reason } if reason.is_empty() => {
                write!(f, "connection closed (code {code})")
            }
            Error::ConnectionClosed { code, reason } => write!(f, "connection closed (code {code}): {reason}"),
            Error::Socket(message) => write!(f, "socket error: {message}"),
            Error::Callback(message) => write!(f, "a callback threw: {message}"),
            Error::Decode { event, reason } => {
                write!(f, "the payload of \"{event}\" does not have the expected shape: {reason}")
            }
            Error::ReconnectGaveUp { attempts } => {
                write!(f, "gave up reconnecting after {attempts} failed attempts; call connect() to try again")
            }
            Error::TransportFallback { failures } => write!(
                f,
                "WebSocket failed to connect {failures} times in a row; moved to Server-Sent Events until disconnect()"
            ),
        }
    }
}

impl<P: fmt::Debug> std::error::Error for Error<P> {}

impl<P> From<FrameError> for Error<P> {
    fn from(error: FrameError) -> Self {
        Error::MalformedFrame(error)
    }
}
