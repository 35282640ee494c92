//! Subscriber lists that can be read while they change: delivery takes a cheap snapshot, then calls without a borrow.

use std::rc::Rc;

/// An ordered list of callbacks, each under an id for unsubscribing.
pub(crate) struct Listeners<F: ?Sized> {
    last_id: u32,
    // Rebuilt on every change, which is rare; a snapshot for delivery is then one reference-count increment.
    entries: Rc<[(u32, Rc<F>)]>,
}

impl<F: ?Sized> Default for Listeners<F> {
    fn default() -> Self {
        Listeners { last_id: 0, entries: Rc::from(Vec::new()) }
    }
}

impl<F: ?Sized> Listeners<F> {
    pub(crate) fn add(&mut self, callback: Rc<F>) -> u32 {
        self.last_id += 1;
        let mut entries: Vec<(u32, Rc<F>)> = self.entries.iter().cloned().collect();
        entries.push((self.last_id, callback));
        self.entries = entries.into();
        self.last_id
    }

    /// Removes the callback `id` and hands it back, so the caller can drop it after releasing its borrow (dropping
    /// a callback may drop a channel handle, which needs the runtime).
    pub(crate) fn remove(&mut self, id: u32) -> Option<Rc<F>> {
        let removed = self.entries.iter().find(|(i, _)| *i == id)?.1.clone();
        self.entries = self.entries.iter().filter(|(i, _)| *i != id).cloned().collect::<Vec<_>>().into();
        Some(removed)
    }

    /// The callbacks as of now; later changes do not affect a delivery already under way.
    pub(crate) fn snapshot(&self) -> Rc<[(u32, Rc<F>)]> {
        self.entries.clone()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
