#!/usr/bin/env bash
# The benchmark (not part of the tests): ours (pkg/) against the peer JS client @eleven-am/pondsocket-client and a
# bare-WebSocket floor, in Node and in headless Chromium (and the inbound and request rows in Firefox and WebKit),
# against bench/blast-server.mjs on loopback. Writes
# docs/BENCHMARKS.md and docs/benchmarks.svg and prints the table; raw runs in target/bench/results.json.
#   scripts/bench.sh            full run: 5 interleaved rounds (3 for memory), 50,000 inbound messages, ... (~18 min on 2 cores;
#                               the cold-start and footprint rows, 5 fresh processes/pages each, ~2.5 min of it)
#   scripts/bench.sh --quick    smoke run: one round, a tenth of the work (~1 min)
# Other options go to bench/run.mjs: --rounds N, --memory-rounds N, --cold-rounds N, --footprint-rounds N,
#   --env node,browser,firefox,webkit (any of them), --report-only (render docs/ again from target/bench/results.json, running nothing),
#   --scenarios LIST (or BENCH_SCENARIOS=LIST): only these of inbound-small, inbound-large, rr-seq, rr-conc, fanout,
#   cold-start, memory, footprint; prints their table and writes target/bench/results-partial.json, not docs/.
#   e.g. scripts/bench.sh --scenarios cold-start,footprint
#   --rebuild                   rebuild pkg/ first (otherwise it is built only when missing)
# Every message is counted and every reply matched to its request: a run that cannot show it fails the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh

log() { echo "[bench] $*" >&2; }

# One benchmark at a time on this machine: a second one would measure the first (and share target/bench).
mkdir -p target/bench
exec 9>target/bench/.lock
if ! flock -n 9; then
  log "another scripts/bench.sh is running (target/bench/.lock): waiting for it to finish"
  flock 9
fi

rebuild=0
args=()
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=1 ;;
    *) args+=("$arg") ;;
  esac
done

# Tools: the browser engines, playwright-core, ws (scripts/setup.sh, idempotent); a display for WebKit.
scripts/setup.sh --browser
source scripts/lib/browsers.sh
# The benchmark's own pinned npm packages (the peer client, esbuild) in target/bench-deps.
source scripts/lib/bench-deps.sh
install_bench_deps

pkg_complete() { [ -f pkg/package.json ] && [ -f pkg/index.js ] && [ -f pkg/web/pondsocket_wasm_bg.wasm ] && [ -f pkg/node/index.cjs ]; }
# Someone else's scripts/build-pkg.sh empties pkg/ while it runs: wait for it rather than start a second one.
for _ in $(seq 600); do
  pkg_complete || ! pgrep -f 'scripts/build-pkg.sh' >/dev/null || { sleep 1; continue; }
  break
done
if [ $rebuild -eq 1 ] || ! pkg_complete; then
  scripts/build-pkg.sh
elif [ -n "$(find src Cargo.toml Cargo.lock pkg-template -newer pkg/web/pondsocket_wasm_bg.wasm -print -quit 2>/dev/null)" ]; then
  log "warning: src/, Cargo.* or pkg-template/ changed since pkg/ was built: measuring the old build (--rebuild to rebuild)"
fi

# The driver in a process group of its own: on exit or interrupt, that whole group (the blast server, the Node
# runs, Chromium) is ended, and nothing else.
command_line="scripts/bench.sh${*:+ $*}"
BROWSER_ENGINES=(webkit)
browsers_prepare
setsid node bench/run.mjs --command "$command_line" "${args[@]}" &
driver=$!
stop() {
  trap - EXIT INT TERM
  browsers_cleanup
  kill -0 -- "-$driver" 2>/dev/null || return 0
  kill -TERM -- "-$driver" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 -- "-$driver" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$driver" 2>/dev/null || true
}
trap 'stop; exit 130' INT TERM
trap stop EXIT
status=0
wait "$driver" || status=$?
exit "$status"
