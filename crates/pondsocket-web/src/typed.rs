//! Typed payloads and streams for Rust apps (feature `serde`): payloads sent from any `Serialize` value, replies and
//! messages decoded into any `DeserializeOwned` type, and a channel's messages, presence or state as
//! [`futures_core::Stream`]s. A payload that does not decode is reported through the client's `on_error`
//! ([`Error::Decode`](pondsocket_proto::Error::Decode)) and not delivered: never a panic, never a silent drop.
//!
//! ```ignore
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Chat { text: String }
//! chat.send("message", &Chat { text: "hi".into() })?;
//! let pong: Chat = chat.request("ping", &Chat { text: "?".into() }, None).await?;
//! let mut messages = chat.messages::<Chat>("message", 64);
//! while let Some(message) = messages.next().await { web_log(&message.text) }
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use pondsocket_proto::JsonObject;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::channel::ResponseFuture;
use crate::runtime::Shared;
use crate::{Channel, ChannelState, ConnectionState, Error, JsonCodec, Subscription};

impl Channel<JsonCodec> {
    /// Broadcasts `event` with `payload` as its JSON object: at once when joined, else queued until the join.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `payload` does not serialize to a JSON object; as
    /// [`Channel::send_message`] otherwise.
    pub fn send<T: Serialize + ?Sized>(&self, event: &str, payload: &T) -> Result<(), Error> {
        self.send_message(event, &object(payload)?)
    }

    /// Broadcasts `event` and resolves with the reply decoded as `R`; `timeout_ms` defaults to `responseTimeout`.
    /// Dropping the future gives the request up.
    pub fn request<R: DeserializeOwned, T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
        timeout_ms: Option<u64>,
    ) -> TypedResponse<R> {
        let inner = object(payload).map(|payload| self.send_for_response(event, &payload, timeout_ms));
        TypedResponse { inner: Some(inner), event: event.to_owned(), shape: PhantomData }
    }

    /// Messages of `event` decoded as `T`; one that does not decode is reported through `on_error`.
    pub fn on<T: DeserializeOwned>(&self, event: &str, listener: impl Fn(T) + 'static) -> Subscription {
        let report = self.reporter();
        let name = event.to_owned();
        self.on_message_event(event, move |payload| {
            if let Some(value) = decode(payload, &name, &report) {
                listener(value)
            }
        })
    }

    /// Everyone present, decoded as `T`, after every change (entries that do not decode are reported and left out).
    pub fn on_users<T: DeserializeOwned>(&self, listener: impl Fn(Vec<T>) + 'static) -> Subscription {
        let report = self.reporter();
        self.on_users_change(move |list| listener(list.iter().filter_map(|p| decode(p, "presence", &report)).collect()))
    }

    /// Messages of `event` decoded as `T`, as a stream of at most `capacity` waiting items (beyond it the oldest
    /// waiting item is dropped and counted: [`MessageStream::dropped`]). The stream ends when the channel does
    /// (CLOSED or DECLINED); dropping it unsubscribes.
    pub fn messages<T: DeserializeOwned + 'static>(&self, event: &str, capacity: usize) -> MessageStream<T> {
        let queue = Queue::new(capacity);
        let sink = Rc::downgrade(&queue);
        let report = self.reporter();
        let name = event.to_owned();
        let messages = self.on_message_event(event, move |payload| {
            if let (Some(value), Some(queue)) = (decode(payload, &name, &report), sink.upgrade()) {
                Queue::push(&queue, value);
            }
        });
        let end = self.end_of(&queue);
        MessageStream { queue, _subscriptions: [messages, end] }
    }

    /// The presence list decoded as `T`, as a stream: each item the latest list (a slow consumer sees only the latest
    /// one). Ends with the channel.
    pub fn users<T: DeserializeOwned + 'static>(&self) -> MessageStream<Vec<T>> {
        let queue = Queue::new(1);
        let sink = Rc::downgrade(&queue);
        let report = self.reporter();
        let users = self.on_users_change(move |list| {
            let Some(queue) = sink.upgrade() else { return };
            Queue::push(&queue, list.iter().filter_map(|p| decode(p, "presence", &report)).collect());
        });
        let end = self.end_of(&queue);
        MessageStream { queue, _subscriptions: [users, end] }
    }

    /// Ends `queue`'s stream when this channel ends.
    fn end_of<T: 'static>(&self, queue: &Rc<RefCell<Queue<T>>>) -> Subscription {
        let sink = Rc::downgrade(queue);
        self.on_state_change(move |state| {
            if matches!(state, ChannelState::Closed | ChannelState::Declined) {
                if let Some(queue) = sink.upgrade() {
                    Queue::close(&queue);
                }
            }
        })
    }

    fn reporter(&self) -> Weak<Shared<JsonCodec>> {
        Rc::downgrade(self.shared())
    }
}

impl crate::Client<JsonCodec> {
    /// The connection's state as a stream: the current state at once, then each change (a slow consumer sees only
    /// the latest). It never ends on its own; dropping it unsubscribes.
    pub fn states(&self) -> MessageStream<ConnectionState> {
        let queue = Queue::new(1);
        let sink = Rc::downgrade(&queue);
        let states = self.on_connection_change(move |state| {
            if let Some(queue) = sink.upgrade() {
                Queue::push(&queue, state);
            }
        });
        MessageStream { queue, _subscriptions: [states, Subscription::none()] }
    }
}

/// `payload` as a JSON object.
fn object<T: Serialize + ?Sized>(payload: &T) -> Result<JsonObject, Error> {
    JsonObject::from_serialize(payload)
        .map_err(|kind| Error::InvalidArgument { name: "payload", reason: kind.to_string() })
}

/// `payload` decoded as `T`, or reported through the client's `on_error`.
fn decode<T: DeserializeOwned>(payload: &JsonObject, event: &str, report: &Weak<Shared<JsonCodec>>) -> Option<T> {
    match payload.deserialize() {
        Ok(value) => Some(value),
        Err(error) => {
            if let Some(shared) = report.upgrade() {
                shared.report(&Error::Decode { event: event.to_owned(), reason: error.to_string() });
            }
            None
        }
    }
}

/// The reply of [`Channel::request`], decoded. Dropping it gives the request up.
#[must_use = "a request is given up when its future is dropped"]
pub struct TypedResponse<R> {
    inner: Option<Result<ResponseFuture, Error>>,
    event: String,
    shape: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Future for TypedResponse<R> {
    type Output = Result<R, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let outcome = match this.inner.as_mut() {
            Some(Ok(future)) => match Pin::new(future).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(outcome) => outcome,
            },
            Some(Err(_)) => match this.inner.take() {
                Some(Err(error)) => Err(error),
                _ => unreachable!("matched just above"),
            },
            None => return Poll::Pending,
        };
        this.inner = None;
        Poll::Ready(outcome.and_then(|reply| {
            reply.deserialize().map_err(|error| Error::Decode { event: this.event.clone(), reason: error.to_string() })
        }))
    }
}

/// Items a listener pushed, waiting for the stream's consumer.
struct Queue<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped: u64,
    closed: bool,
    waker: Option<Waker>,
}

impl<T> Queue<T> {
    fn new(capacity: usize) -> Rc<RefCell<Self>> {
        let capacity = capacity.max(1);
        Rc::new(RefCell::new(Queue { items: VecDeque::new(), capacity, dropped: 0, closed: false, waker: None }))
    }

    fn push(queue: &RefCell<Self>, item: T) {
        let (waker, evicted) = {
            let mut queue = queue.borrow_mut();
            let evicted = if queue.items.len() == queue.capacity { queue.items.pop_front() } else { None };
            queue.dropped += u64::from(evicted.is_some());
            queue.items.push_back(item);
            (queue.waker.take(), evicted)
        };
        // Dropped and woken with nothing borrowed: both may run the app's code.
        drop(evicted);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn close(queue: &RefCell<Self>) {
        let waker = {
            let mut queue = queue.borrow_mut();
            queue.closed = true;
            queue.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A stream of a channel's messages, presence lists or the connection's states (see [`Channel::messages`]).
/// Dropping it unsubscribes.
#[must_use = "a stream does nothing unless polled, and unsubscribes when dropped"]
pub struct MessageStream<T> {
    queue: Rc<RefCell<Queue<T>>>,
    _subscriptions: [Subscription; 2],
}

impl<T> MessageStream<T> {
    /// How many items were dropped, oldest first, because the consumer was behind by more than the capacity.
    pub fn dropped(&self) -> u64 {
        self.queue.borrow().dropped
    }
}

impl<T> Stream for MessageStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let previous = {
            let mut queue = self.queue.borrow_mut();
            if let Some(item) = queue.items.pop_front() {
                return Poll::Ready(Some(item));
            }
            if queue.closed {
                return Poll::Ready(None);
            }
            queue.waker.replace(cx.waker().clone())
        };
        drop(previous);
        Poll::Pending
    }
}
