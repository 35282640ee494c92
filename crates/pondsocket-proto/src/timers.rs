//! Timers as data: what the core waits for and until when, ordered by deadline.
//!
//! The shell arms one real timer for [`Timers::next_deadline`] and calls back when it fires; the core then pops
//! every expired entry. Cancelling is removing the entry, so a cancelled timer can never fire late.
//!
//! The entries are a vector sorted by deadline, latest first, so the next one to fire is popped from the end: a
//! client arms a handful of timers plus one per pending request, and a sorted vector's code is a fraction of a
//! B-tree's in the wasm.

use crate::channel::ChannelId;
use crate::time::Instant;

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
    /// A visible page's regular wake-up: firing far later than due means the machine slept or the tab was frozen.
    SleepWatch,
}

/// A handle on an armed timer, used to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Instant,
    seq: u64,
}

/// Where an owner keeps its armed timer, if any.
pub(crate) type TimerSlot = Option<(TimerKey, TimerKind)>;

#[derive(Default)]
pub(crate) struct Timers {
    /// Sorted by key, latest first.
    armed: Vec<(TimerKey, TimerKind)>,
    seq: u64,
}

impl Timers {
    pub(crate) fn arm(&mut self, kind: TimerKind, deadline: Instant) -> TimerKey {
        self.seq += 1;
        let key = TimerKey { deadline, seq: self.seq };
        // A new key is the latest of its deadline, so it goes before every entry due at or before it.
        let at = self.armed.partition_point(|(k, _)| *k > key);
        self.armed.insert(at, (key, kind));
        key
    }

    /// Cancels the timer in `slot`, if any, leaving the slot empty.
    pub(crate) fn cancel(&mut self, slot: &mut TimerSlot) {
        if let Some((key, _)) = slot.take() {
            let at = self.armed.partition_point(|(k, _)| *k > key);
            if self.armed.get(at).is_some_and(|(k, _)| *k == key) {
                self.armed.remove(at);
                crate::memory::shrink_vec(&mut self.armed);
            }
        }
    }

    /// Cancels, then arms `kind` anew, storing its handle in `slot`.
    pub(crate) fn rearm(&mut self, slot: &mut TimerSlot, kind: TimerKind, deadline: Instant) {
        self.cancel(slot);
        *slot = Some((self.arm(kind, deadline), kind));
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.armed.last().map(|(key, _)| key.deadline)
    }

    /// Removes and returns the earliest timer due at `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(TimerKey, TimerKind)> {
        if self.armed.last()?.0.deadline > now {
            return None;
        }
        let first = self.armed.pop();
        crate::memory::shrink_vec(&mut self.armed);
        first
    }

    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }
}
