// Types of the pondsocket-wasm package. The names and shapes are those of @eleven-am/pondsocket-client (0.0.39, and
// the generics of 0.0.32), so code written for it ports by changing the import; what is added is marked "Added".

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A message payload, join params or presence: any JSON-serializable object. */
export type PondObject = Record<string, unknown>;
export type Unsubscribe = () => void;

/** Added: the last argument of every `on*` method: aborting `signal` unsubscribes. */
export interface SubscriptionOptions {
  signal?: AbortSignal;
}

/** Added: a request's options: its timeout, and a signal that gives it up (rejecting with the signal's reason). */
export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

// `using client = new PondClient(...)` (TypeScript 5.2+) with any `lib`: declared as @types/node declares it.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** Also a namespace of types, as upstream's enum is: `let s: ConnectionState.CONNECTED`. */
export declare const ConnectionState: {
  readonly DISCONNECTED: 'disconnected';
  readonly CONNECTING: 'connecting';
  readonly CONNECTED: 'connected';
};
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];
export declare namespace ConnectionState {
  type DISCONNECTED = typeof ConnectionState.DISCONNECTED;
  type CONNECTING = typeof ConnectionState.CONNECTING;
  type CONNECTED = typeof ConnectionState.CONNECTED;
}

/** Also a namespace of types, as upstream's enum is: `let s: ChannelState.JOINED`. */
export declare const ChannelState: {
  readonly IDLE: 'IDLE';
  readonly JOINING: 'JOINING';
  readonly JOINED: 'JOINED';
  readonly STALLED: 'STALLED';
  readonly CLOSED: 'CLOSED';
  readonly DECLINED: 'DECLINED';
};
export type ChannelState = (typeof ChannelState)[keyof typeof ChannelState];
export declare namespace ChannelState {
  type IDLE = typeof ChannelState.IDLE;
  type JOINING = typeof ChannelState.JOINING;
  type JOINED = typeof ChannelState.JOINED;
  type STALLED = typeof ChannelState.STALLED;
  type CLOSED = typeof ChannelState.CLOSED;
  type DECLINED = typeof ChannelState.DECLINED;
}

/** What the server said about a channel: a declined join (`joinError`), an eviction, a NOT_FOUND. */
export interface PondErrorPayload {
  code: string;
  message: string;
  /** HTTP-like: 401/403 refused, 404 no such channel, 408 join timed out. */
  status: number;
  /** The same number as `status`, under the name some servers use. */
  statusCode?: number;
  /** The server's `details`, when it sent any. */
  details?: unknown;
}

export interface PresenceChange<P = PondObject> {
  changed: P;
  presence: P[];
}

// Routes. An event name or channel path is a pattern when a segment starts with `:` (a param keyed by the rest of
// the segment) or is exactly `*` (keyed '*'); any other name is matched as it is.
type RouteParam<Segment> = Segment extends `:${infer Name}` ? Name : Segment extends '*' ? '*' : never;
type RouteParamNames<Path> = Path extends `${infer First}/${infer Rest}`
  ? RouteParam<First> | RouteParamNames<Rest>
  : RouteParam<Path>;
/** The params of a route pattern: `Params<'/chat/:roomId'>` is `{ roomId: string }`; `{}` for a plain name. */
export type Params<Path> = { [Key in RouteParamNames<Path>]: string };
/** What onMessageEvent gives with a payload: the pattern's params and the event's query string. */
export type EventParams<Path> = {
  params: Params<Path>;
  query: Record<string, string>;
};
/** `[params]` when the route has params, else `[params?]`. */
export type RouteParamsArguments<Path extends string> = keyof Params<Path> extends never
  ? [params?: Params<Path>]
  : [params: Params<Path>];

// Schemas (upstream's, from @eleven-am/pondsocket-common). Its object types take `any` members, so interfaces fit.
type AnyObject = Record<string, any>;
/** Each event's payload, or `[request, response]` for an event answered through sendForResponse. */
export type PondEventMap = Record<string, [AnyObject, AnyObject] | AnyObject>;
/** What a channel carries, shared by server and client. */
export interface PondSchema<
  Events extends PondEventMap = PondEventMap,
  Presence extends AnyObject = AnyObject,
  Assigns extends AnyObject = AnyObject,
  JoinParams extends AnyObject = AnyObject,
> {
  events: Events;
  presence: Presence;
  assigns: Assigns;
  joinParams: JoinParams;
}
/** The schema of an untyped channel: any event, any payload. */
export type AnyPondSchema = PondSchema;
export type EventsOf<Schema extends AnyPondSchema> = Schema['events'];
export type PresenceOf<Schema extends AnyPondSchema> = Schema['presence'];
export type JoinParamsOf<Schema extends AnyPondSchema> = Schema['joinParams'];
/** The payload an event is sent with (the request, for a `[request, response]` event). */
export type EventPayload<EventMap, Event extends keyof EventMap> = EventMap[Event] extends infer Value
  ? Value extends [infer Request, unknown] ? Request : Value
  : never;
/** The events that have a response. */
export type EventWithResponse<EventMap> = {
  [Event in keyof EventMap]: EventMap[Event] extends infer Value
    ? (Value extends [unknown, unknown] ? Event : never)
    : never;
}[keyof EventMap];
export type PayloadForResponse<EventMap, Event extends keyof EventMap> = EventMap[Event] extends infer Value
  ? Value extends [infer Request, unknown] ? Request : never
  : never;
export type ResponseForEvent<EventMap, Event extends keyof EventMap> = EventMap[Event] extends infer Value
  ? Value extends [unknown, infer Response] ? Response : never
  : never;

declare const schemaType: unique symbol;
/** What definePondSchema returns: a value that only carries its schema's type. */
export interface PondSchemaToken<Schema extends AnyPondSchema> {
  readonly kind: 'pondsocket.schema';
  readonly [schemaType]: Schema;
}
/** A channel's path and schema, for createChannel; from definePondChannel. */
export interface PondChannelDefinition<Schema extends AnyPondSchema = AnyPondSchema, Path extends string = string> {
  readonly kind: 'pondsocket.channel';
  readonly path: Path;
  readonly schema: PondSchemaToken<Schema>;
  /** The channel name for these params (URI-encoded); throws PondRouteError for a missing one. */
  build(params: Params<Path>): string;
}

// A definition as createChannel takes it: also upstream's own (its token keeps the schema under another symbol).
interface AnyChannelDefinition {
  readonly kind: 'pondsocket.channel';
  readonly path: string;
  readonly schema: { readonly kind: 'pondsocket.schema' };
}
type TokenSchema<Token> = [Token[Extract<keyof Token, symbol>]] extends [infer Schema extends AnyPondSchema]
  ? ([Schema] extends [never] ? AnyPondSchema : Schema)
  : AnyPondSchema;
type DefinitionSchema<Definition> = Definition extends { readonly schema: infer Token }
  ? TokenSchema<Token>
  : AnyPondSchema;
type DefinitionPath<Definition> = Definition extends { readonly path: infer Path extends string } ? Path : string;
type DefinedJoinOptions<Definition> = Record<never, never> extends JoinParamsOf<DefinitionSchema<Definition>>
  ? { joinParams?: JoinParamsOf<DefinitionSchema<Definition>> }
  : { joinParams: JoinParamsOf<DefinitionSchema<Definition>> };
type DefinedRouteOptions<Definition> = keyof Params<DefinitionPath<Definition>> extends never
  ? { params?: Params<DefinitionPath<Definition>> }
  : { params: Params<DefinitionPath<Definition>> };
/** createChannel's options for a definition: `params` if its path has any, `joinParams` if the schema needs. */
export type DefinedChannelOptions<Definition extends AnyChannelDefinition> = DefinedJoinOptions<Definition> &
  DefinedRouteOptions<Definition> & {
    /** This channel's join timeout, instead of the client's `joinTimeout`. */
    joinTimeout?: number;
  };
type DefinedChannelArguments<Definition extends AnyChannelDefinition> =
  Record<never, never> extends DefinedChannelOptions<Definition>
    ? [options?: DefinedChannelOptions<Definition>]
    : [options: DefinedChannelOptions<Definition>];

// A Channel's first type argument is a schema (0.0.39) or an event map (0.0.32, with the presence type second);
// a schema is the one with `events`.
type ChannelEvents<T> = [T] extends [{ events: infer Events }] ? Events : T;
type ChannelPresence<T, Presence> = [T] extends [{ events: unknown; presence: infer P }] ? P : Presence;
type ChannelJoinParams<T> = [T] extends [{ events: unknown; joinParams: infer J }] ? J : AnyObject;
type EventName<T> = Extract<keyof ChannelEvents<T>, string>;
type ResponseEventName<T> = Extract<EventWithResponse<ChannelEvents<T>>, string>;
/** `string` for an untyped channel (any event name), `never` for a typed one. */
type UntypedEventName<T> = string extends EventName<T> ? string : never;
type SendArguments<Payload, Event extends string> = keyof Params<Event> extends never
  ? Record<never, never> extends Payload
    ? [payload?: Payload, params?: Params<Event>]
    : [payload: Payload, params?: Params<Event>]
  : [payload: Payload, params: Params<Event>];
type RequestArguments<Payload, Event extends string> = keyof Params<Event> extends never
  ? Record<never, never> extends Payload
    ? [payload?: Payload, options?: number | RequestOptions]
    : [payload: Payload, options?: number | RequestOptions]
  : [payload: Payload, params: Params<Event>, options?: number | RequestOptions];

export interface ClientOptions {
  /** Milliseconds for the socket to open and the server to accept the connection. Default 10000. */
  connectionTimeout?: number;
  /**
   * First reconnect delay; attempt n waits about base * 2^n (equal jitter), except the first attempt after a lost
   * connection, which waits a random 0 to base ms (clients of a server that died do not all arrive at once).
   * Default 1000.
   */
  baseReconnectDelay?: number;
  /** Longest reconnect delay. Default 30000. */
  maxReconnectDelay?: number;
  /** Reconnects in a row before giving up, counted across the endpoints; -1 never gives up. Default -1. */
  maxReconnectAttempts?: number;
  /** When set, a server silent for twice this long is dropped and reconnected. Default: off. */
  pingInterval?: number;
  /** Messages a channel keeps until it is joined; the oldest is dropped beyond this. Default 100. */
  maxQueueSize?: number;
  /** Default timeout of sendForResponse. Default 30000. */
  responseTimeout?: number;
  /** How long a join may wait before the channel is DECLINED with status 408. Default 10000. */
  joinTimeout?: number;
  /** The WebSocket class to use where there is no global one (e.g. the `ws` package in Node 20). */
  WebSocket?: new (url: string) => WebSocket;
  /**
   * Added: `'websocket'` (the default), `'sse'` (Server-Sent Events: an event stream read with fetch, a POST per
   * message), or `'auto'` (WebSocket, moving to SSE after two attempts in a row fail to connect, until disconnect()).
   */
  transport?: 'websocket' | 'sse' | 'auto';
  /** SSE: send cookies with the event stream and the POSTs to another origin (`credentials: 'include'`). */
  withCredentials?: boolean;
  /**
   * Added: the debug log, off by default: each state change, attempt (the endpoint without its query string),
   * backoff delay, join, decline, timeout and dropped frame, with the channel and request id. Never a payload, a
   * param or the query string.
   */
  logger?: (level: 'debug' | 'info' | 'warn', message: string, fields: Record<string, string>) => void;
  /**
   * Added: after a reconnect, the new presence list comes once through onUsersChange, and onJoin/onLeave fire only
   * for who arrived or left meanwhile, compared by deep equality, or by this key when the presence carries something
   * that changes with every connection (a connection id).
   */
  presenceKey?: (presence: any) => string;
}

/** The options of SSEClient (upstream's name): the client's, over Server-Sent Events. */
export interface SSEClientOptions extends Omit<ClientOptions, 'transport'> {
  withCredentials?: boolean;
}

/**
 * The connection params (added to the endpoint's query string), or, added, a function that returns them or a promise
 * of them: called before every connection attempt, so that a refreshed token is used at the next reconnect. If it
 * throws or rejects, the attempt fails (a ConnectionError through onError) and the client backs off; one that never
 * settles is bounded by `connectionTimeout`.
 */
export type ClientParams =
  | Record<string, unknown>
  | (() => Record<string, unknown> | PromiseLike<Record<string, unknown>>);

export declare class PondClient {
  /**
   * Throws a TypeError for an endpoint that is not a ws/wss/http/https URL, or an option value it cannot take.
   * Added: `endpoint` may be a list of the servers of one cluster; the client uses one at a time and moves to the
   * next, round robin, after every failed attempt or lost connection.
   */
  constructor(endpoint: string | readonly string[], params?: ClientParams, options?: ClientOptions);
  /** Starts connecting; never throws, nothing to await. Failures arrive through onError and onConnectionChange. */
  connect(): void;
  /** Closes the connection and every channel (CLOSED); pending requests reject; no reconnect follows. */
  disconnect(): void;
  getState(): ConnectionState;
  /** The transport of the current connection, or of the attempt under way or last made. */
  getTransport(): 'websocket' | 'sse';
  /** The server's id for the current connection, once it is accepted. */
  getConnectionId(): string | undefined;
  /** Added: the endpoint in use, or the one the next attempt goes to, without its query string. */
  getEndpoint(): string;
  /**
   * The live channel named by the definition's path with `params`, or a new IDLE one that will join with
   * `joinParams`. Throws PondRouteError for a missing route param.
   */
  createChannel<Definition extends AnyChannelDefinition>(
    definition: Definition,
    ...options: DefinedChannelArguments<Definition>
  ): Channel<DefinitionSchema<Definition>>;
  /** The live channel of that name, or a new IDLE one that will join with `params`. */
  createChannel<Schema extends AnyPondSchema | PondEventMap = AnyPondSchema, Presence extends AnyObject = AnyObject>(
    name: string,
    params?: ChannelJoinParams<Schema>,
    options?: {
      /** Added: this channel's join timeout, instead of the client's `joinTimeout`. */
      joinTimeout?: number;
    },
  ): Channel<Schema, Presence>;
  /** Called at once with the current state, then on every change. */
  onConnectionChange(callback: (state: ConnectionState) => void, options?: SubscriptionOptions): Unsubscribe;
  /** Malformed frames, server errors, socket trouble, callbacks that threw. */
  onError(callback: (error: Error) => void, options?: SubscriptionOptions): Unsubscribe;
  /** Added: each reconnect the client plans. */
  onReconnectScheduled(
    callback: (info: { attempt: number; delayMs: number }) => void,
    options?: SubscriptionOptions,
  ): Unsubscribe;
  /** Frees the wasm memory of this handle at once instead of at garbage collection. */
  free(): void;
  /** Added: disconnects and frees this handle (`using client = new PondClient(...)`). */
  [Symbol.dispose](): void;
}

/** A PondClient over Server-Sent Events, as upstream's SSEClient (an `http(s)` or `ws(s)` endpoint alike). */
export declare class SSEClient extends PondClient {
  constructor(endpoint: string | readonly string[], params?: ClientParams, options?: SSEClientOptions);
}

/**
 * `Channel<Schema>` (0.0.39) or `Channel<EventMap, Presence>` (0.0.32); `Channel` alone is untyped (any event).
 * Differs from earlier pondsocket-wasm, whose `Channel<P>` took the presence type: now `Channel<PondEventMap, P>`.
 */
export declare class Channel<
  Schema extends AnyPondSchema | PondEventMap = AnyPondSchema,
  Presence extends AnyObject = AnyObject,
> {
  private constructor();
  readonly name: string;
  readonly channelState: ChannelState;
  /** Everyone present, as of the latest presence message. */
  readonly presence: ChannelPresence<Schema, Presence>[];
  /** Why the join was declined, for a DECLINED channel. */
  readonly joinError: PondErrorPayload | null;
  /** Added: the server's reason, for a channel CLOSED by eviction. */
  readonly evictedReason: string | null;
  /** Joins now if connected, else once connected. Throws ChannelUnavailableError on a CLOSED or DECLINED channel. */
  join(): void;
  /** Leaves; the channel ends CLOSED. Does nothing on a CLOSED or DECLINED channel. */
  leave(): void;
  /**
   * Sends at once when joined, else queues. Throws ChannelUnavailableError on a CLOSED or DECLINED channel, and
   * PondRouteError for a pattern event without its params (they are required by type).
   */
  sendMessage<Event extends EventName<Schema>>(
    event: Event,
    ...args: SendArguments<EventPayload<ChannelEvents<Schema>, Event>, Event>
  ): void;
  /**
   * Resolves with the reply carrying this request's id; rejects with ResponseTimeoutError, RequestCancelledError,
   * or PondRouteError. `(event, payload, params, options?)` for a pattern event, else `(event, payload, options?)`;
   * `options` is the timeout in milliseconds or, added, `{ timeoutMs, signal }`: aborting the signal rejects with its
   * reason (an `AbortError` DOMException when none was given), forgets the request and drops a late reply.
   */
  sendForResponse<Event extends ResponseEventName<Schema>>(
    event: Event,
    ...args: RequestArguments<PayloadForResponse<ChannelEvents<Schema>, Event>, Event>
  ): Promise<ResponseForEvent<ChannelEvents<Schema>, Event>>;
  /** Added (pondsocket-wasm's earlier form): an untyped channel's request, with the response type given. */
  sendForResponse<R extends AnyObject = PondObject>(
    event: UntypedEventName<Schema>,
    payload?: AnyObject,
    ...args: [options?: number | RequestOptions] | [params: Record<string, string>, options?: number | RequestOptions]
  ): Promise<R>;
  onMessage<Event extends EventName<Schema>>(
    callback: (event: Event, payload: EventPayload<ChannelEvents<Schema>, Event>) => void,
    options?: SubscriptionOptions,
  ): Unsubscribe;
  /** Messages of one event, or of every event matching a pattern (its params and the query string come second). */
  onMessageEvent<Event extends EventName<Schema>>(
    event: Event,
    callback: (payload: EventPayload<ChannelEvents<Schema>, Event>, eventParams: EventParams<Event>) => void,
    options?: SubscriptionOptions,
  ): Unsubscribe;
  /** Added (pondsocket-wasm's earlier form): an untyped channel's messages, with the payload type given. */
  onMessageEvent<T extends AnyObject = PondObject>(
    event: UntypedEventName<Schema>,
    callback: (payload: T, eventParams: EventParams<string>) => void,
    options?: SubscriptionOptions,
  ): Unsubscribe;
  onJoin(callback: (presence: ChannelPresence<Schema, Presence>) => void, options?: SubscriptionOptions): Unsubscribe;
  onLeave(callback: (presence: ChannelPresence<Schema, Presence>) => void, options?: SubscriptionOptions): Unsubscribe;
  onPresenceChange(
    callback: (change: PresenceChange<ChannelPresence<Schema, Presence>>) => void,
    options?: SubscriptionOptions,
  ): Unsubscribe;
  onUsersChange(callback: (presence: ChannelPresence<Schema, Presence>[]) => void, options?: SubscriptionOptions): Unsubscribe;
  /** Called at once with the current state, then on every change. */
  onChannelStateChange(callback: (state: ChannelState) => void, options?: SubscriptionOptions): Unsubscribe;
  onError(callback: (error: PondErrorPayload) => void, options?: SubscriptionOptions): Unsubscribe;
  /** Frees the wasm memory of this handle at once instead of at garbage collection. */
  free(): void;
  /** Added: leaves the channel and frees this handle (`using channel = client.createChannel(...)`). */
  [Symbol.dispose](): void;
}

/** A schema for definePondChannel: `definePondSchema<ChatSchema>()`; the value carries only the type. */
export declare function definePondSchema<Schema extends AnyPondSchema>(): PondSchemaToken<Schema>;
/** A channel for createChannel: its schema and path (default `'*'`). Throws PondRouteError for a malformed path. */
export declare function definePondChannel<Schema extends AnyPondSchema, Path extends string = '*'>(
  schema: PondSchemaToken<Schema>,
  path?: Path,
): PondChannelDefinition<Schema, Path>;

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
/** A malformed route pattern, or a pattern's param missing when an event or channel name is built. */
export declare class PondRouteError extends PondSocketError {
  readonly route: string;
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
  SSEClient: typeof SSEClient;
  Channel: typeof Channel;
  ConnectionState: typeof ConnectionState;
  ChannelState: typeof ChannelState;
  PondSocketError: typeof PondSocketError;
  ResponseTimeoutError: typeof ResponseTimeoutError;
  RequestCancelledError: typeof RequestCancelledError;
  ChannelUnavailableError: typeof ChannelUnavailableError;
  PondRouteError: typeof PondRouteError;
  MalformedFrameError: typeof MalformedFrameError;
  ServerError: typeof ServerError;
  ConnectionError: typeof ConnectionError;
  CallbackError: typeof CallbackError;
  definePondSchema: typeof definePondSchema;
  definePondChannel: typeof definePondChannel;
};
export default api;
