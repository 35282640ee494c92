#!/usr/bin/env bash
# The Node suite: packs pkg/ with npm, installs the tarball into an empty folder as a user would, and runs
# tests/node there once against each real server (PONDSOCKET_SERVERS, default "rust python"), or against the one
# given in PONDSOCKET_TEST_URL; the hostile-server suite runs once; then over SSE against the Python server; then
# the cluster suite against Python nodes sharing a real Redis (scripts/cluster.sh, which the suite starts).
# Expects pkg/ built (scripts/build-pkg.sh); scripts/test.sh does that first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
source scripts/lib/servers.sh

[ -f pkg/package.json ] || scripts/build-pkg.sh
[ -n "${PONDSOCKET_HOSTILE_URL:-}" ] || start_hostile_server

mkdir -p target/npm
rm -f target/npm/pondsocket-wasm-*.tgz
tarball=$(cd target/npm && npm pack --silent ../../pkg | tail -1)
app=$(mktemp -d "${TMPDIR:-/tmp}/pondsocket-node-app.XXXXXX")
servers_add_exit_hook "rm -rf '$app'"
# With `ws`, the package's optional peer dependency (the version scripts/setup.sh installs for the tools), for the
# suite that runs Node with no global WebSocket.
(cd "$app" && npm init -y >/dev/null \
  && npm install --silent --no-audit --no-fund "$OLDPWD/target/npm/$tarball" ws@8.23.0 >/dev/null)
cp tests/node/*.mjs tests/node/*.cjs tests/node/*.ts tests/support/no-websocket-proxy.mjs "$app/"

echo "== node: type-check tests/node/typecheck.ts and types/v0032.ts, v0039.ts against the package's index.d.ts"
cp tests/node/types/*.ts tests/node/types/*.cts "$app/"
tsc=$PONDSOCKET_TOOLS/node_modules/typescript/bin/tsc
(cd "$app" && node "$tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 \
  --lib es2022,dom typecheck.ts v0032.ts v0039.ts)
echo "== node: type-check tests/node/types/dispose.ts (\`using\`, lib esnext.disposable) with TypeScript 5.9 and 5.4"
for compiler in typescript typescript-5.4; do
  (cd "$app" && node "$PONDSOCKET_TOOLS/node_modules/$compiler/bin/tsc" --noEmit --strict --module nodenext \
    --moduleResolution nodenext --target es2022 --lib es2022,esnext.disposable,dom dispose.ts)
done
echo "== node: type-check tests/node/types/commonjs.cts (a CommonJS project) with TypeScript 5.9 and 5.4"
for compiler in typescript typescript-5.4; do
  (cd "$app" && node "$PONDSOCKET_TOOLS/node_modules/$compiler/bin/tsc" --noEmit --strict --module node16 \
    --moduleResolution node16 --target es2022 --lib es2022,dom commonjs.cts)
done
echo "== node: $tarball installed in an empty folder; suites: $(cd "$app" && ls *.test.*)"

# Node 20 has a global WebSocket only behind this flag; Node 22+ has it anyway.
node_flags=(--expose-gc)
if [ "$(node -p 'typeof WebSocket')" != "function" ]; then node_flags+=(--experimental-websocket); fi
run_suites() {
  echo "== node: against the ${PONDSOCKET_SERVER_NAME:-given} server $PONDSOCKET_TEST_URL" \
    "over ${PONDSOCKET_TRANSPORT:-websocket}"
  (cd "$app" && node "${node_flags[@]}" --test --test-force-exit --test-reporter=spec "$@")
}

if [ -n "${PONDSOCKET_TEST_URL:-}" ]; then
  mapfile -t suites < <(cd "$app" && ls ./*.test.mjs ./*.test.cjs)
  run_suites "${suites[@]}"
  exit
fi
# The cluster suite starts its own cluster (tests/support/cluster.mjs runs scripts/cluster.sh from this checkout).
export PONDSOCKET_CLUSTER_MODULE="$PWD/tests/support/cluster.mjs"
mapfile -t suites < <(cd "$app" && ls ./*.test.mjs ./*.test.cjs | grep -v '^\./cluster\.test\.mjs$')
for server in ${PONDSOCKET_SERVERS:-rust python}; do
  start_named_server "$server"
  run_suites "${suites[@]}"
  stop_test_servers
  # The hostile, churn and process suites do not depend on the real server, and the fault suite is for the Rust
  # one: once is enough.
  suites=(./api.test.mjs ./require.test.cjs ./upstream.test.mjs ./endpoints.test.mjs)
done

# Over Server-Sent Events, against the server that speaks it (the Python one; pondsocket-axum serves no SSE): the
# API, upstream-style and fault suites, the churn suite sized for SSE's round trip per message, and 'auto' behind a
# proxy that refuses WebSocket upgrades.
case " ${PONDSOCKET_SERVERS:-rust python} " in
  *" python "*)
    start_named_server python
    (
      export PONDSOCKET_TRANSPORT=sse PONDSOCKET_CHURN_URL=$PONDSOCKET_TEST_URL
      export PONDSOCKET_CHURN_CYCLES=300 PONDSOCKET_CHURN_REQUESTS=3000
      run_suites ./api.test.mjs ./upstream.test.mjs ./faults.test.mjs ./churn.test.mjs ./auto.test.mjs \
        ./endpoints.test.mjs
    )
    stop_test_servers
    ;;
esac

# Failover on a real cluster: Redis and three Python nodes, killed and restarted under the clients.
case " ${PONDSOCKET_SERVERS:-rust python} " in
  *" python "*)
    PONDSOCKET_TEST_URL=cluster PONDSOCKET_SERVER_NAME=cluster run_suites ./cluster.test.mjs
    ;;
esac
