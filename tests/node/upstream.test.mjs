// tests/node/upstream-suite.mjs in Node: code written for @eleven-am/pondsocket-client, importing our package.
import { test } from 'node:test';

import * as api from 'pondsocket-wasm';
import { url, overTransport } from './helpers.mjs';
import { cases } from './upstream-suite.mjs';

// Over the run's transport; SSEClient's own case where the server speaks SSE (the Python one).
const withSse = process.env.PONDSOCKET_SERVER_NAME === 'python';
for (const [name, run] of cases({ ...api, PondClient: overTransport(api.PondClient) }, url, { sse: withSse })) {
  test(name, run);
}
