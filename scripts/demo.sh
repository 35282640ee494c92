#!/usr/bin/env bash
# The demo: a chat page (www/) on the pondsocket-wasm package, served with the bundled PondSocket server.
#   scripts/demo.sh              set up, build pkg/ and the server, serve the page, print its URL; Ctrl-C stops it
#   scripts/demo.sh --port N     serve on port N (default: one the OS picks)
#   scripts/demo.sh --server python   serve it with the upstream Python server instead, which also speaks
#                                Server-Sent Events: the page's transport menu (WebSocket, SSE, auto) works
#   scripts/demo.sh --rust       serve the same chat written against the Rust API instead (examples/leptos-chat, in
#                                Leptos; built by scripts/build-rust-example.sh)
#   scripts/demo.sh --cluster    serve it from a real cluster instead: three upstream Python nodes sharing a Redis
#                                (scripts/cluster.sh); the page goes round them; kill one and watch it move on
#   scripts/demo.sh --check      the same, then a short session in each browser engine instead of waiting
#                                (Chromium, Firefox, WebKit; PONDSOCKET_BROWSERS="chromium" for one): connect,
#                                join, send, ping, presence; screenshot docs/demo.png (Chromium's); then the same
#                                session over SSE against the Python server; exit 0 if ok
#   scripts/demo.sh --no-build   skip set-up and builds: use pkg/ and the server binary as they are
# The site is assembled in target/demo-site/ (www/ and a copy of pkg/ at pkg/). The server runs under
# tests/support/supervisor.mjs, whose control URL can kill and restart it on the same port (see the banner).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }
port="" check=0 build=1 server=rust cluster=0 rust=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port)
      if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -gt 65535 ]; then
        echo "demo.sh: --port needs a port number" >&2
        exit 2
      fi
      port=$2
      shift 2
      ;;
    --port=*) set -- --port "${1#--port=}" "${@:2}" ;;
    --server)
      if [ $# -lt 2 ] || { [ "$2" != rust ] && [ "$2" != python ]; }; then
        echo "demo.sh: --server needs rust or python" >&2
        exit 2
      fi
      server=$2
      shift 2
      ;;
    --check) check=1; shift ;;
    --cluster) cluster=1; shift ;;
    --rust) rust=1; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

source scripts/lib/env.sh
source scripts/lib/servers.sh
source scripts/lib/demo-site.sh

if [ $build -eq 1 ]; then
  scripts/setup.sh --browser
  scripts/build-pkg.sh
  build_test_server
fi

site=target/demo-site
assemble_demo_site "$site"

if [ $rust -eq 1 ]; then
  [ $build -eq 0 ] && [ -f target/rust-demo-site/index.html ] || scripts/build-rust-example.sh
  start_named_server "$server" --static target/rust-demo-site ${port:+--port "$port"}
  trap 'echo; echo "[demo] stopping" >&2; exit 0' INT TERM
  printf '\n  PondSocket chat on the Rust API (examples/leptos-chat, Leptos):  %s/?name=ada\n' "$PONDSOCKET_HTTP_URL"
  printf '  Open it again with ?name=bob to chat; Ctrl-C stops the server.\n\n'
  wait || true
  exit 1
fi

if [ $cluster -eq 1 ]; then
  # The cluster script prints its nodes and a kill line for each (on stderr), runs the command after `--` with the
  # nodes' URLs in CLUSTER_URLS, and stops everything when it ends (Ctrl-C).
  exec scripts/cluster.sh --nodes 3 --static "$site" --print-kill -- bash -c '
    set -- $CLUSTER_URLS
    endpoints=""
    for node in "$@"; do endpoints="${endpoints:+$endpoints,}ws://${node#http://}/socket"; done
    printf "\n  PondSocket demo on a cluster:  %s/?endpoints=%s\n\n" "$1" "$endpoints"
    printf "  The page shows the node it is on. Kill that node with its line above (kill -9 <pid>): the page moves\n"
    printf "  to the next node in its list, rejoins, and carries on; tabs on other nodes keep seeing it.\n"
    printf "  Ctrl-C stops the cluster.\n\n"
    trap "exit 0" INT TERM
    while :; do sleep 3600 & wait $!; done
  '
fi
start_named_server "$server" --static "$site" ${port:+--port "$port"}
url="$PONDSOCKET_HTTP_URL/"

if [ $check -eq 1 ]; then
  source scripts/lib/browsers.sh
  browsers_prepare
  checked=0
  for engine in "${BROWSER_ENGINES[@]}"; do
    echo "[demo] check in $(engine_label "$engine")" >&2
    # Under a time limit: a wedged browser must not hang the script.
    PONDSOCKET_BROWSER=$engine timeout 120 node tests/playwright/check.mjs || checked=1
  done
  # Over Server-Sent Events: the Python server speaks it (the Rust one does not).
  stop_test_servers
  start_named_server python --static "$site"
  for engine in "${BROWSER_ENGINES[@]}"; do
    echo "[demo] check over SSE in $(engine_label "$engine"), against the Python server" >&2
    PONDSOCKET_BROWSER=$engine PONDSOCKET_DEMO_TRANSPORT=sse timeout 120 node tests/playwright/check.mjs || checked=1
  done
  exit $checked
fi

# Ctrl-C (or a TERM) ends the script normally; the exit hooks of servers.sh stop the supervisor and the server.
trap 'echo; echo "[demo] stopping" >&2; exit 0' INT TERM
cat <<EOF

  PondSocket demo:  $url

  Open it in two tabs (or use "Open another tab in this room"): messages, presence and status go to both.
  Transport: $( [ "$server" = python ] && echo "WebSocket, or Server-Sent Events: ${url}?transport=sse (the menu at the bottom)" || echo "WebSocket (for Server-Sent Events: scripts/demo.sh --server python)" )
  Try the /private/x room (declined, 403) and "Slow request" (a timeout) to see errors on the page.
  Restart the server under the page and watch it reconnect and rejoin:
    curl -X POST '$PONDSOCKET_CONTROL_URL/restart?downMs=3000'
  Server log: $PONDSOCKET_SUPERVISOR_LOG

  Ctrl-C stops the server.

EOF
# Returns when the supervisor exits on its own (it should not) or at once on INT/TERM (the trap above).
wait || true
echo "[demo] the server's supervisor exited; see $PONDSOCKET_SUPERVISOR_LOG" >&2
exit 1
