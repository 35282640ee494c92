//! One channel's state: where it is in its lifecycle, its pending join, its outbound queue and its presence.
//!
//! The transitions themselves are driven by [`super::client::ClientCore`], which sees the connection too.

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::error::ChannelError;
use super::timers::TimerSlot;
use super::wire::JsonObject;

/// Identifies a channel within one client. Ids are never reused, so a stale handle cannot reach a newer channel of
/// the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(pub(crate) u32);

/// Where a channel is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Created; `join()` not called yet.
    Idle,
    /// `join()` called; waiting for the connection or for the server's answer.
    Joining,
    /// The server accepted the join; messages flow.
    Joined,
    /// The connection dropped while joined; the channel rejoins when it is back.
    Stalled,
    /// Left, evicted, or the client disconnected. Terminal.
    Closed,
    /// The server refused the join, or it timed out. Terminal.
    Declined,
}

impl ChannelState {
    /// The name JS sees: `IDLE`, `JOINING`, `JOINED`, `STALLED`, `CLOSED` or `DECLINED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Idle => "IDLE",
            ChannelState::Joining => "JOINING",
            ChannelState::Joined => "JOINED",
            ChannelState::Stalled => "STALLED",
            ChannelState::Closed => "CLOSED",
            ChannelState::Declined => "DECLINED",
        }
    }

    /// CLOSED or DECLINED: the channel can do nothing more.
    pub fn is_terminal(self) -> bool {
        matches!(self, ChannelState::Closed | ChannelState::Declined)
    }
}

impl fmt::Display for ChannelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message waiting for the channel to be joined, already encoded.
pub(crate) struct Queued {
    pub(crate) frame: String,
    /// The request it belongs to, so that dropping it can reject the caller.
    pub(crate) request: Option<u64>,
}

pub(crate) struct Channel {
    pub(crate) name: Rc<str>,
    pub(crate) params: JsonObject,
    pub(crate) state: ChannelState,
    /// The requestId of the join in flight on the current socket.
    pub(crate) join_request: Option<Box<str>>,
    pub(crate) join_timer: TimerSlot,
    pub(crate) queue: VecDeque<Queued>,
    pub(crate) presence: Rc<[JsonObject]>,
    pub(crate) join_error: Option<ChannelError>,
    pub(crate) evicted_reason: Option<String>,
    /// Handles the shell holds on this channel; a terminal channel is forgotten when none are left.
    pub(crate) handles: u32,
}

impl Channel {
    pub(crate) fn new(name: &str, params: JsonObject) -> Self {
        Channel {
            name: name.into(),
            params,
            state: ChannelState::Idle,
            join_request: None,
            join_timer: None,
            queue: VecDeque::new(),
            presence: Rc::from(Vec::new()),
            join_error: None,
            evicted_reason: None,
            handles: 1,
        }
    }
}
