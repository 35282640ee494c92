//! Timers as data: what the core waits for and until when, ordered by deadline.
//!
//! The shell arms one real timer for [`Timers::next_deadline`] and calls back when it fires; the core then pops
//! every expired entry. Cancelling is removing the entry, so a cancelled timer can never fire late.

use std::collections::BTreeSet;

use super::channel::ChannelId;

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKind {
    /// The socket must open and the server accept the connection before this.
    Connect,
    /// Time to try connecting again.
    Reconnect,
    /// Check that the server has sent something recently.
    Liveness,
    /// The channel's join must be answered before this.
    Join(ChannelId),
    /// The request must be answered before this.
    Request(u64),
}

/// A handle on an armed timer, used to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: u64,
    seq: u64,
}

/// Where an owner keeps its armed timer, if any.
pub(crate) type TimerSlot = Option<(TimerKey, TimerKind)>;

#[derive(Default)]
pub(crate) struct Timers {
    armed: BTreeSet<(TimerKey, TimerKind)>,
    seq: u64,
}

impl Timers {
    pub(crate) fn arm(&mut self, kind: TimerKind, deadline: u64) -> TimerKey {
        self.seq += 1;
        let key = TimerKey { deadline, seq: self.seq };
        self.armed.insert((key, kind));
        key
    }

    /// Cancels the timer in `slot`, if any, leaving the slot empty.
    pub(crate) fn cancel(&mut self, slot: &mut TimerSlot) {
        if let Some(entry) = slot.take() {
            self.armed.remove(&entry);
        }
    }

    /// Cancels, then arms `kind` anew, storing its handle in `slot`.
    pub(crate) fn rearm(&mut self, slot: &mut TimerSlot, kind: TimerKind, deadline: u64) {
        self.cancel(slot);
        *slot = Some((self.arm(kind, deadline), kind));
    }

    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.armed.first().map(|(key, _)| key.deadline)
    }

    /// Removes and returns the earliest timer due at `now`.
    pub(crate) fn pop_expired(&mut self, now: u64) -> Option<(TimerKey, TimerKind)> {
        let first = *self.armed.first()?;
        (first.0.deadline <= now).then(|| {
            self.armed.remove(&first);
            first
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }
}
