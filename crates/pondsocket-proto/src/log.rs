//! The client's debug log, as data: what it does and why (state changes, attempts, backoff, joins, declines, timeouts,
//! dropped frames), for a host's `logger` option. Off unless [`Options::log`](crate::Options::log): then each record
//! is an [`Event::Log`] among the others. Never the query string (it may hold a token) nor a payload.

use crate::channel::ChannelId;
use crate::client::{ChannelEvent, ClientCore, Event};
use crate::error::Error;
use crate::payload::Payload;
use crate::wire::decimal;

/// How much a record matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

impl LogLevel {
    /// The name JS sees: `debug`, `info` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
        }
    }
}

/// One line of the debug log: a fixed message, its fields (name, text), and the error it is about, if any (the host
/// writes errors its own way: the npm build has no `core::fmt`).
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord<P: Payload> {
    pub level: LogLevel,
    pub message: &'static str,
    pub fields: Vec<(&'static str, String)>,
    pub error: Option<Error<P>>,
}

impl<P: Payload> ClientCore<P> {
    /// Logs `message` with the fields `fields` gives, when logging is on (nothing is built otherwise).
    pub(crate) fn log(
        &mut self,
        level: LogLevel,
        message: &'static str,
        fields: impl FnOnce(&Self) -> Vec<(&'static str, String)>,
    ) {
        if self.options.log {
            let fields = fields(self);
            self.push_log(LogRecord { level, message, fields, error: None });
        }
    }

    fn push_log(&mut self, record: LogRecord<P>) {
        self.outputs.push_back(crate::client::Output::Event(Event::Log(Box::new(record))));
    }

    /// The record for an event subscribers are about to hear, if it is one the log tells.
    pub(crate) fn log_event(&mut self, event: &Event<P>) {
        if !self.options.log {
            return;
        }
        match event {
            Event::ConnectionState(state) => {
                let state = state.as_str().to_owned();
                self.log(LogLevel::Info, "connection state", |_| vec![("state", state)]);
            }
            Event::ReconnectScheduled { attempt, delay_ms, .. } => {
                let fields = vec![("attempt", decimal(u64::from(*attempt))), ("delayMs", decimal(*delay_ms))];
                self.log(LogLevel::Info, "reconnect scheduled", |_| fields);
            }
            Event::Error(error) => {
                let message = match error {
                    Error::MalformedFrame(_) => "frame dropped",
                    _ => "error",
                };
                self.push_log(LogRecord { level: LogLevel::Warn, message, fields: vec![], error: Some(error.clone()) });
            }
            Event::Channel(id, ChannelEvent::State(state)) => {
                let state = state.as_str().to_owned();
                let id = *id;
                self.log(LogLevel::Info, "channel state", |core| vec![core.channel_field(id), ("state", state)]);
            }
            Event::Channel(id, ChannelEvent::Declined(error)) => {
                let id = *id;
                let fields = [("code", error.code.clone()), ("status", decimal(u64::from(error.status)))];
                let message = ("reason", error.message.clone());
                self.log(LogLevel::Warn, "join declined", |core| {
                    [core.channel_field(id)].into_iter().chain(fields).chain([message]).collect()
                });
            }
            _ => {}
        }
    }

    pub(crate) fn channel_field(&self, id: ChannelId) -> (&'static str, String) {
        ("channel", self.channels.get(&id).map(|c| c.name.to_string()).unwrap_or_default())
    }
}

/// `url` without its query string and fragment.
pub(crate) fn without_query(url: &str) -> String {
    let end = url.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(url.len());
    url.get(..end).unwrap_or(url).to_owned()
}
