#!/usr/bin/env bash
# The end-to-end browser suites, in every engine of scripts/lib/browsers.sh (Chromium, Firefox, WebKit; or
# PONDSOCKET_BROWSERS="firefox ..."), one engine after another:
# - tests/browser.rs (wasm-bindgen-test): once against each real server (PONDSOCKET_SERVERS, default "rust python":
#   tests/server and tests/server-python), each run by its supervisor (tests/support/supervisor.mjs), which the suite
#   uses to restart it. The other server runs beside it for the test that uses both at once (PONDSOCKET_OTHER_URL).
# - tests/browser_hostile.rs, the hostile and fault suite: once, against the Rust server (while it runs) and the
#   scripted hostile server (tests/support/hostile-server.mjs, started once: PONDSOCKET_HOSTILE_URL and
#   PONDSOCKET_BLACKHOLE_URL, unless the caller set them).
# A server the caller started (PONDSOCKET_TEST_URL and PONDSOCKET_CONTROL_URL set) is used as is, alone, for both.
# Exit code: non-zero if anything failed. Extra arguments go to the test binary (e.g. a test name filter).
#
# The suite reads the server's URLs at compile time (option_env!); cargo tracks those variables, so a new port
# rebuilds the suite, once per server: the engines then run the same build. It builds in target/browser, so that it
# never waits for another cargo build's lock on target/.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/env.sh
source scripts/lib/servers.sh
source scripts/lib/browsers.sh

scripts/setup.sh --browser
export CARGO_TARGET_DIR="${PONDSOCKET_BROWSER_TARGET_DIR:-$PWD/target/browser}"
# The runner's limit for the whole run (its default, 20 s, is less than the suite needs).
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"

# The runner scripts/setup.sh installed (the exact wasm-bindgen version), which cargo calls with the test's wasm.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# Without DWARF, which no browser reads, the suite's wasm is ~4 MB instead of ~31 (panics still name file and line,
# and stack traces their functions, from the name section).
export CARGO_PROFILE_DEV_DEBUG=0
browsers_prepare
test_args=()
[ $# -eq 0 ] || test_args=(-- "$@")

# run_suite TARGET: one test target (tests/TARGET.rs) against the server of PONDSOCKET_TEST_URL, in every engine.
run_suite() {
  local engine
  for engine in "${BROWSER_ENGINES[@]}"; do
    run_suite_in "$engine" "$1"
  done
}

run_suite_in() {
  local engine=$1 target=$2 start=$SECONDS
  echo "== $target: in $(engine_label "$engine") (wasm-bindgen-test, ${PONDSOCKET_SERVER_NAME:-given} server $PONDSOCKET_TEST_URL)"
  # Tried up to three times when the test page never started its tests. The runner's own HTTP server now and then
  # never answers one of the page's module requests: found in a hung Chromium through its DevTools port, the page
  # "complete", "Loading scripts...", one snippet request pending for 300 s (then the renderer never runs the tests:
  # ~2 runs in 12); WebKit retries such a request after ~60 s and goes on (about one browser-suite run in two took
  # 60 s more). It comes in runs (once both attempts of a run stalled), and hits the suite whose page loads the most
  # modules (tests/browser.rs), never seen for the hostile suite's page. So a page that has not started its tests
  # START_LIMIT seconds after the runner started is stopped, with its driver and browser, and tried again, up to
  # three times in all; any failure of a test that ran fails the suite at once.
  local log attempt
  log=$(mktemp)
  for attempt in 1 2 3; do
    if run_watched "$engine" "$target" "$log"; then
      break
    fi
    if [ "$attempt" -lt 3 ] && ! grep -qE '^running [0-9]+ tests?' "$log" \
      && grep -qE 'Failed to detect test as having been run|Timed out receiving message from renderer|did not start its tests' "$log"; then
      echo "== $target: WARNING: the test page never started its tests in $engine; trying it again" >&2
      continue
    fi
    rm -f "$log"
    return 1
  done
  rm -f "$log"
  echo "== $target: passed in $engine against the ${PONDSOCKET_SERVER_NAME:-given} server in $((SECONDS - start)) s"
}

START_LIMIT=${PONDSOCKET_START_LIMIT:-45}

# run_watched ENGINE TARGET LOG: cargo test of TARGET in ENGINE, output shown and kept in LOG, in a session of its
# own (cargo, the runner, the driver and the browser), which is ended if the page does not start its tests in time.
run_watched() {
  local engine=$1 target=$2 log=$3 pid since=""
  : > "$log"
  setsid bash -c 'source scripts/lib/browsers.sh && with_engine "$@"' _ "$engine" \
    timeout --kill-after=10 1200 cargo test --locked --target wasm32-unknown-unknown \
    --test "$target" ${test_args[@]+"${test_args[@]}"} > >(tee -a "$log") 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$since" ] && grep -q "Running tests/$target.rs" "$log"; then since=$SECONDS; fi
    if [ -n "$since" ] && [ $((SECONDS - since)) -ge "$START_LIMIT" ] && ! grep -qE '^running [0-9]+ tests?' "$log"; then
      echo "== $target: the test page did not start its tests in $START_LIMIT s" | tee -a "$log" >&2
      # The whole session: timeout(1) runs cargo in a process group of its own, and the driver starts more.
      pkill -TERM -s "$pid" 2>/dev/null || true
      for _ in $(seq 50); do pgrep -s "$pid" >/dev/null || break; sleep 0.1; done
      for _ in 1 2 3; do pkill -KILL -s "$pid" 2>/dev/null || break; sleep 0.2; done
      wait "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 1
  done
  wait "$pid"
}

# The hostile and fault suite, with the hostile server the caller gave or one started here (stop_test_servers stops
# it with the others; the suite runs once, so it is never needed again).
# (Called only as a plain command: inside `a || f`, set -e would not stop f at its first failure.)
run_hostile_suite() {
  if [ -z "${PONDSOCKET_HOSTILE_URL:-}" ] || [ -z "${PONDSOCKET_BLACKHOLE_URL:-}" ]; then
    start_hostile_server
  fi
  run_suite browser_hostile
}

if [ -n "${PONDSOCKET_TEST_URL:-}" ] && [ -n "${PONDSOCKET_CONTROL_URL:-}" ]; then
  run_suite browser
  run_hostile_suite
  exit
fi
for server in ${PONDSOCKET_SERVERS:-rust python}; do
  other=rust
  [ "$server" != rust ] || other=python
  start_named_server "$other"
  export PONDSOCKET_OTHER_URL="$PONDSOCKET_TEST_URL" PONDSOCKET_OTHER_NAME="$other"
  start_named_server "$server"
  run_suite browser
  # The hostile and fault suite once, against the Rust server (its fault test kills and restarts it).
  if [ "$server" = rust ]; then
    run_hostile_suite
  fi
  # The same suite over Server-Sent Events, against the server that speaks it, in Chromium; cross-origin (the test
  # page is the runner's, on its own port), so through the server's CORS.
  if [ "$server" = python ] && [[ " ${BROWSER_ENGINES[*]} " == *" chromium "* ]]; then
    (export PONDSOCKET_TRANSPORT=sse && run_suite_in chromium browser)
  fi
  stop_test_servers
  unset PONDSOCKET_TEST_URL PONDSOCKET_CONTROL_URL PONDSOCKET_OTHER_URL
done
