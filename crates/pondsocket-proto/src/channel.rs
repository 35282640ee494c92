//! One channel's state: where it is in its lifecycle, its pending join, its outbound queue and its presence.
//!
//! The transitions themselves are driven by [`super::client::ClientCore`], which sees the connection too.

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use crate::error::ChannelError;
use crate::payload::Payload;
use crate::timers::TimerSlot;

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

pub(crate) struct Channel<P: Payload> {
    pub(crate) name: Rc<str>,
    pub(crate) state: ChannelState,
    /// Handles the shell holds on this channel; a terminal channel is forgotten when none are left.
    pub(crate) handles: u32,
    /// What only a channel that is not CLOSED or DECLINED has. A JS handle may keep a terminal channel for as long
    /// as the garbage collector lets it live, so a terminal one keeps just its name, state and ending.
    pub(crate) live: Option<Box<LiveChannel<P>>>,
    /// Why it ended, for a declined or evicted channel.
    pub(crate) ending: Option<Box<Ending>>,
}

pub(crate) struct LiveChannel<P: Payload> {
    /// The join params, as JSON text.
    pub(crate) params: String,
    /// The requestId of the join in flight on the current socket.
    pub(crate) join_request: Option<Box<str>>,
    pub(crate) join_timer: TimerSlot,
    /// This channel's own join timeout, in place of the client's `joinTimeout`.
    pub(crate) join_timeout: Option<u64>,
    pub(crate) queue: VecDeque<Queued>,
    pub(crate) presence: P::List,
    /// After a lost connection: the first presence list of the rejoin is news as a whole (one list, and who arrived
    /// or left meanwhile), not a replay of everyone joining.
    pub(crate) resync: Resync<P>,
}

pub(crate) enum Resync<P: Payload> {
    /// Nothing to make up for.
    None,
    /// Stalled: the next presence list is compared with `presence`, the list from before.
    Waiting,
    /// The rejoin's list arrived before the join was acknowledged: this is the list from before, for the news at
    /// the acknowledgement.
    Arrived(P::List),
}

pub(crate) enum Ending {
    Declined(ChannelError),
    Evicted(String),
}

impl<P: Payload> Channel<P> {
    pub(crate) fn new(name: &str, params: String) -> Self {
        let live = LiveChannel {
            params,
            join_request: None,
            join_timer: None,
            join_timeout: None,
            queue: VecDeque::new(),
            presence: P::List::default(),
            resync: Resync::None,
        };
        Channel { name: name.into(), state: ChannelState::Idle, handles: 1, live: Some(Box::new(live)), ending: None }
    }

    /// Whether a join is in flight on the current socket.
    pub(crate) fn join_pending(&self) -> bool {
        self.live.as_ref().is_some_and(|live| live.join_request.is_some())
    }
}
