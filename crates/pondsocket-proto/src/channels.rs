//! Channels: the calls users make on them (create, join, leave, send) and their lifecycle (joined, declined,
//! evicted, closed), with the outbound queue that holds messages until the join.

use crate::channel::{Channel, ChannelId, ChannelState, Ending, Queued, Resync};
use crate::client::{ChannelEvent, ClientCore, ConnectionState, Event, Output};
use crate::error::{CancelReason, ChannelError, Error};
use crate::log::LogLevel;
use crate::memory::shrink_map;
use crate::payload::Payload;
use crate::time::Instant;
use crate::timers::TimerKind;
use crate::wire::{decimal, encode_client_message, ClientAction};

impl<P: Payload> ClientCore<P> {
    /// The live channel named `name`, or a new IDLE one with these join params. A CLOSED or DECLINED channel of that
    /// name is never returned. Each call counts as one handle: see [`Self::release_channel`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name.
    pub fn create_channel(&mut self, name: &str, params: String) -> Result<ChannelId, Error<P>> {
        self.create_channel_with(name, params, None)
    }

    /// As [`Self::create_channel`], with a join timeout of its own for a new channel (the `joinTimeout` option
    /// otherwise). A live channel of that name is returned as it is, with the timeout it was made with.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name; [`Error::InvalidOption`] for a timeout out of range.
    pub fn create_channel_with(
        &mut self,
        name: &str,
        params: String,
        join_timeout: Option<u64>,
    ) -> Result<ChannelId, Error<P>> {
        if let Some(ms) = join_timeout {
            crate::options::check_duration("joinTimeout", ms)?;
        }
        if name.is_empty() {
            return Err(Error::InvalidArgument { name: "name", reason: "the channel name is empty".into() });
        }
        if let Some(&id) = self.live_names.get(name) {
            if let Some(channel) = self.channels.get_mut(&id) {
                channel.handles += 1;
                return Ok(id);
            }
        }
        self.channels_created += 1;
        let id = ChannelId(self.channels_created);
        let mut channel = Channel::new(name, params);
        if let Some(live) = channel.live.as_deref_mut() {
            live.join_timeout = join_timeout;
        }
        self.live_names.insert(channel.name.clone(), id);
        self.channels.insert(id, channel);
        Ok(id)
    }

    /// Counts one more handle on the channel (a clone of a shell's channel handle).
    pub fn retain_channel(&mut self, id: ChannelId) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.handles += 1;
        }
    }

    /// Drops one handle on the channel. A channel with no handles left is forgotten once it is terminal (or at once
    /// if it never joined); a joined one stays, since its subscribers may still be listening.
    pub fn release_channel(&mut self, id: ChannelId) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        channel.handles = channel.handles.saturating_sub(1);
        if channel.handles == 0 && channel.state == ChannelState::Idle {
            // Nobody can join it any more: drop it without a word, rejecting what was sent on it before a join.
            self.end_channel(id, CancelReason::Left);
            self.channels.remove(&id);
        }
        self.forget_if_unused(id);
    }

    /// Asks to join the channel: at once when connected, else as soon as the connection is accepted.
    /// Joining, joined and stalled channels are left as they are.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel.
    pub fn join(&mut self, id: ChannelId, now: Instant) -> Result<(), Error<P>> {
        let state = self.usable_channel(id)?.state;
        if state == ChannelState::Idle {
            self.set_channel_state(id, ChannelState::Joining);
            if self.state == ConnectionState::Connected {
                self.send_join(id, now);
            }
        }
        Ok(())
    }

    /// Leaves the channel: tells the server if it may think we are in it, rejects the channel's pending requests,
    /// drops its queue, and ends CLOSED. Leaving a CLOSED or DECLINED channel does nothing.
    pub fn leave(&mut self, id: ChannelId, _now: Instant) {
        let Some(channel) = self.channels.get(&id) else { return };
        if channel.state.is_terminal() {
            return;
        }
        // A join in flight may still be accepted, so the server must hear the leave too.
        if channel.state == ChannelState::Joined || channel.join_pending() {
            let name = channel.name.clone();
            self.send_leave(&name);
        }
        self.close_channel(id, CancelReason::Left);
    }

    /// Broadcasts `event` on the channel: sent at once when joined, queued otherwise.
    ///
    /// # Errors
    /// [`Error::ChannelUnavailable`] for a CLOSED or DECLINED channel; [`Error::InvalidArgument`] for an empty event.
    pub fn send_message(&mut self, id: ChannelId, event: &str, payload: &str) -> Result<(), Error<P>> {
        check_event(event)?;
        let name = self.usable_channel(id)?.name.clone();
        let request_id = self.rng.uuid_v4();
        let frame = encode_client_message(ClientAction::Broadcast, event, &name, &request_id, payload);
        self.send_or_queue(id, frame, None);
        Ok(())
    }

    pub(crate) fn usable_channel(&self, id: ChannelId) -> Result<&Channel<P>, Error<P>> {
        match self.channels.get(&id) {
            Some(channel) if !channel.state.is_terminal() => Ok(channel),
            Some(channel) => Err(Error::ChannelUnavailable { channel: channel.name.to_string(), state: channel.state }),
            None => Err(Error::ChannelUnavailable { channel: String::new(), state: ChannelState::Closed }),
        }
    }

    pub(crate) fn send_join(&mut self, id: ChannelId, now: Instant) {
        let request_id = self.rng.uuid_v4();
        let Some(channel) = self.channels.get_mut(&id) else { return };
        let Some(live) = channel.live.as_deref_mut() else { return };
        let deadline = now + live.join_timeout.unwrap_or(self.options.join_timeout);
        let frame =
            encode_client_message(ClientAction::JoinChannel, "JOIN_CHANNEL", &channel.name, &request_id, &live.params);
        live.join_request = Some(request_id.clone().into());
        self.timers.rearm(&mut live.join_timer, TimerKind::Join(id), deadline);
        self.outputs.push_back(Output::Send(frame));
        self.log(LogLevel::Debug, "join sent", |core| vec![core.channel_field(id), ("requestId", request_id)]);
    }

    pub(crate) fn channel_joined(&mut self, id: ChannelId) {
        let Some(live) = self.channels.get_mut(&id).and_then(|c| c.live.as_deref_mut()) else { return };
        live.join_request = None;
        self.timers.cancel(&mut live.join_timer);
        let queued = std::mem::take(&mut live.queue);
        let resync = match std::mem::replace(&mut live.resync, Resync::None) {
            Resync::Arrived(previous) => Some((previous, live.presence.clone())),
            // Waiting (no list yet: the first one to come is the news) or nothing to make up for: kept as it is.
            other => {
                live.resync = other;
                None
            }
        };
        self.set_channel_state(id, ChannelState::Joined);
        if let Some((previous, presence)) = resync {
            self.emit(Event::Channel(id, ChannelEvent::PresenceSync { previous, presence }));
        }
        for Queued { frame, request } in queued {
            if let Some(pending) = request.and_then(|key| self.requests.get_mut(&key)) {
                pending.sent = true;
            }
            self.outputs.push_back(Output::Send(frame));
        }
    }

    pub(crate) fn join_timed_out(&mut self, id: ChannelId) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        let Some(live) = channel.live.as_deref_mut() else { return };
        live.join_timer = None;
        let timeout = live.join_timeout.unwrap_or(self.options.join_timeout);
        if live.join_request.is_none() || !matches!(channel.state, ChannelState::Joining | ChannelState::Stalled) {
            return;
        }
        let error = ChannelError {
            code: "JOIN_TIMEOUT".into(),
            message: ["timed out joining channel \"", &channel.name, "\" after ", &decimal(timeout), " ms"].concat(),
            status: 408,
            details: None,
        };
        // The server may still accept the join later; make sure it does not keep us in the channel.
        if self.socket_open {
            let name = channel.name.clone();
            self.send_leave(&name);
        }
        self.decline(id, error);
    }

    pub(crate) fn send_leave(&mut self, name: &str) {
        let request_id = self.rng.uuid_v4();
        let frame = encode_client_message(ClientAction::LeaveChannel, "LEAVE_CHANNEL", name, &request_id, "{}");
        self.outputs.push_back(Output::Send(frame));
    }

    pub(crate) fn decline(&mut self, id: ChannelId, error: ChannelError) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.ending = Some(Box::new(Ending::Declined(error.clone())));
        }
        let detail = ChannelEvent::Declined(error.clone());
        self.terminate(id, CancelReason::Declined(error), Some(detail), ChannelState::Declined);
    }

    pub(crate) fn evict(&mut self, id: ChannelId, reason: String) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.ending = Some(Box::new(Ending::Evicted(reason.clone())));
        }
        let detail = ChannelEvent::Evicted(reason.clone());
        self.terminate(id, CancelReason::Evicted(reason), Some(detail), ChannelState::Closed);
    }

    pub(crate) fn close_channel(&mut self, id: ChannelId, reason: CancelReason) {
        self.terminate(id, reason, None, ChannelState::Closed);
    }

    /// Ends the channel in `state`: its requests rejected with `reason`, then `detail` (why) and the state change
    /// reported, then the channel forgotten if no handle holds it.
    pub(crate) fn terminate(
        &mut self,
        id: ChannelId,
        reason: CancelReason,
        detail: Option<ChannelEvent<P>>,
        state: ChannelState,
    ) {
        self.end_channel(id, reason);
        if let Some(detail) = detail {
            self.emit(Event::Channel(id, detail));
        }
        self.set_channel_state(id, state);
        self.forget_if_unused(id);
    }

    /// What every terminal transition shares: the name is free again, the params, queue, timer and presence go
    /// (a handle may keep a terminal channel for as long as the garbage collector lets it live: only what its
    /// getters read stays), and the channel's requests are rejected with `reason`.
    pub(crate) fn end_channel(&mut self, id: ChannelId, reason: CancelReason) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        self.live_names.remove(&channel.name);
        shrink_map(&mut self.live_names);
        if let Some(mut live) = channel.live.take() {
            self.timers.cancel(&mut live.join_timer);
        }
        let keys = self.requests_where(|r| r.channel == id);
        self.cancel_requests(keys, &reason);
    }

    pub(crate) fn forget_if_unused(&mut self, id: ChannelId) {
        if self.channels.get(&id).is_some_and(|c| c.handles == 0 && c.state.is_terminal()) {
            self.channels.remove(&id);
        }
    }

    pub(crate) fn send_or_queue(&mut self, id: ChannelId, frame: String, request: Option<u64>) {
        let Some(channel) = self.channels.get_mut(&id) else { return };
        if channel.state == ChannelState::Joined {
            if let Some(pending) = request.and_then(|key| self.requests.get_mut(&key)) {
                pending.sent = true;
            }
            self.outputs.push_back(Output::Send(frame));
            return;
        }
        let Some(live) = channel.live.as_deref_mut() else { return };
        live.queue.push_back(Queued { frame, request });
        if live.queue.len() > self.options.max_queue_size {
            if let Some(Queued { request: Some(key), .. }) = live.queue.pop_front() {
                if let Some(pending) = self.requests.get(&key) {
                    let error =
                        Error::RequestCancelled { event: pending.event.clone(), reason: CancelReason::QueueOverflow };
                    self.finish_request(key, Err(error), false);
                }
            }
        }
    }
}

pub(crate) fn check_event<P>(event: &str) -> Result<(), Error<P>> {
    if event.is_empty() {
        return Err(Error::InvalidArgument { name: "event", reason: "the event name is empty".into() });
    }
    Ok(())
}
