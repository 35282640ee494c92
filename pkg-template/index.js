// Entry for browsers and bundlers: an ES module that instantiates the wasm before anything is exported
// (top-level await: every current browser, Vite 7+ by default, webpack 5 with experiments.topLevelAwait).
import init, * as wasm from './web/pondsocket_wasm.js';
import definePondSocket from './api.mjs';

await init({ module_or_path: new URL('./web/pondsocket_wasm_bg.wasm', import.meta.url) });

const api = definePondSocket(wasm);

export const {
  PondClient, SSEClient, Channel, ConnectionState, ChannelState, PondSocketError, ResponseTimeoutError,
  RequestCancelledError, ChannelUnavailableError, MalformedFrameError, ServerError, ConnectionError, CallbackError,
  PondRouteError, definePondSchema, definePondChannel,
} = api;
export default api;
