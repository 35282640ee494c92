//! Requests (`sendForResponse`): correlated by requestId only, with a timeout counted from the call, rejected
//! when their channel ends or their socket is lost, and remembered a while after timing out so that a late reply
//! is dropped rather than delivered.

use crate::channel::ChannelId;
use crate::channels::check_event;
use crate::client::{ClientCore, Event, RequestHandle};
use crate::error::{CancelReason, Error};
use crate::memory::shrink_map;
use crate::options::check_duration;
use crate::payload::Payload;
use crate::time::Instant;
use crate::timers::{TimerKind, TimerSlot};
use crate::wire::{encode_client_message, ClientAction};

/// How many timed-out request ids are remembered so that their late replies are dropped.
const EXPIRED_MEMORY: usize = 64;

pub(crate) struct PendingRequest {
    pub(crate) channel: ChannelId,
    pub(crate) request_id: Box<str>,
    pub(crate) event: String,
    pub(crate) timeout_ms: u64,
    pub(crate) timer: TimerSlot,
    /// Written to the socket (not waiting in the queue).
    pub(crate) sent: bool,
}

impl<P: Payload> ClientCore<P> {
    /// Broadcasts `event` and waits for the server message that carries the same requestId, whatever its event name.
    /// The outcome arrives as [`Event::Response`] with the returned handle.
    ///
    /// # Errors
    /// As [`Self::send_message`], and [`Error::InvalidOption`] for a timeout out of range.
    pub fn send_for_response(
        &mut self,
        id: ChannelId,
        event: &str,
        payload: &str,
        timeout_ms: Option<u64>,
        now: Instant,
    ) -> Result<RequestHandle, Error<P>> {
        check_event(event)?;
        let timeout_ms = timeout_ms.unwrap_or(self.options.response_timeout);
        check_duration("timeoutMs", timeout_ms)?;
        let name = self.usable_channel(id)?.name.clone();
        let request_id = self.rng.uuid_v4();
        let frame = encode_client_message(ClientAction::Broadcast, event, &name, &request_id, payload);
        self.requests_made += 1;
        let key = self.requests_made;
        let mut timer = None;
        self.timers.rearm(&mut timer, TimerKind::Request(key), now + timeout_ms);
        let request_id: Box<str> = request_id.into();
        self.request_keys.insert(request_id.clone(), key);
        self.requests.insert(
            key,
            PendingRequest { channel: id, request_id, event: event.to_owned(), timeout_ms, timer, sent: false },
        );
        self.send_or_queue(id, frame, Some(key));
        Ok(RequestHandle(key))
    }

    /// The keys of the requests that match, in the order they were made.
    pub(crate) fn requests_where(&self, matches: impl Fn(&PendingRequest) -> bool) -> Vec<u64> {
        self.requests.iter().filter(|(_, r)| matches(r)).map(|(&k, _)| k).collect()
    }

    pub(crate) fn cancel_requests(&mut self, keys: Vec<u64>, reason: &CancelReason) {
        for key in keys {
            let Some(event) = self.requests.get(&key).map(|r| r.event.clone()) else { continue };
            let error = Error::RequestCancelled { event, reason: reason.clone() };
            self.finish_request(key, Err(error), false);
        }
    }

    /// Removes the request, cancels its timer, takes it out of its channel's queue if it never left, and reports the
    /// outcome. A timed-out request's id is remembered so that its late reply is dropped, not delivered.
    /// Gives up a request: it is forgotten at once (its timer, its place in the queue if it was not sent yet), a
    /// late reply is dropped, and its [`Event::Response`] says [`CancelReason::Aborted`]. Nothing happens for a
    /// request that already ended.
    pub fn cancel_request(&mut self, handle: RequestHandle) {
        let Some(pending) = self.requests.get(&handle.0) else { return };
        let event = pending.event.clone();
        let error = Error::RequestCancelled { event, reason: CancelReason::Aborted };
        self.finish_request(handle.0, Err(error), true);
    }

    pub(crate) fn finish_request(&mut self, key: u64, outcome: Result<P, Error<P>>, expired: bool) {
        let Some(mut pending) = self.requests.remove(&key) else { return };
        self.request_keys.remove(&pending.request_id);
        shrink_map(&mut self.request_keys);
        self.timers.cancel(&mut pending.timer);
        if !pending.sent {
            if let Some(live) = self.channels.get_mut(&pending.channel).and_then(|c| c.live.as_deref_mut()) {
                live.queue.retain(|q| q.request != Some(key));
            }
        }
        if expired && pending.sent {
            if self.expired.len() == EXPIRED_MEMORY {
                self.expired.pop_front();
            }
            self.expired.push_back(pending.request_id);
        }
        self.emit(Event::Response(RequestHandle(key), outcome));
    }

    pub(crate) fn is_expired(&self, request_id: &str) -> bool {
        self.expired.iter().any(|r| &**r == request_id)
    }
}
