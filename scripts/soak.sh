#!/usr/bin/env bash
# The soak (not part of scripts/test.sh or CI): two clients of the package in the same channels for N minutes with
# steady traffic while the Rust test server is killed and restarted on a schedule; samples every 10 s.
#   scripts/soak.sh [--minutes N] [--restart-every S]      default: 10 minutes, a restart every 60 s
# Other options go to tests/soak/soak.mjs: --down-ms N (300), --rate N (50 broadcasts/s), --request-rate N (10/s),
# --channels N (10), --sample-every S (10), --warmup S (30), --out DIR (target/soak).
# Builds pkg/ when it is missing (scripts/build-pkg.sh); otherwise soaks a copy of the pkg/ there is (target/soak-pkg).
# Writes target/soak/samples.csv, restarts.csv, summary.md and summary.json; exits 0 only if the soak passed
# (see the header of tests/soak/soak.mjs for what that means).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
source scripts/lib/servers.sh

log() { echo "[soak] $*" >&2; }

pkg_complete() { [ -f pkg/package.json ] && [ -f pkg/node/index.mjs ] && [ -f pkg/node/index.cjs ] && [ -f pkg/node/pondsocket_wasm_bg.wasm ]; }
# Someone else's scripts/build-pkg.sh empties pkg/ while it runs: wait for it rather than start a second one.
for _ in $(seq 600); do
  pkg_complete || ! pgrep -f 'scripts/build-pkg.sh' >/dev/null || { sleep 1; continue; }
  break
done
if ! pkg_complete; then
  scripts/build-pkg.sh
elif [ -n "$(find src Cargo.toml Cargo.lock pkg-template -newer pkg/node/pondsocket_wasm_bg.wasm -print -quit 2>/dev/null)" ]; then
  log "warning: src/, Cargo.* or pkg-template/ changed since pkg/ was built: soaking the old build (scripts/build-pkg.sh to rebuild)"
fi
# Soak a copy: pkg/ may be rebuilt while this runs. The summary names the build (wasm sha256, build time, commit).
mkdir -p target
rm -rf target/soak-pkg
cp -Rp pkg target/soak-pkg
export PONDSOCKET_SOAK_PKG=target/soak-pkg/node/index.mjs

build_test_server
start_test_server

# Node 20 has a global WebSocket only behind this flag; Node 22+ has it anyway.
node_flags=(--expose-gc)
if [ "$(node -p 'typeof WebSocket')" != "function" ]; then node_flags+=(--experimental-websocket); fi

export PONDSOCKET_SOAK_ARGS="$*"
log "node ${node_flags[*]} tests/soak/soak.mjs $*"
rc=0
node "${node_flags[@]}" tests/soak/soak.mjs "$@" || rc=$?
exit "$rc"
