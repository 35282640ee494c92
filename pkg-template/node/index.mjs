// Entry for Node's import: the same instance as require() gives, so both can be mixed in one process.
import { createRequire } from 'node:module';

const api = createRequire(import.meta.url)('./index.cjs');

export const {
  PondClient, SSEClient, Channel, ConnectionState, ChannelState, PondSocketError, ResponseTimeoutError,
  RequestCancelledError, ChannelUnavailableError, MalformedFrameError, ServerError, ConnectionError, CallbackError,
  PondRouteError, definePondSchema, definePondChannel,
} = api;
export default api;
