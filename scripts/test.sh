#!/usr/bin/env bash
# Runs every test of the project, installing what they need first (scripts/setup.sh) and starting the bundled
# PondSocket server for the suites that talk to it. Exits non-zero if any suite failed.
#   1. native: the protocol core (cargo test)
#   2. rust-app: scripts/test-rust-app.sh, a Rust app on pondsocket-web (tests/rust-app) builds for wasm32 with its
#      own #[global_allocator] and exports its own function and none of the npm package's
#   3. support: the test server's supervisor (kills and restarts it for the fault tests) works
#   4. package: scripts/build-pkg.sh builds pkg/ (the npm package)
#   5. size: scripts/size.sh, the browser entry bundled, minified and gzipped against bench/size-budget.txt
#   6. node: the packed tarball installed in an empty folder, against the server (node:test)
#   7. demo: scripts/demo.sh --check, the demo page's test and a Vite app, in Chromium, Firefox and WebKit
#      (scripts/test-demo.sh)
#   8. browser: wasm-bindgen-test in Chromium, Firefox and WebKit against both servers, and the hostile and fault
#      suite (scripts/test-browser.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
stage() {
  local name=$1
  shift
  echo
  echo "===== $name"
  if "$@"; then echo "===== $name: ok"; else echo "===== $name: FAILED"; failed+=("$name"); fi
}

stage setup scripts/setup.sh --browser
stage native bash -c 'cargo test --locked --workspace --all-targets && cargo test --locked --workspace --doc'
stage rust-app scripts/test-rust-app.sh
stage support bash -c 'source scripts/lib/env.sh && source scripts/lib/servers.sh && build_test_server &&
  node --experimental-websocket --test --test-force-exit tests/support/supervisor.test.mjs'
stage package scripts/build-pkg.sh
stage size scripts/size.sh
stage node scripts/test-node.sh
stage demo scripts/test-demo.sh
if [ -x scripts/test-browser.sh ]; then stage browser scripts/test-browser.sh; fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
