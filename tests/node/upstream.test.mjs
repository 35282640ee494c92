// tests/node/upstream-suite.mjs in Node: code written for @eleven-am/pondsocket-client, importing our package.
import { test } from 'node:test';

import * as api from 'pondsocket-wasm';
import { url } from './helpers.mjs';
import { cases } from './upstream-suite.mjs';

for (const [name, run] of cases(api, url)) {
  test(name, run);
}
