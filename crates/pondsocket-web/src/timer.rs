//! The client's one wake-up: a host `setTimeout` for the core's earliest deadline.
//!
//! Setting and clearing a host timer is not cheap (in Node each pair cost a sequential request ~20 µs of CPU over
//! loopback), and a request used to pay for both: armed when sent, cleared when answered. So the timer moves only
//! when an earlier deadline is wanted: for a later one, or none, it stays, fires early, finds nothing due, and is set
//! again if needed. It is cleared only when the client is idle (disconnected, nothing scheduled), so that it keeps
//! no Node process alive; while connected, the open socket does that anyway. While the core has a deadline the timer
//! holds the client, as a pending JS timer holds what its callback uses.

use std::cell::Cell;
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::codec::Codec;
use crate::platform::{clear_timeout, now, set_timeout};
use crate::runtime::Shared;
use pondsocket_proto::Instant;

pub(crate) struct WakeTimer<C: Codec> {
    /// Made once, for every arming; it holds the client weakly.
    callback: Closure<dyn Fn()>,
    // Cells, not a `RefCell` around the timer: nothing is borrowed while the host's setTimeout and clearTimeout run.
    /// The deadline the host timer is set for, and its handle.
    armed: Cell<Option<(Instant, JsValue)>>,
    pin: Cell<Option<Rc<Shared<C>>>>,
}

impl<C: Codec> WakeTimer<C> {
    pub(crate) fn new(shared: Weak<Shared<C>>) -> Self {
        let callback = Closure::<dyn Fn()>::new(move || {
            if let Some(shared) = shared.upgrade() {
                let pin = shared.timer.fired();
                shared.with_core(|core, now| core.handle_timeout(now));
                drop(pin);
            }
        });
        WakeTimer { callback, armed: Cell::new(None), pin: Cell::new(None) }
    }

    /// Sets the timer for `next`, the core's earliest deadline; `idle` (disconnected) clears a timer left for no
    /// deadline. Hands back the hold on the client if it is no longer needed, to be dropped by the caller.
    #[must_use]
    pub(crate) fn set(&self, next: Option<Instant>, idle: bool, shared: &Rc<Shared<C>>) -> Option<Rc<Shared<C>>> {
        let Some(deadline) = next else {
            if idle {
                self.clear();
            }
            return self.pin.take();
        };
        let pin = self.pin.take().unwrap_or_else(|| shared.clone());
        self.pin.set(Some(pin));
        let armed = self.armed.take();
        if matches!(armed, Some((armed, _)) if armed <= deadline) {
            self.armed.set(armed);
        } else {
            if let Some((_, handle)) = armed {
                clear_timeout(&handle);
            }
            let delay = deadline.millis_since(now());
            let handle = set_timeout(self.callback.as_ref().unchecked_ref(), delay as f64);
            self.armed.set(Some((deadline, handle)));
        }
        None
    }

    /// The host timer went off: it is no longer armed, and the hold on the client passes to the caller.
    fn fired(&self) -> Option<Rc<Shared<C>>> {
        self.armed.take();
        self.pin.take()
    }

    fn clear(&self) {
        if let Some((_, handle)) = self.armed.take() {
            clear_timeout(&handle);
        }
    }
}

impl<C: Codec> Drop for WakeTimer<C> {
    fn drop(&mut self) {
        // The callback goes with this; the host must not call it afterwards.
        self.clear();
    }
}
