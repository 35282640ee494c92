#!/usr/bin/env bash
# The end-to-end browser suite (tests/browser.rs): wasm-bindgen-test in headless Chromium, against the real test
# server (tests/server) run by its supervisor (tests/support/supervisor.mjs), which the suite uses to restart it.
# Started here unless PONDSOCKET_TEST_URL and PONDSOCKET_CONTROL_URL are already set.
# Exit code: non-zero if anything failed. Extra arguments go to the test binary (e.g. a test name filter).
#
# The suite reads the server's URLs at compile time (option_env!); cargo tracks those variables, so a new port
# rebuilds the suite. It builds in target/browser, so that it never waits for another cargo build's lock on target/.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/env.sh
source scripts/lib/servers.sh

scripts/setup.sh --browser
# A server the caller started is used as is; it must come with its supervisor (the suite restarts it).
if [ -z "${PONDSOCKET_TEST_URL:-}" ] || [ -z "${PONDSOCKET_CONTROL_URL:-}" ]; then
  build_test_server
  start_test_server
fi

export CARGO_TARGET_DIR="${PONDSOCKET_BROWSER_TARGET_DIR:-$PWD/target/browser}"
# The runner's limit for the whole run (its default, 20 s, is less than the suite needs).
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"

chromedriver="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
echo "== browser: end to end in headless Chromium (wasm-bindgen-test, server $PONDSOCKET_TEST_URL)"
start=$SECONDS
# --mode no-install: use the wasm-bindgen-test-runner scripts/setup.sh installed; never download one.
# After the crate's path come cargo test's own options; after `--`, the test binary's.
test_args=()
[ $# -eq 0 ] || test_args=(-- "$@")
wasm-pack --log-level warn test --headless --chrome --chromedriver "$chromedriver" --mode no-install . \
  --locked --test browser ${test_args[@]+"${test_args[@]}"}
echo "== browser: passed in $((SECONDS - start)) s"
