//! Where each server message goes: the connection's acceptance, a request's reply, a channel's join answer,
//! presence, eviction or message, or a report through `onError`. One path for every host: the host parsed the
//! message, and the core reads its payload only through [`Payload`].

use crate::channel::{ChannelId, ChannelState, Resync};
use crate::client::{ChannelEvent, ClientCore, Event, SocketId};
use crate::error::{CancelReason, ChannelError, Error};
use crate::payload::Payload;
use crate::time::Instant;
use crate::wire::{Body, ServerAction, ServerEvent, ServerMessage, GATEWAY};

impl<P: Payload> ClientCore<P> {
    /// One message the host parsed from the socket's frames. `clock` gives the current time; it is read only when
    /// the message needs it (the liveness watchdog is on, or the message accepts the connection and so arms the
    /// joins' timers), since a host's clock can cost something per message.
    pub fn handle_message(&mut self, socket: SocketId, message: ServerMessage<'_, P>, clock: impl FnOnce() -> Instant) {
        if self.socket != Some(socket) {
            return;
        }
        if message.action == ServerAction::Connect {
            let now = clock();
            self.last_received = now;
            let id = match &message.body {
                Body::Payload(payload) => payload.string("connectionId").or_else(|| payload.string("id")),
                Body::Presence { .. } => None,
            };
            self.connection_accepted(now, id);
            return;
        }
        if self.options.ping_interval.is_some() {
            self.last_received = clock();
        }
        self.route(message);
    }

    fn route(&mut self, message: ServerMessage<'_, P>) {
        let message = match self.reply_to_request(message) {
            Some(message) => message,
            None => return,
        };
        match self.live_names.get(&*message.channel_name) {
            Some(&id) => self.route_to_channel(id, message),
            None => {
                // Messages for a channel we left are expected (EXIT_ACKNOWLEDGE, a late ACKNOWLEDGE): only errors
                // about the connection itself are worth a report.
                let about_connection = message.action == ServerAction::Error || message.channel_name == GATEWAY;
                let late = message.request_id.as_deref().is_some_and(|r| self.is_expired(r));
                if let (true, false, Body::Payload(payload)) = (about_connection, late, message.body) {
                    let (event, channel) = (message.event.into_owned(), message.channel_name.into_owned());
                    self.emit(Event::Error(Error::Server { event, channel, payload }));
                }
            }
        }
    }

    /// Completes the request `message` answers, if any; hands the message back if it answers none.
    fn reply_to_request<'a>(&mut self, message: ServerMessage<'a, P>) -> Option<ServerMessage<'a, P>> {
        let Some(key) = message.request_id.as_deref().and_then(|id| self.request_keys.get(id)).copied() else {
            return Some(message);
        };
        let Some(pending) = self.requests.get(&key) else { return Some(message) };
        let same_channel = self.channels.get(&pending.channel).is_some_and(|c| *c.name == message.channel_name);
        let outcome = match (message.action, message.body) {
            (_, body @ Body::Presence { .. }) => return Some(ServerMessage { body, ..message }),
            (ServerAction::Error, Body::Payload(payload)) => {
                let error =
                    ChannelError::from_payload(message.event.name(), &payload, 400, || "request rejected".into());
                Err(Error::RequestCancelled { event: pending.event.clone(), reason: CancelReason::Rejected(error) })
            }
            (_, Body::Payload(payload)) if same_channel => Ok(payload),
            (_, body) => return Some(ServerMessage { body, ..message }),
        };
        self.finish_request(key, outcome, false);
        None
    }

    fn route_to_channel(&mut self, id: ChannelId, message: ServerMessage<'_, P>) {
        let payload = match message.body {
            Body::Presence { kind, presence, changed } => {
                let Some(channel) = self.channels.get_mut(&id) else { return };
                let Some(live) = channel.live.as_deref_mut() else { return };
                // The snapshot follows the server even before the join is acknowledged; subscribers hear of changes
                // only once joined.
                let previous = std::mem::replace(&mut live.presence, presence);
                let joined = channel.state == ChannelState::Joined;
                match std::mem::replace(&mut live.resync, Resync::None) {
                    Resync::None if joined => {
                        let presence = live.presence.clone();
                        self.emit(Event::Channel(id, ChannelEvent::Presence { kind, changed, presence }));
                    }
                    Resync::None => {}
                    Resync::Waiting if joined => {
                        let presence = live.presence.clone();
                        self.emit(Event::Channel(id, ChannelEvent::PresenceSync { previous, presence }));
                    }
                    Resync::Waiting => live.resync = Resync::Arrived(previous),
                    // A second list before the acknowledgement: the news is still against the list from before.
                    Resync::Arrived(before) => live.resync = Resync::Arrived(before),
                }
                return;
            }
            Body::Payload(payload) => payload,
        };
        if message.request_id.as_deref().is_some_and(|r| self.is_expired(r)) {
            return;
        }
        let Some(channel) = self.channels.get(&id) else { return };
        let state = channel.state;
        // While a join is in flight it is the only thing this socket carries for the channel (everything else waits
        // in the queue), so a refusal answers the join whatever its requestId.
        let join_request = channel.live.as_ref().and_then(|live| live.join_request.as_deref());
        let join_pending = matches!(state, ChannelState::Joining | ChannelState::Stalled) && join_request.is_some();
        let answers_join = join_pending && join_request == message.request_id.as_deref();
        let refusal = match (message.action, &message.event) {
            (ServerAction::System, ServerEvent::Unauthorized) => Some(401),
            (ServerAction::System, ServerEvent::NotFound) => Some(404),
            (ServerAction::Error, _) => Some(400),
            _ => None,
        };
        if let Some(status) = refusal {
            let name = &channel.name;
            let default_message = || match status {
                401 => ["not allowed to join \"", name, "\""].concat(),
                404 => ["channel \"", name, "\" not found"].concat(),
                _ => ["server error on \"", name, "\""].concat(),
            };
            let error = ChannelError::from_payload(message.event.name(), &payload, status, default_message);
            if join_pending {
                self.decline(id, error);
            } else if state != ChannelState::Idle {
                self.emit(Event::Channel(id, ChannelEvent::Error(error)));
            }
            return;
        }
        match (message.action, message.event) {
            (ServerAction::System, ServerEvent::Acknowledge) => {
                if answers_join {
                    self.channel_joined(id);
                }
            }
            (ServerAction::System, ServerEvent::Evicted) => {
                let reason = payload.string("reason").unwrap_or_else(|| "evicted by the server".into());
                self.evict(id, reason);
            }
            (ServerAction::System, ServerEvent::ExitAcknowledge) => {}
            (_, event) => {
                if state == ChannelState::Joined {
                    let event = event.into_owned();
                    self.emit(Event::Channel(id, ChannelEvent::Message { event, payload }));
                }
            }
        }
    }
}

#[cfg(feature = "serde")]
impl ClientCore<crate::json::JsonObject> {
    /// A text frame arrived (a Rust host's path, with `serde_json`). Each malformed object in it is reported as
    /// [`Error::MalformedFrame`] and dropped; the others are routed in order.
    pub fn handle_frame(&mut self, socket: SocketId, frame: &str, now: Instant) {
        for message in crate::json::decode_frame(frame) {
            match message {
                Ok(message) => self.handle_message(socket, message, || now),
                Err(error) => self.handle_frame_error(socket, error, now),
            }
        }
    }
}
