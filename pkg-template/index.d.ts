// Types of the pondsocket-wasm package. The names and shapes are those of @eleven-am/pondsocket-client, so code
// written for it ports by changing the import; what is added is marked "Added".

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A message payload, join params or presence: any JSON-serializable object. */
export type PondObject = Record<string, unknown>;
export type Unsubscribe = () => void;

export declare const ConnectionState: {
  readonly DISCONNECTED: 'disconnected';
  readonly CONNECTING: 'connecting';
  readonly CONNECTED: 'connected';
};
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export declare const ChannelState: {
  readonly IDLE: 'IDLE';
  readonly JOINING: 'JOINING';
  readonly JOINED: 'JOINED';
  readonly STALLED: 'STALLED';
  readonly CLOSED: 'CLOSED';
  readonly DECLINED: 'DECLINED';
};
export type ChannelState = (typeof ChannelState)[keyof typeof ChannelState];

/** What the server said about a channel: a declined join (`joinError`), an eviction, a NOT_FOUND. */
export interface PondErrorPayload {
  code: string;
  message: string;
  /** HTTP-like: 401/403 refused, 404 no such channel, 408 join timed out. */
  status: number;
}

export interface PresenceChange<P extends PondObject = PondObject> {
  changed: P;
  presence: P[];
}

export interface ClientOptions {
  /** Milliseconds for the socket to open and the server to accept the connection. Default 10000. */
  connectionTimeout?: number;
  /** First reconnect delay; attempt n waits about base * 2^n (equal jitter). Default 1000. */
  baseReconnectDelay?: number;
  /** Longest reconnect delay. Default 30000. */
  maxReconnectDelay?: number;
  /** Reconnects in a row before giving up; -1 never gives up. Default -1. */
  maxReconnectAttempts?: number;
  /** When set, a server silent for twice this long is dropped and reconnected. Default: off. */
  pingInterval?: number;
  /** Messages a channel keeps until it is joined; the oldest is dropped beyond this. Default 100. */
  maxQueueSize?: number;
  /** Default timeout of sendForResponse. Default 5000. */
  responseTimeout?: number;
  /** How long a join may wait before the channel is DECLINED with status 408. Default 10000. */
  joinTimeout?: number;
  /** The WebSocket class to use where there is no global one (e.g. the `ws` package in Node 20). */
  WebSocket?: new (url: string) => WebSocket;
}

export declare class PondClient {
  /** Throws a TypeError for an endpoint that is not a ws/wss/http/https URL, or an option it cannot take. */
  constructor(endpoint: string, params?: Record<string, unknown>, options?: ClientOptions);
  /** Starts connecting; never throws, nothing to await. Failures arrive through onError and onConnectionChange. */
  connect(): void;
  /** Closes the connection and every channel (CLOSED); pending requests reject; no reconnect follows. */
  disconnect(): void;
  getState(): ConnectionState;
  /** The live channel of that name, or a new IDLE one that will join with `params`. */
  createChannel<P extends PondObject = PondObject>(name: string, params?: PondObject): Channel<P>;
  /** Called at once with the current state, then on every change. */
  onConnectionChange(callback: (state: ConnectionState) => void): Unsubscribe;
  /** Malformed frames, server errors, socket trouble, callbacks that threw. */
  onError(callback: (error: Error) => void): Unsubscribe;
  /** Added: each reconnect the client plans. */
  onReconnectScheduled(callback: (info: { attempt: number; delayMs: number }) => void): Unsubscribe;
  /** Frees the wasm memory of this handle at once instead of at garbage collection. */
  free(): void;
}

export declare class Channel<P extends PondObject = PondObject> {
  private constructor();
  readonly name: string;
  readonly channelState: ChannelState;
  /** Everyone present, as of the latest presence message. */
  readonly presence: P[];
  /** Why the join was declined, for a DECLINED channel. */
  readonly joinError: PondErrorPayload | null;
  /** Added: the server's reason, for a channel CLOSED by eviction. */
  readonly evictedReason: string | null;
  /** Joins now if connected, else once connected. Throws ChannelUnavailableError on a CLOSED or DECLINED channel. */
  join(): void;
  /** Leaves; the channel ends CLOSED. Does nothing on a CLOSED or DECLINED channel. */
  leave(): void;
  /** Sends at once when joined, else queues. Throws ChannelUnavailableError on a CLOSED or DECLINED channel. */
  sendMessage(event: string, payload?: PondObject): void;
  /** Resolves with the reply carrying this request's id; rejects with ResponseTimeoutError or RequestCancelledError. */
  sendForResponse<R extends PondObject = PondObject>(event: string, payload?: PondObject, timeoutMs?: number): Promise<R>;
  onMessage(callback: (event: string, payload: PondObject) => void): Unsubscribe;
  onMessageEvent<T extends PondObject = PondObject>(event: string, callback: (payload: T) => void): Unsubscribe;
  onJoin(callback: (presence: P) => void): Unsubscribe;
  onLeave(callback: (presence: P) => void): Unsubscribe;
  onPresenceChange(callback: (change: PresenceChange<P>) => void): Unsubscribe;
  onUsersChange(callback: (presence: P[]) => void): Unsubscribe;
  /** Called at once with the current state, then on every change. */
  onChannelStateChange(callback: (state: ChannelState) => void): Unsubscribe;
  onError(callback: (error: PondErrorPayload) => void): Unsubscribe;
  /** Frees the wasm memory of this handle at once instead of at garbage collection. */
  free(): void;
}

/** Base class of the errors below. */
export declare class PondSocketError extends Error {}
/** No reply within the request's timeout. Has `event` and `timeoutMs`. */
export declare class ResponseTimeoutError extends PondSocketError {
  readonly event: string;
  readonly timeoutMs: number;
}
/** The request ended without a reply (left, declined, evicted, disconnected, connection lost, queue full, rejected). */
export declare class RequestCancelledError extends PondSocketError {
  readonly event: string;
  readonly reason: string;
}
/** The channel is CLOSED or DECLINED: create a new one. */
export declare class ChannelUnavailableError extends PondSocketError {
  readonly channel: string;
  readonly state: ChannelState;
}
/** A frame from the server could not be understood; it was dropped. */
export declare class MalformedFrameError extends PondSocketError {}
/** The server reported an error about the connection. */
export declare class ServerError extends PondSocketError {
  readonly event: string;
  readonly channel: string;
  readonly payload: PondObject;
}
/** Connection trouble: timeouts, closes, socket errors, reconnects given up. */
export declare class ConnectionError extends PondSocketError {}
/** A subscriber's callback threw; delivery to the others went on. */
export declare class CallbackError extends PondSocketError {}

declare const api: {
  PondClient: typeof PondClient;
  Channel: typeof Channel;
  ConnectionState: typeof ConnectionState;
  ChannelState: typeof ChannelState;
  PondSocketError: typeof PondSocketError;
  ResponseTimeoutError: typeof ResponseTimeoutError;
  RequestCancelledError: typeof RequestCancelledError;
  ChannelUnavailableError: typeof ChannelUnavailableError;
  MalformedFrameError: typeof MalformedFrameError;
  ServerError: typeof ServerError;
  ConnectionError: typeof ConnectionError;
  CallbackError: typeof CallbackError;
};
export default api;
