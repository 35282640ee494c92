//! Life in a browser tab, as the host reports it: the network going away and coming back, the page hidden, shown or
//! focused, the machine asleep, the page entering and leaving the back/forward cache. A host with no page (Node)
//! reports none of it, and then none of this changes anything.
//!
//! The rules: no reconnect attempt while the network is away or the page is frozen (and the backoff does not grow
//! meanwhile); when the network, the page or the user comes back, a client waiting to reconnect tries at once with the
//! backoff's delay reset (its attempt count is not: a tab that keeps regaining focus still gives up when it should);
//! a visible page's timer firing long after it was due means the machine slept, and a connection that looks open is
//! made again at once.

use crate::client::{ClientCore, CLOSE_NORMAL, CLOSE_TIMEOUT};
use crate::log::LogLevel;

use crate::payload::Payload;
use crate::time::Instant;
use crate::timers::TimerKind;

/// How late a visible page's timer must fire to mean the machine slept (or the tab was frozen). Hidden tabs are
/// throttled on purpose (to one wake-up a minute in Chrome after 5 minutes), so there lateness means nothing.
pub(crate) const SLEPT_MS: u64 = 5_000;
/// How often a visible page's client wakes up to notice that it slept, while it wants to be connected.
const SLEEP_WATCH_MS: u64 = 5_000;

/// What the host said of its page.
#[derive(Default)]
pub(crate) struct Page {
    /// The page is visible; false while hidden, and in a host with no page.
    pub(crate) visible: bool,
    /// The network is away (`navigator.onLine` false).
    pub(crate) offline: bool,
    /// The page is in the back/forward cache.
    pub(crate) frozen: bool,
}

impl<P: Payload> ClientCore<P> {
    /// The network went away (`offline`): no reconnect attempt is made until it is back.
    pub fn network_lost(&mut self) {
        self.log(LogLevel::Info, "offline: no attempt until the network is back", |_| vec![]);
        self.page.offline = true;
        self.timers.cancel(&mut self.reconnect_timer);
    }

    /// The network is back (`online`): a client waiting to reconnect tries at once.
    pub fn network_back(&mut self, now: Instant) {
        self.page.offline = false;
        self.come_back(now);
    }

    /// The page became visible or hidden (`visibilitychange`). Visible: as [`Self::page_focused`], and the client
    /// watches for sleep while it wants to be connected.
    pub fn page_visible(&mut self, visible: bool, now: Instant) {
        self.page.visible = visible;
        if visible {
            self.watch_for_sleep(now);
            self.come_back(now);
        } else {
            self.timers.cancel(&mut self.sleep_timer);
        }
    }

    /// The page got the focus: a client waiting to reconnect tries at once; with `pingInterval`, a silent connection
    /// is checked at once.
    pub fn page_focused(&mut self, now: Instant) {
        self.come_back(now);
    }

    /// The page is entering the back/forward cache (`pagehide` with `persisted`): the connection is closed cleanly
    /// (an open socket keeps a page out of the cache), channels stall, queued messages stay queued, requests in flight
    /// reject, and nothing reconnects until [`Self::page_restored`].
    pub fn page_frozen(&mut self, now: Instant) {
        self.log(LogLevel::Info, "page into the back/forward cache: closing", |_| vec![]);
        self.page.frozen = true;
        if !self.want_connected {
            return;
        }
        self.timers.cancel(&mut self.reconnect_timer);
        self.timers.cancel(&mut self.sleep_timer);
        if self.socket.is_some() {
            self.close_socket(CLOSE_NORMAL, "page hidden");
            self.connection_lost(now, None);
        }
    }

    /// The page is back from the back/forward cache (`pageshow` with `persisted`): it reconnects and rejoins at once.
    pub fn page_restored(&mut self, now: Instant) {
        self.page.frozen = false;
        self.watch_for_sleep(now);
        self.come_back(now);
    }

    /// Someone or something is back: a client waiting to reconnect tries now, with the backoff's delay reset.
    fn come_back(&mut self, now: Instant) {
        if !self.want_connected || self.page.offline || self.page.frozen {
            return;
        }
        if self.socket.is_none() {
            self.log(LogLevel::Info, "page or network back: trying at once", |_| vec![]);
            self.timers.cancel(&mut self.reconnect_timer);
            self.backoff_step = 0;
            self.open_socket(now);
        } else {
            self.check_liveness(now);
        }
    }

    /// The machine slept: a connection may be dead while its socket looks open, so it is made again at once.
    pub(crate) fn woke_up(&mut self, now: Instant) {
        if self.socket.is_some() && !self.page.frozen {
            self.log(LogLevel::Warn, "the machine slept: making the connection again", |_| vec![]);
            self.close_socket(CLOSE_TIMEOUT, "the machine slept");
            self.connection_lost(now, None);
        }
        self.come_back(now);
    }

    /// Arms the visible page's regular wake-up, while the client wants to be connected.
    pub(crate) fn watch_for_sleep(&mut self, now: Instant) {
        if self.page.visible && !self.page.frozen && self.want_connected {
            self.timers.rearm(&mut self.sleep_timer, TimerKind::SleepWatch, now + SLEEP_WATCH_MS);
        }
    }
}
