# shellcheck shell=bash
# Test-server helpers, sourced by scripts/test.sh and scripts/demo.sh.
# Sourcing starts nothing; everything is `set -euo pipefail`-safe.
#
#   build_test_server                  cargo build --release of tests/server
#   start_test_server [--server BIN] [--static DIR] [--port N] [--control-port N]
#                                      (BIN: the Rust test server by default; the
#                                      Python one is $PYTHON_SERVER_BIN)
#                                      start tests/support/supervisor.mjs (which
#                                      starts the server, on port N if given, else
#                                      on one the OS picks) in the background, wait
#                                      for it (60 s), then export
#                                        PONDSOCKET_TEST_URL     ws://127.0.0.1:P/socket
#                                        PONDSOCKET_HTTP_URL     http://127.0.0.1:P
#                                        PONDSOCKET_CONTROL_URL  http://127.0.0.1:C
#                                        PONDSOCKET_SUPERVISOR_LOG  its log file
#                                      (a later call overwrites them; every
#                                      supervisor started is stopped below)
#   stop_test_servers                  stop every supervisor started (and its server)
#   servers_add_exit_hook 'CMD'        run CMD when the script exits (last added runs
#                                      first); use this instead of `trap ... EXIT`
#                                      once this file is sourced, or ours is replaced
#
# The first start_test_server installs an EXIT trap that runs the hooks,
# stop_test_servers among them; an EXIT trap set before that is kept and run
# last. Logs go to ${TMPDIR:-/tmp}/pondsocket-supervisor.*; they are deleted by
# stop_test_servers, except when the script exits non-zero or
# PONDSOCKET_KEEP_LOGS=1. Control API of the supervisor: see its header
# (GET /info, POST /kill, /start, /restart?downMs=N).

# Sourcing twice must not forget the servers started so far.
[ -z "${_SERVERS_LIB_LOADED:-}" ] || return 0
_SERVERS_LIB_LOADED=1

_SERVERS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_SERVERS_BIN="$_SERVERS_ROOT/tests/server/target/release/pondsocket-test-server"
_SERVERS_PIDS=()
_SERVERS_LOGS=()
_SERVERS_EXIT_HOOKS=()
_SERVERS_TRAP_OWNER=""

_servers_log() { echo "[servers] $*" >&2; }

build_test_server() {
  _servers_log "cargo build --release (tests/server)"
  cargo build --release --quiet --manifest-path "$_SERVERS_ROOT/tests/server/Cargo.toml"
}

# Runs the exit hooks, newest first, each seeing the script's exit status as $?.
# Only in the shell that installed the trap: bash may run an inherited EXIT trap
# in a forked child killed before its exec.
_servers_run_exit_hooks() {
  local rc=$? i
  [ "${BASHPID:-$$}" = "$_SERVERS_TRAP_OWNER" ] || return "$rc"
  set +e
  for ((i = ${#_SERVERS_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
    (exit "$rc")
    eval "${_SERVERS_EXIT_HOOKS[i]}"
  done
  return "$rc"
}

_servers_install_exit_trap() {
  local current words
  current="$(trap -p EXIT)"
  case "$current" in *_servers_run_exit_hooks*) return 0 ;; esac
  if [ -n "$current" ]; then
    # `trap -p` prints `trap -- 'CMD' EXIT`, quoted for reuse: keep CMD as the first hook.
    eval "words=(${current})"
    _SERVERS_EXIT_HOOKS=("${words[2]}" ${_SERVERS_EXIT_HOOKS[@]+"${_SERVERS_EXIT_HOOKS[@]}"})
  fi
  _SERVERS_TRAP_OWNER="${BASHPID:-$$}"
  trap _servers_run_exit_hooks EXIT
}

servers_add_exit_hook() {
  _servers_install_exit_trap
  _SERVERS_EXIT_HOOKS+=("$1")
}

_servers_exit_hook() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    PONDSOCKET_KEEP_LOGS=1 stop_test_servers
  else
    stop_test_servers
  fi
}

# _servers_start_and_wait NAME PREFIX TIMEOUT CMD...: starts CMD in the background with its output in a log
# (stop_test_servers stops it), and waits up to TIMEOUT seconds for a line starting with "PREFIX ". Leaves that
# line in _SERVERS_READY_LINE and the log's path in _SERVERS_READY_LOG; prints the log and fails if CMD exits or
# the time runs out.
_servers_start_and_wait() {
  local name=$1 prefix=$2 timeout=$3 log pid deadline
  shift 3
  log="$(mktemp "${TMPDIR:-/tmp}/pondsocket-$name.XXXXXX")"
  # Register the cleanup before starting anything.
  case " ${_SERVERS_EXIT_HOOKS[*]-} " in
    *" _servers_exit_hook "*) _servers_install_exit_trap ;;
    *) servers_add_exit_hook _servers_exit_hook ;;
  esac
  "$@" </dev/null >"$log" 2>&1 &
  pid=$!
  _SERVERS_PIDS+=("$pid")
  _SERVERS_LOGS+=("$log")
  deadline=$((SECONDS + timeout))
  until _SERVERS_READY_LINE="$(grep -m1 "^$prefix " "$log" 2>/dev/null)"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited during startup; its log ($log):" >&2
      cat "$log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name: no ready line within $timeout s; log ($log):" >&2
      cat "$log" >&2
      kill -TERM "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
  _SERVERS_READY_LOG=$log
}

start_test_server() {
  local extra_args=() server_bin="$_SERVERS_BIN"
  while [ $# -gt 0 ]; do
    case "$1" in
      --server)
        [ $# -ge 2 ] || { echo "start_test_server: $1 needs a value" >&2; return 2; }
        server_bin="$2"
        shift 2
        ;;
      --static | --port | --control-port)
        [ $# -ge 2 ] || { echo "start_test_server: $1 needs a value" >&2; return 2; }
        extra_args+=("$1" "$2")
        shift 2
        ;;
      *) echo "start_test_server: unknown option $1" >&2; return 2 ;;
    esac
  done
  if [ ! -x "$server_bin" ]; then
    echo "start_test_server: $server_bin is missing (call build_test_server)" >&2
    return 1
  fi

  _servers_start_and_wait supervisor SUPERVISOR 60 "${NODE:-node}" "$_SERVERS_ROOT/tests/support/supervisor.mjs" \
    --server "$server_bin" ${extra_args[@]+"${extra_args[@]}"} --exit-with-parent || return 1
  local line=$_SERVERS_READY_LINE log=$_SERVERS_READY_LOG

  # SUPERVISOR http://127.0.0.1:C SERVER http://127.0.0.1:P
  local control http
  read -r _ control _ http <<<"$line"
  export PONDSOCKET_CONTROL_URL="$control"
  export PONDSOCKET_HTTP_URL="$http"
  export PONDSOCKET_TEST_URL="ws://${http#http://}/socket"
  export PONDSOCKET_SUPERVISOR_LOG="$log"
  _servers_log "test server $PONDSOCKET_HTTP_URL (control $PONDSOCKET_CONTROL_URL, log $log)"
}

stop_test_servers() {
  local i pid log server_pid deadline
  [ ${#_SERVERS_PIDS[@]} -gt 0 ] || return 0
  for i in "${!_SERVERS_PIDS[@]}"; do
    pid="${_SERVERS_PIDS[i]}"
    log="${_SERVERS_LOGS[i]}"
    if kill -0 "$pid" 2>/dev/null; then
      # The supervisor stops its server (SIGTERM, SIGKILL after 3 s) and exits.
      kill -TERM "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        _servers_log "supervisor $pid did not exit; killing it and its server"
        kill -KILL "$pid" 2>/dev/null || true
        server_pid="$(sed -n 's/^\[supervisor\] server started (pid \([0-9]*\)).*/\1/p' "$log" 2>/dev/null | tail -n1)"
        [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
      fi
    fi
    wait "$pid" 2>/dev/null || true
    if [ "${PONDSOCKET_KEEP_LOGS:-0}" = 1 ]; then
      [ ! -e "$log" ] || _servers_log "supervisor log kept: $log"
    else
      rm -f "$log"
    fi
  done
  _SERVERS_PIDS=()
  _SERVERS_LOGS=()
}

# start_hostile_server: the scripted misbehaving server (tests/support/hostile-server.mjs); exports
#   PONDSOCKET_HOSTILE_URL    ws://127.0.0.1:P/socket
#   PONDSOCKET_BLACKHOLE_URL  ws://127.0.0.1:Q/socket (TCP accepted, handshake never answered)
# stop_test_servers stops it with the others.
start_hostile_server() {
  _servers_start_and_wait hostile HOSTILE 30 "${NODE:-node}" "$_SERVERS_ROOT/tests/support/hostile-server.mjs" || return 1
  local line=$_SERVERS_READY_LINE
  # HOSTILE http://127.0.0.1:P BLACKHOLE http://127.0.0.1:Q
  local hostile blackhole
  read -r _ hostile _ blackhole <<<"$line"
  export PONDSOCKET_HOSTILE_URL="ws://${hostile#http://}/socket"
  export PONDSOCKET_BLACKHOLE_URL="ws://${blackhole#http://}/socket"
  _servers_log "hostile server $PONDSOCKET_HOSTILE_URL (blackhole $PONDSOCKET_BLACKHOLE_URL)"
}

# start_named_server rust|python [start_test_server options]: the Rust test server (built first) or the Python one
# (its venv set up first), under a supervisor; exports the same variables as start_test_server, and
# PONDSOCKET_SERVER_NAME.
start_named_server() {
  local name=$1
  shift
  case "$name" in
    rust)
      build_test_server
      start_test_server "$@"
      ;;
    python)
      # shellcheck source=python-server.sh
      source "$_SERVERS_ROOT/scripts/lib/python-server.sh"
      setup_python_server
      start_test_server --server "$PYTHON_SERVER_BIN" "$@"
      ;;
    *) echo "start_named_server: unknown server $name (rust or python)" >&2; return 2 ;;
  esac
  export PONDSOCKET_SERVER_NAME="$name"
}
