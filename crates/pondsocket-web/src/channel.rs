//! A channel handle and the future of a request made on it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::codec::Codec;
#[cfg(feature = "serde")]
use crate::codec::JsonCodec;
use crate::platform;
use crate::runtime::{self, PresenceNews, ResponseCallback, Shared};
use crate::Subscription;
use crate::{removed, Owner, Removed};
#[cfg(feature = "serde")]
use pondsocket_proto::JsonObject;
use pondsocket_proto::{ChannelError, ChannelId, ChannelState, Error, Payload, PresenceKind, RequestHandle};

/// A channel handle. Clones share the channel; the client forgets a CLOSED or DECLINED channel once every handle
/// is dropped.
#[cfg(feature = "serde")]
pub struct Channel<C: Codec = JsonCodec> {
    shared: Rc<Shared<C>>,
    owner: Rc<Owner<C>>,
    id: ChannelId,
}

/// A channel handle. Clones share the channel; the client forgets a CLOSED or DECLINED channel once every handle
/// is dropped.
#[cfg(not(feature = "serde"))]
pub struct Channel<C: Codec> {
    shared: Rc<Shared<C>>,
    owner: Rc<Owner<C>>,
    id: ChannelId,
}

impl<C: Codec> Clone for Channel<C> {
    fn clone(&self) -> Self {
        self.shared.inner.borrow_mut().core.retain_channel(self.id);
        Channel { shared: self.shared.clone(), owner: self.owner.clone(), id: self.id }
    }
}

impl<C: Codec> Drop for Channel<C> {
    fn drop(&mut self) {
        self.shared.release_channel(self.id);
    }
}

type Listeners<P> = runtime::ChannelListeners<P>;

impl<C: Codec> Channel<C> {
    pub(crate) fn new(shared: Rc<Shared<C>>, owner: Rc<Owner<C>>, id: ChannelId) -> Self {
        Channel { shared, owner, id }
    }

    pub(crate) fn shared(&self) -> &Rc<Shared<C>> {
        &self.shared
    }

    /// The client this channel belongs to.
    pub fn client(&self) -> crate::Client<C> {
        crate::Client { shared: self.shared.clone(), owner: self.owner.clone() }
    }

    pub fn name(&self) -> String {
        self.shared.inner.borrow().core.channel_name(self.id).unwrap_or_default().to_owned()
    }

    pub fn state(&self) -> ChannelState {
        self.shared.inner.borrow().core.channel_state(self.id).unwrap_or(ChannelState::Closed)
    }

    /// Everyone present, as of the latest presence message.
    pub fn presence(&self) -> <C::Payload as Payload>::List {
        self.shared.inner.borrow().core.presence(self.id).unwrap_or_default()
    }

    /// Why the join was declined, for a DECLINED channel.
    pub fn join_error(&self) -> Option<ChannelError> {
        self.shared.inner.borrow().core.join_error(self.id).cloned()
    }

    /// Why the server evicted this user, for a channel CLOSED by eviction.
    pub fn evicted_reason(&self) -> Option<String> {
        self.shared.inner.borrow().core.evicted_reason(self.id).map(str::to_owned)
    }

    /// Joins now if connected, else once the connection is accepted.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel.
    pub fn join(&self) -> Result<(), Error<C::Payload>> {
        self.shared.with_core(|core, now| core.join(self.id, now))
    }

    /// Leaves the channel; it ends CLOSED. Does nothing on a CLOSED or DECLINED channel.
    pub fn leave(&self) {
        self.shared.with_core(|core, now| core.leave(self.id, now));
    }

    /// Broadcasts `event` with `payload`, the JSON text of an object: at once when joined, else queued.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel, [`Error::InvalidArgument`] for an empty event.
    #[doc(hidden)]
    pub fn send_message_json(&self, event: &str, payload: &str) -> Result<(), Error<C::Payload>> {
        self.shared.with_core(|core, _| core.send_message(self.id, event, payload))
    }

    /// Broadcasts `event` with `payload` (JSON text of an object) and calls `callback` once with the reply carrying
    /// the same requestId, or why there is none. `timeout_ms` defaults to the `responseTimeout` option.
    ///
    /// # Errors
    /// As [`Channel::send_message_json`], and [`Error::InvalidOption`] for a timeout out of range; `callback` is
    /// then never called.
    #[doc(hidden)]
    pub fn send_for_response_with(
        &self,
        event: &str,
        payload: &str,
        timeout_ms: Option<u64>,
        callback: ResponseCallback<C::Payload>,
    ) -> Result<RequestHandle, Error<C::Payload>> {
        let handle = {
            let mut inner = self.shared.inner.borrow_mut();
            let handle = inner.core.send_for_response(self.id, event, payload, timeout_ms, platform::now())?;
            // Registered before the drain: the outcome may already be waiting (a full queue rejects at once).
            inner.requests.insert(handle, callback);
            handle
        };
        runtime::drain(&self.shared);
        Ok(handle)
    }

    /// Gives up a request: its callback gets `RequestCancelled` (`Aborted`) now, and a late reply is dropped.
    #[doc(hidden)]
    pub fn cancel_request(&self, handle: RequestHandle) {
        self.shared.with_core(|core, _| core.cancel_request(handle));
    }

    /// As [`Channel::send_for_response_with`], as a future.
    #[doc(hidden)]
    pub fn send_for_response_json(
        &self,
        event: &str,
        payload: &str,
        timeout_ms: Option<u64>,
    ) -> ResponseFuture<C::Payload> {
        let slot = Rc::new(RefCell::new(FutureSlot { outcome: None, waker: None, ended: false }));
        let filler = slot.clone();
        let callback: ResponseCallback<C::Payload> = Box::new(move |outcome| {
            let waker = {
                let mut slot = filler.borrow_mut();
                slot.outcome = Some(outcome);
                slot.ended = true;
                slot.waker.take()
            };
            // Woken with no borrow held: an executor may poll inside `wake`.
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        let cancel = match self.send_for_response_with(event, payload, timeout_ms, callback) {
            Ok(handle) => {
                let shared = Rc::downgrade(&self.shared);
                Some(Box::new(move || {
                    if let Some(shared) = shared.upgrade() {
                        shared.when_free(move |shared| shared.inner.borrow_mut().core.cancel_request(handle));
                    }
                }) as Box<dyn FnOnce()>)
            }
            Err(error) => {
                let mut slot = slot.borrow_mut();
                slot.outcome = Some(Err(error));
                slot.ended = true;
                None
            }
        };
        ResponseFuture { slot, cancel }
    }

    /// Every message, with its event name.
    pub fn on_message(&self, listener: impl Fn(&str, &C::Payload) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.message.add(Rc::new(listener)));
        self.subscription(move |l| removed(l.message.remove(id)))
    }

    /// Messages whose event name is `event`, or `event` followed by a `?query`.
    pub fn on_message_event(&self, event: &str, listener: impl Fn(&C::Payload) + 'static) -> Subscription {
        self.on_message_event_query(event, move |payload, _| listener(payload))
    }

    /// As [`Channel::on_message_event`]; `listener` also gets the event's query string ("" when it has none).
    #[doc(hidden)]
    pub fn on_message_event_query(&self, event: &str, listener: impl Fn(&C::Payload, &str) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.by_event.entry(event.to_owned()).or_default().add(Rc::new(listener)));
        let event = event.to_owned();
        self.subscription(move |l| {
            let listeners = l.by_event.get_mut(&event)?;
            let listener = listeners.remove(id);
            if listeners.is_empty() {
                l.by_event.remove(&event);
            }
            removed(listener)
        })
    }

    /// The presence of each user who joins.
    pub fn on_join(&self, listener: impl Fn(&C::Payload) + 'static) -> Subscription {
        self.on_presence(move |news, changed, _| {
            if let (PresenceNews::Changed(PresenceKind::Join) | PresenceNews::Arrived, Some(changed)) = (news, changed)
            {
                listener(changed)
            }
        })
    }

    /// The presence of each user who leaves.
    pub fn on_leave(&self, listener: impl Fn(&C::Payload) + 'static) -> Subscription {
        self.on_presence(move |news, changed, _| {
            if let (PresenceNews::Changed(PresenceKind::Leave) | PresenceNews::Departed, Some(changed)) =
                (news, changed)
            {
                listener(changed)
            }
        })
    }

    /// Each presence update: the changed presence and everyone present.
    pub fn on_presence_change(
        &self,
        listener: impl Fn(&C::Payload, &<C::Payload as Payload>::List) + 'static,
    ) -> Subscription {
        self.on_presence(move |news, changed, all| {
            if let (PresenceNews::Changed(PresenceKind::Update), Some(changed)) = (news, changed) {
                listener(changed, all)
            }
        })
    }

    /// Everyone present, after every join, leave and update.
    pub fn on_users_change(&self, listener: impl Fn(&<C::Payload as Payload>::List) + 'static) -> Subscription {
        // Every announced change, and once after a rejoin: not for each arrival or departure it found.
        self.on_presence(move |news, _, all| {
            if matches!(news, PresenceNews::Changed(_) | PresenceNews::Synced) {
                listener(all)
            }
        })
    }

    /// Calls `listener` with the current state at once, then on every change.
    pub fn on_state_change(&self, listener: impl Fn(ChannelState) + 'static) -> Subscription {
        let listener: Rc<runtime::ChannelStateListener> = Rc::new(listener);
        let id = self.with_listeners(|l| l.state.add(listener.clone()));
        listener(self.state());
        self.subscription(move |l| removed(l.state.remove(id)))
    }

    /// Errors the server reported about this channel: a declined join, an eviction, a NOT_FOUND while joined.
    pub fn on_error(&self, listener: impl Fn(&ChannelError) + 'static) -> Subscription {
        let id = self.with_listeners(|l| l.error.add(Rc::new(listener)));
        self.subscription(move |l| removed(l.error.remove(id)))
    }

    fn on_presence(
        &self,
        listener: impl Fn(PresenceNews, Option<&C::Payload>, &<C::Payload as Payload>::List) + 'static,
    ) -> Subscription {
        let id = self.with_listeners(|l| l.presence.add(Rc::new(listener)));
        self.subscription(move |l| removed(l.presence.remove(id)))
    }

    fn with_listeners<T>(&self, f: impl FnOnce(&mut Listeners<C::Payload>) -> T) -> T {
        f(self.shared.inner.borrow_mut().channels.get_or_insert_with(self.id, Default::default))
    }

    fn subscription(&self, remove: impl FnOnce(&mut Listeners<C::Payload>) -> Removed + 'static) -> Subscription {
        let id = self.id;
        Subscription::new(&self.shared, move |inner| inner.channels.get_mut(&id).and_then(remove))
    }
}

#[cfg(feature = "serde")]
impl Channel<JsonCodec> {
    /// Broadcasts `event`: at once when joined, else queued until the join.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel, [`Error::InvalidArgument`] for an empty event.
    pub fn send_message(&self, event: &str, payload: &JsonObject) -> Result<(), Error<JsonObject>> {
        self.send_message_json(event, payload.as_str())
    }

    /// Broadcasts `event` and resolves with the server's reply carrying the same requestId.
    /// `timeout_ms` defaults to the `responseTimeout` option.
    pub fn send_for_response(&self, event: &str, payload: &JsonObject, timeout_ms: Option<u64>) -> ResponseFuture {
        self.send_for_response_json(event, payload.as_str(), timeout_ms)
    }
}

struct FutureSlot<P> {
    outcome: Option<Result<P, Error<P>>>,
    waker: Option<Waker>,
    /// The request ended (its outcome is or was in `outcome`).
    ended: bool,
}

/// The outcome of [`Channel::send_for_response`]. Dropping it before it is ready gives the request up: its timer and
/// slot are freed at once, and a late reply is dropped.
#[cfg(feature = "serde")]
#[must_use = "a request is given up when its future is dropped"]
pub struct ResponseFuture<P = JsonObject> {
    slot: Rc<RefCell<FutureSlot<P>>>,
    cancel: Option<Box<dyn FnOnce()>>,
}

/// The outcome of a request. Dropping it before it is ready gives the request up.
#[cfg(not(feature = "serde"))]
#[must_use = "a request is given up when its future is dropped"]
pub struct ResponseFuture<P> {
    slot: Rc<RefCell<FutureSlot<P>>>,
    cancel: Option<Box<dyn FnOnce()>>,
}

impl<P> Future for ResponseFuture<P> {
    type Output = Result<P, Error<P>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let previous = {
            let mut slot = self.slot.borrow_mut();
            if let Some(outcome) = slot.outcome.take() {
                return Poll::Ready(outcome);
            }
            slot.waker.replace(cx.waker().clone())
        };
        // A waker's drop is the executor's code: not while the slot is borrowed.
        drop(previous);
        Poll::Pending
    }
}

impl<P> Drop for ResponseFuture<P> {
    fn drop(&mut self) {
        let ended = self.slot.borrow().ended;
        if let (false, Some(cancel)) = (ended, self.cancel.take()) {
            cancel();
        }
    }
}
