//! The connection's state machine: opening sockets, the CONNECTION handshake, losing the socket, reconnecting with
//! backoff, the liveness watchdog, and the timers that drive them.

use crate::channel::ChannelId;
use crate::channel::{ChannelState, Resync};
use crate::client::{ClientCore, ConnectionState, Event, Output, SocketId, CLOSE_FAILED, CLOSE_NORMAL, CLOSE_TIMEOUT};
use crate::error::{CancelReason, Error};
use crate::life::SLEPT_MS;
use crate::log::{without_query, LogLevel};
use crate::payload::Payload;
use crate::time::Instant;
use crate::timers::TimerKind;
use crate::wire::FrameError;

impl<P: Payload> ClientCore<P> {
    /// Starts connecting, unless a socket is already opening or open. Cancels a scheduled reconnect.
    pub fn connect(&mut self, now: Instant) {
        if self.socket.is_some() {
            return;
        }
        self.want_connected = true;
        self.failed_attempts = 0;
        self.backoff_step = 0;
        self.timers.cancel(&mut self.reconnect_timer);
        self.watch_for_sleep(now);
        self.open_socket(now);
    }

    /// Closes the connection for good: every channel becomes CLOSED, pending requests are rejected, and no reconnect
    /// follows until [`Self::connect`].
    pub fn disconnect(&mut self, _now: Instant) {
        self.want_connected = false;
        self.timers.cancel(&mut self.connect_timer);
        self.timers.cancel(&mut self.reconnect_timer);
        self.timers.cancel(&mut self.liveness_timer);
        self.timers.cancel(&mut self.sleep_timer);
        self.close_socket(CLOSE_NORMAL, "client disconnected");
        // The next connect() starts over with WebSocket.
        self.endpoints.reset();
        self.connection_id = None;
        let live = self.live_channel_ids();
        for id in live {
            self.close_channel(id, CancelReason::Disconnected);
        }
        self.set_state(ConnectionState::Disconnected);
    }

    /// The socket opened; the connection is accepted only when the CONNECTION event follows.
    pub fn handle_socket_open(&mut self, socket: SocketId, now: Instant) {
        if self.socket != Some(socket) || self.socket_open {
            return;
        }
        self.socket_open = true;
        self.last_received = now;
        if let Some(interval) = self.options.ping_interval {
            self.timers.rearm(&mut self.liveness_timer, TimerKind::Liveness, now + 2 * interval);
        }
    }

    /// The socket closed (or failed to open).
    pub fn handle_socket_close(&mut self, socket: SocketId, now: Instant, code: u16, reason: &str) {
        if self.socket != Some(socket) {
            return;
        }
        self.socket = None;
        self.connection_lost(now, Some(Error::ConnectionClosed { code, reason: reason.to_owned() }));
    }

    /// The socket reported an error. Once open, its close follows and does the rest; before it opened, the attempt
    /// has failed (Node 20's WebSocket reports a refused connection with an error and no close).
    pub fn handle_socket_error(&mut self, socket: SocketId, now: Instant, message: &str) {
        if self.socket != Some(socket) {
            return;
        }
        self.emit(Event::Error(Error::Socket(message.to_owned())));
        if !self.socket_open {
            self.close_socket(CLOSE_FAILED, "connection failed");
            self.connection_lost(now, None);
        }
    }

    /// The host could not make a message of (part of) a frame: it is reported, and the connection goes on.
    pub fn handle_frame_error(&mut self, socket: SocketId, error: FrameError, now: Instant) {
        if self.socket != Some(socket) {
            return;
        }
        self.last_received = now;
        self.emit(Event::Error(Error::MalformedFrame(error)));
    }

    /// Fires every timer due at `now`. A visible page's timer that fires more than 5 s late means the
    /// machine slept (or the tab was frozen): a connection that looks open may be dead, so it is made again at once.
    pub fn handle_timeout(&mut self, now: Instant) {
        let slept = self.page.visible
            && self.timers.next_deadline().is_some_and(|due| due <= now && now.millis_since(due) > SLEPT_MS);
        while let Some((_, kind)) = self.timers.pop_expired(now) {
            match kind {
                TimerKind::Connect => {
                    self.connect_timer = None;
                    if self.state == ConnectionState::Connecting {
                        self.close_socket(CLOSE_TIMEOUT, "connection timeout");
                        let timeout_ms = self.options.connection_timeout;
                        self.connection_lost(now, Some(Error::ConnectionTimeout { timeout_ms }));
                    }
                }
                TimerKind::Reconnect => {
                    self.reconnect_timer = None;
                    if self.want_connected && self.socket.is_none() {
                        self.open_socket(now);
                    }
                }
                TimerKind::Liveness => {
                    self.liveness_timer = None;
                    self.check_liveness(now);
                }
                TimerKind::SleepWatch => {
                    self.sleep_timer = None;
                    self.watch_for_sleep(now);
                }
                TimerKind::Join(id) => self.join_timed_out(id),
                TimerKind::Request(key) => {
                    let Some(pending) = self.requests.get_mut(&key) else { continue };
                    pending.timer = None;
                    let channel = pending.channel;
                    // Copied only for the log: a timeout is not worth an allocation more without it.
                    let logged = self.options.log.then(|| (pending.request_id.to_string(), pending.event.clone()));
                    let error = Error::ResponseTimeout { event: pending.event.clone(), timeout_ms: pending.timeout_ms };
                    if let Some((request_id, event)) = logged {
                        self.log(LogLevel::Warn, "request timed out", |core| {
                            vec![core.channel_field(channel), ("requestId", request_id), ("event", event)]
                        });
                    }
                    self.finish_request(key, Err(error), true);
                }
            }
        }
        if slept {
            self.woke_up(now);
        }
    }

    /// With `pingInterval`: drops a connection the server has been silent on for twice the interval, or checks again
    /// when it would be.
    pub(crate) fn check_liveness(&mut self, now: Instant) {
        let Some(interval) = self.options.ping_interval else { return };
        if !self.socket_open {
            return;
        }
        let silent_ms = now.millis_since(self.last_received);
        if silent_ms >= 2 * interval {
            self.close_socket(CLOSE_TIMEOUT, "liveness timeout");
            self.connection_lost(now, Some(Error::LivenessTimeout { silent_ms }));
        } else {
            let due = self.last_received + 2 * interval;
            self.timers.rearm(&mut self.liveness_timer, TimerKind::Liveness, due);
        }
    }

    pub(crate) fn open_socket(&mut self, now: Instant) {
        self.sockets_opened += 1;
        let socket = SocketId(self.sockets_opened);
        self.socket = Some(socket);
        self.socket_open = false;
        self.connection_id = None;
        self.transport = self.endpoints.transport(self.options.transport);
        let url = self.endpoints.url(self.transport);
        self.log(LogLevel::Info, "connecting", |core| {
            vec![("endpoint", without_query(&url)), ("transport", core.transport.as_str().to_owned())]
        });
        self.outputs.push_back(Output::Open { socket, url, transport: self.transport });
        let deadline = now + self.options.connection_timeout;
        self.timers.rearm(&mut self.connect_timer, TimerKind::Connect, deadline);
        self.set_state(ConnectionState::Connecting);
    }

    pub(crate) fn close_socket(&mut self, code: u16, reason: &'static str) {
        if let Some(socket) = self.socket.take() {
            self.outputs.push_back(Output::Close { socket, code, reason });
        }
        self.socket_open = false;
    }

    /// The socket is gone while we wanted it: stall the channels, fail what was in flight, and plan a reconnect to
    /// the next endpoint.
    pub(crate) fn connection_lost(&mut self, now: Instant, error: Option<Error<P>>) {
        self.socket_open = false;
        self.connection_id = None;
        let was_connected = self.state == ConnectionState::Connected;
        if !was_connected {
            self.endpoints.attempt_failed(self.options.transport, self.transport);
        }
        self.endpoints.advance();
        self.timers.cancel(&mut self.connect_timer);
        self.timers.cancel(&mut self.liveness_timer);
        if let Some(error) = error {
            self.emit(Event::Error(error));
        }

        let ids = self.live_channel_ids();
        for id in ids {
            let Some(channel) = self.channels.get_mut(&id) else { continue };
            let Some(live) = channel.live.as_deref_mut() else { continue };
            // A join in flight died with the socket; it is sent again on the next connection.
            live.join_request = None;
            self.timers.cancel(&mut live.join_timer);
            if channel.state == ChannelState::Joined {
                live.resync = Resync::Waiting;
                self.set_channel_state(id, ChannelState::Stalled);
            }
        }
        let in_flight = self.requests_where(|r| r.sent);
        self.cancel_requests(in_flight, &CancelReason::ConnectionLost);
        self.set_state(ConnectionState::Disconnected);
        self.schedule_reconnect(now, was_connected);
    }

    /// Plans the next attempt. The first one after a connection that had been accepted waits a random 0 to
    /// `baseReconnectDelay` ms, so that the clients of a server that died do not all reach the next one in the same
    /// millisecond; later ones back off.
    pub(crate) fn schedule_reconnect(&mut self, now: Instant, was_connected: bool) {
        if !self.want_connected || self.page.offline || self.page.frozen {
            // Waiting for the page: the attempt is made when the network or the page is back, and neither the
            // attempt count nor the delay grows meanwhile.
            return;
        }
        if let Some(max) = self.options.max_reconnect_attempts {
            if self.failed_attempts >= max {
                self.want_connected = false;
                self.emit(Event::Error(Error::ReconnectGaveUp { attempts: self.failed_attempts }));
                return;
            }
        }
        let delay_ms = if was_connected {
            self.rng.up_to(self.options.base_reconnect_delay)
        } else {
            self.backoff_delay(self.backoff_step)
        };
        self.failed_attempts += 1;
        self.backoff_step += 1;
        let at = now + delay_ms;
        self.timers.rearm(&mut self.reconnect_timer, TimerKind::Reconnect, at);
        self.emit(Event::ReconnectScheduled { attempt: self.failed_attempts, at, delay_ms });
    }

    /// The delay before reconnect attempt `n` (0-based): `min(max, base * 2^n)`, with "equal jitter": half of it
    /// fixed and half drawn uniformly, so clients that lost the same server spread out but none retries sooner than
    /// half the nominal delay.
    pub(crate) fn backoff_delay(&mut self, n: u32) -> u64 {
        let nominal =
            self.options.base_reconnect_delay.saturating_mul(1u64 << n.min(62)).min(self.options.max_reconnect_delay);
        let fixed = nominal / 2;
        fixed + self.rng.up_to(nominal - fixed)
    }

    /// The server's CONNECTION event, with the id it gave the connection.
    pub(crate) fn connection_accepted(&mut self, now: Instant, connection_id: Option<String>) {
        if self.state == ConnectionState::Connected || !self.socket_open {
            return;
        }
        self.connection_id = connection_id.map(String::into_boxed_str);
        self.timers.cancel(&mut self.connect_timer);
        self.failed_attempts = 0;
        self.backoff_step = 0;
        if let Some(failures) = self.endpoints.connected(self.options.transport, self.transport) {
            self.emit(Event::Error(Error::TransportFallback { failures }));
        }
        self.set_state(ConnectionState::Connected);
        let waiting: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, c)| matches!(c.state, ChannelState::Joining | ChannelState::Stalled))
            .map(|(&id, _)| id)
            .collect();
        // No join is in flight here: joins are sent only while connected, and a lost connection clears them.
        for id in waiting {
            self.send_join(id, now);
        }
    }
}
