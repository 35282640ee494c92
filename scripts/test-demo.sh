#!/usr/bin/env bash
# The demo's tests, in each engine of scripts/lib/browsers.sh (Chromium driven by Playwright, Firefox and WebKit by
# tests/playwright/webdriver.mjs; scripts/setup.sh --browser installs them all):
#   1. scripts/demo.sh --check --no-build: the demo command itself, with its own server, a short session
#   2. tests/playwright/demo.test.mjs against a server started here once: two pages chat and see each other,
#      the server restarts under them, errors show; screenshots in target/playwright/ (docs/demo.png is updated
#      only by running scripts/demo.sh --check by hand)
#   3. tests/playwright/cluster.test.mjs: a page on a real cluster (Redis, Python nodes) fails over when its node dies
#   4. tests/playwright/life.test.mjs (Chromium): offline/online, visibility, focus, the back/forward cache
#   5. examples/leptos-chat (the Rust API, in Leptos), built and driven in Chromium (tests/playwright/rust-demo.test.mjs)
#   6. tests/vite: an app that imports the package by name, built by Vite, loaded in the browser; and in the same
#      build, tests/node/upstream-suite.mjs (code written for @eleven-am/pondsocket-client) against both servers
# Expects pkg/ built (scripts/build-pkg.sh; scripts/test.sh does that first), builds it if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --browser
source scripts/lib/env.sh
source scripts/lib/servers.sh
source scripts/lib/demo-site.sh
source scripts/lib/browsers.sh
browsers_prepare

export PONDSOCKET_SCREENSHOT_DIR=target/playwright
[ -f pkg/package.json ] || scripts/build-pkg.sh
build_test_server

echo "== demo: scripts/demo.sh --check"
scripts/demo.sh --check --no-build

assemble_demo_site target/demo-site
start_test_server --static target/demo-site
for engine in "${BROWSER_ENGINES[@]}"; do
  echo "== demo: tests/playwright/demo.test.mjs in $(engine_label "$engine")"
  PONDSOCKET_BROWSER=$engine timeout 300 node --test --test-reporter=spec tests/playwright/demo.test.mjs
done

for engine in "${BROWSER_ENGINES[@]}"; do
  echo "== demo: tests/playwright/cluster.test.mjs in $(engine_label "$engine"): a page on a real cluster loses its node"
  PONDSOCKET_BROWSER=$engine timeout 300 node --test --test-reporter=spec tests/playwright/cluster.test.mjs
done

echo "== demo: tests/playwright/life.test.mjs in $(engine_label chromium): online, visibility, focus, back/forward cache"
# Chromium only: it needs Playwright's offline emulation and history navigation, which the WebDriver shim for Firefox
# and WebKit (webdriver.mjs) does not have.
timeout 300 node --test --test-reporter=spec tests/playwright/life.test.mjs

echo "== demo: examples/leptos-chat, the chat on the Rust API, built and served; tests/playwright/rust-demo.test.mjs"
stop_test_servers
scripts/build-rust-example.sh
start_test_server --static target/rust-demo-site
PONDSOCKET_RUST_DEMO_URL="$PONDSOCKET_HTTP_URL" PONDSOCKET_BROWSER=chromium timeout 300 \
  node --test --test-reporter=spec tests/playwright/rust-demo.test.mjs

echo "== demo: tests/vite, an app importing the package by name, built by Vite"
stop_test_servers
app=target/vite-app
rm -rf "$app"
mkdir -p "$app" target/npm
cp tests/vite/index.html tests/vite/main.js tests/vite/upstream.html tests/vite/upstream.js tests/vite/vite.config.mjs \
  tests/node/upstream-suite.mjs "$app/"
tarball=$(cd target/npm && npm pack --silent ../../pkg | tail -1)
(cd "$app" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "../npm/$tarball" >/dev/null)
(cd "$app" && node "$PONDSOCKET_TOOLS/node_modules/vite/bin/vite.js" build --logLevel warn)
# Each server serves the build too, so that the upstream-style page runs against its own origin (the Python one over
# SSE as well: same-origin, where the browser suite's SSE run is cross-origin).
start_named_server python --static "$app/dist"
upstream_servers="python=$PONDSOCKET_HTTP_URL"
start_test_server --static "$app/dist"
export PONDSOCKET_UPSTREAM_SERVERS="rust=$PONDSOCKET_HTTP_URL $upstream_servers"
for engine in "${BROWSER_ENGINES[@]}"; do
  echo "== demo: tests/playwright/vite.test.mjs and upstream.test.mjs in $(engine_label "$engine")"
  PONDSOCKET_BROWSER=$engine timeout 300 node --test --test-reporter=spec tests/playwright/vite.test.mjs \
    tests/playwright/upstream.test.mjs
done
