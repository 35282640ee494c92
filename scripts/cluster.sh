#!/usr/bin/env bash
# A real PondSocket cluster: one Redis and N upstream Python server nodes (tests/server-python/app.py --redis) that
# share channels, broadcasts and presence through its pub/sub. For tests (tests/support/cluster.mjs) and the demo.
#   scripts/cluster.sh [--nodes N] [--token-file PATH] [--static DIR] [--print-kill] [-- COMMAND [ARGS...]]
#     --nodes N          number of nodes, 1..26 (default 3), named node-a, node-b, ...
#     --token-file PATH  passed to every node: only token=<PATH's content> is accepted, re-read at every connection
#     --static DIR       passed to every node: DIR served at /
#     --print-kill       after READY, one human line per node: `  kill -9 <pid>   # <name> <url>`
# Prints to stdout, one line each (flushed): `REDIS redis://127.0.0.1:<port>`, then per node
# `NODE <name> http://127.0.0.1:<port> <pid>`, then `READY` once every node answers GET /health.
# Then reads commands on stdin, one per line, and answers each with one line:
#   kill <name>     SIGKILL the node (a crash), wait until it is gone  -> KILLED <name>
#   start <name>    start it again, same port and flags, wait for /health -> NODE <name> http://127.0.0.1:<port> <pid>
#   stop-redis      SIGKILL Redis, wait until it is gone                 -> REDIS-STOPPED
#   start-redis     start Redis again on the same port                   -> REDIS redis://127.0.0.1:<port>
#   anything else, or a command that cannot be done                      -> ERROR <text>
# EOF on stdin, SIGINT or SIGTERM: every node and Redis are stopped, exit 0.
# With `-- COMMAND`: the REDIS/NODE/READY lines go to stderr instead, COMMAND runs with CLUSTER_URLS (the nodes'
# http URLs, space-separated) and CLUSTER_REDIS (the Redis URL) in its environment (stdin is not read), then
# everything is stopped and the script exits with COMMAND's status. COMMAND runs in the caller's directory.
# Diagnostics go to stderr. Logs and Redis' directory live in a fresh temporary directory, removed on exit (kept
# until the next run, with its path printed, when the cluster fails to start). Nodes and Redis get SIGKILL if this
# script is killed itself (Linux's parent-death signal); the next run removes the directory such a run left.
set -euo pipefail

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }
log() { echo "[cluster] $*" >&2; }
die() { echo "cluster.sh: $*" >&2; exit 2; }

nodes=3 token_file="" static_dir="" print_kill=0 command=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes)
      [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 26 ] || die "--nodes needs 1..26"
      nodes=$((10#$2)); shift 2 ;;
    --nodes=*) set -- --nodes "${1#--nodes=}" "${@:2}" ;;
    --token-file)
      [ $# -ge 2 ] && [ -n "$2" ] || die "--token-file needs a path"
      token_file=$(realpath -m -- "$2"); shift 2 ;;
    --token-file=*) set -- --token-file "${1#--token-file=}" "${@:2}" ;;
    --static)
      [ $# -ge 2 ] && [ -d "$2" ] || die "--static needs a directory"
      static_dir=$(realpath -- "$2"); shift 2 ;;
    --static=*) set -- --static "${1#--static=}" "${@:2}" ;;
    --print-kill) print_kill=1; shift ;;
    --) shift; [ $# -gt 0 ] || die "-- needs a command"; command=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

caller_dir=$PWD
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
source scripts/lib/python-server.sh

command -v redis-server >/dev/null || die "redis-server not found (scripts/setup.sh installs Debian's redis-server)"
setup_python_server >&2

HOST=127.0.0.1
START_TIMEOUT_S=60 # one start: spawn -> LISTENING -> /health
REBIND_WINDOW_S=10 # a restart retries its port this long while it is not bindable yet
STOP_GRACE_S=3     # SIGTERM -> SIGKILL when stopping

# Where the REDIS/NODE/READY lines go: stdout, or stderr when a command owns stdout.
if [ ${#command[@]} -gt 0 ]; then exec {out}>&2; else exec {out}>&1; fi
say() { echo "$*" >&"$out"; }

# Children die with this script, even with SIGKILL (the kernel's parent-death signal; Linux only).
pdeath=()
if command -v setpriv >/dev/null && setpriv --pdeathsig KILL true 2>/dev/null; then pdeath=(setpriv --pdeathsig KILL --); fi

# Leftovers of runs that were SIGKILLed (their owner is gone) are removed; each run has a fresh directory.
for old_state in "${TMPDIR:-/tmp}"/pondsocket-cluster.*; do
  [ -f "$old_state/owner.pid" ] || continue
  kill -0 "$(cat "$old_state/owner.pid")" 2>/dev/null || rm -rf "$old_state"
done
state=$(mktemp -d "${TMPDIR:-/tmp}/pondsocket-cluster.XXXXXX")
echo $$ >"$state/owner.pid"
keep_state=0

names=()
declare -A port=() pid=()
redis_port="" redis_pid=""
python="$PYTHON_SERVER_VENV/bin/python"

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Stops pid $1: SIGTERM, SIGKILL after STOP_GRACE_S; returns once it is gone (reaped).
stop_pid() {
  local p=$1 i
  alive "$p" || { wait "$p" 2>/dev/null || true; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < STOP_GRACE_S * 20; i++)); do alive "$p" || break; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

# SIGKILL pid $1 and reap it.
kill_pid() {
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

cleanup_done=0
cleanup() {
  [ $cleanup_done -eq 0 ] || return 0
  cleanup_done=1
  set +e
  local name
  for name in ${names[@]+"${names[@]}"}; do
    [ -z "${pid[$name]:-}" ] || kill -TERM "${pid[$name]}" 2>/dev/null
  done
  for name in ${names[@]+"${names[@]}"}; do
    [ -z "${pid[$name]:-}" ] || stop_pid "${pid[$name]}"
    pid[$name]=""
  done
  [ -z "$redis_pid" ] || stop_pid "$redis_pid"
  redis_pid=""
  if [ $keep_state -eq 1 ]; then
    log "logs kept in $state"
  else
    rm -rf "$state"
  fi
}

# Dumps the end of a log file to stderr.
show_log() {
  [ -s "$1" ] || return 0
  log "--- last lines of $1:"
  tail -n 20 "$1" | sed 's/^/    /' >&2
}

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

redis_ping() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && IFS= read -r reply <&3 && [ "$reply" = $'"'"'+PONG\r'"'"' ]' \
    "$HOST" "$1" 2>/dev/null
}

# Starts Redis on $redis_port (a free one when empty), waits until it answers PING.
start_redis() {
  local attempt fixed=0 i
  [ -z "$redis_port" ] || fixed=1
  for ((attempt = 0; attempt < 5; attempt++)); do
    [ $fixed -eq 1 ] || redis_port=$(free_port)
    "${pdeath[@]}" redis-server --port "$redis_port" --bind "$HOST" --save '' --appendonly no --dir "$state" \
      --daemonize no --logfile "$state/redis.log" </dev/null >/dev/null 2>&1 &
    redis_pid=$!
    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
      if ! alive "$redis_pid"; then wait "$redis_pid" 2>/dev/null || true; redis_pid=""; break; fi
      if redis_ping "$redis_port"; then return 0; fi
      sleep 0.1
    done
    if [ -n "$redis_pid" ]; then kill_pid "$redis_pid"; redis_pid=""; return 1; fi
    # Exited at once: most likely the port was taken meanwhile. A fixed port gets the rebind window.
    if [ $fixed -eq 1 ]; then
      [ $attempt -lt 4 ] || break
      sleep $((REBIND_WINDOW_S / 5))
    fi
  done
  show_log "$state/redis.log"
  return 1
}

health() {
  curl --silent --fail --max-time 2 "http://$HOST:$1/health" >/dev/null 2>&1
}

# Starts node $1: on port[$1] when set (retrying for REBIND_WINDOW_S while it is not bindable), else on one the OS
# picks; waits for its LISTENING line and /health. Sets port[$1], pid[$1].
start_node() {
  local name=$1 args p line deadline i err_size
  local out_file="$state/$name.out" err_file="$state/$name.log"
  args=(--port "${port[$name]:-0}" --redis "redis://$HOST:$redis_port" --node "$name")
  [ -z "$token_file" ] || args+=(--token-file "$token_file")
  [ -z "$static_dir" ] || args+=(--static "$static_dir")
  deadline=$((SECONDS + START_TIMEOUT_S))
  while :; do
    : >"$out_file"
    echo "--- $(date +%T) start ${args[*]}" >>"$err_file"
    err_size=$(stat -c %s "$err_file")
    "${pdeath[@]}" "$python" "$PYTHON_SERVER_APP" "${args[@]}" </dev/null >"$out_file" 2>>"$err_file" &
    p=$!
    pid[$name]=$p # known at once, so that a signal meanwhile stops it too
    line=""
    while [ $SECONDS -lt $deadline ]; do
      IFS= read -r line <"$out_file" || true
      [ -z "$line" ] || break
      alive "$p" || break
      sleep 0.05
    done
    if [[ "$line" == "LISTENING http://$HOST:"* ]]; then break; fi
    if alive "$p"; then
      kill_pid "$p"; pid[$name]=""; log "$name: no LISTENING line within ${START_TIMEOUT_S}s"; show_log "$err_file"
      return 1
    fi
    wait "$p" 2>/dev/null || true
    pid[$name]=""
    # Exited: retry a fixed port that is not bindable yet (e.g. the killed node's socket still closing).
    if [ -n "${port[$name]:-}" ] && [ $SECONDS -lt $((deadline - START_TIMEOUT_S + REBIND_WINDOW_S)) ] \
      && tail -c +$((err_size + 1)) "$err_file" | grep -q "bind $HOST:${port[$name]}:"; then
      sleep 0.2
      continue
    fi
    log "$name: exited before listening"; show_log "$err_file"; return 1
  done
  port[$name]=${line##*:}
  for ((i = 0; SECONDS < deadline; i++)); do
    if health "${port[$name]}"; then return 0; fi
    if ! alive "$p"; then
      wait "$p" 2>/dev/null || true; pid[$name]=""; log "$name: died before answering /health"; show_log "$err_file"
      return 1
    fi
    sleep 0.05
  done
  kill_pid "$p"; pid[$name]=""; log "$name: no /health answer within ${START_TIMEOUT_S}s"; show_log "$err_file"
  return 1
}

node_line() { echo "NODE $1 http://$HOST:${port[$1]} ${pid[$1]}"; }

# One stdin command -> one answer line.
run_command() {
  local verb=${1%% *} arg=""
  [ "$verb" = "$1" ] || arg=${1#* }
  arg=${arg#"${arg%%[![:space:]]*}"}; arg=${arg%"${arg##*[![:space:]]}"}
  case "$verb" in
    kill | start)
      if [ -z "$arg" ] || [ -z "${port[$arg]+x}" ]; then say "ERROR unknown node '$arg'"; return; fi
      if [ "$verb" = kill ]; then
        if [ -z "${pid[$arg]}" ]; then say "ERROR $arg is not running"; return; fi
        kill_pid "${pid[$arg]}"; pid[$arg]=""
        say "KILLED $arg"
      else
        if [ -n "${pid[$arg]}" ] && alive "${pid[$arg]}"; then say "ERROR $arg is running"; return; fi
        [ -z "${pid[$arg]}" ] || wait "${pid[$arg]}" 2>/dev/null || true
        pid[$arg]=""
        if start_node "$arg"; then say "$(node_line "$arg")"; else say "ERROR $arg did not start (see stderr)"; fi
      fi
      ;;
    stop-redis)
      if [ -z "$redis_pid" ]; then say "ERROR redis is not running"; return; fi
      kill_pid "$redis_pid"; redis_pid=""
      say "REDIS-STOPPED"
      ;;
    start-redis)
      if [ -n "$redis_pid" ] && alive "$redis_pid"; then say "ERROR redis is running"; return; fi
      if start_redis; then say "REDIS redis://$HOST:$redis_port"; else say "ERROR redis did not start (see stderr)"; fi
      ;;
    "") say "ERROR empty command" ;;
    *) say "ERROR unknown command '$1'" ;;
  esac
}

# The command of `--`, while it runs: SIGINT/SIGTERM are passed on to it as SIGTERM (a background command of a
# non-interactive shell ignores SIGINT), and its status becomes ours.
command_pid=""
on_signal() {
  if [ -n "$command_pid" ]; then
    kill -TERM "$command_pid" 2>/dev/null || true
    return 0 # (a bare `return` in a trap returns the interrupted `wait`'s status, and `set -e` would exit)
  fi
  cleanup
  exit 0
}
trap on_signal TERM INT
trap cleanup EXIT

if ! start_redis; then keep_state=1; log "redis-server did not start"; exit 1; fi
say "REDIS redis://$HOST:$redis_port"
letters=abcdefghijklmnopqrstuvwxyz
for ((n = 0; n < nodes; n++)); do
  name="node-${letters:n:1}"
  names+=("$name")
  pid[$name]=""
done
for name in "${names[@]}"; do
  if ! start_node "$name"; then keep_state=1; exit 1; fi
  say "$(node_line "$name")"
done
say READY
if [ $print_kill -eq 1 ]; then
  for name in "${names[@]}"; do say "  kill -9 ${pid[$name]}   # $name http://$HOST:${port[$name]}"; done
fi

if [ ${#command[@]} -gt 0 ]; then
  urls=()
  for name in "${names[@]}"; do urls+=("http://$HOST:${port[$name]}"); done
  (cd "$caller_dir" && CLUSTER_URLS="${urls[*]}" CLUSTER_REDIS="redis://$HOST:$redis_port" exec "${command[@]}") &
  command_pid=$!
  # `wait` returns early when a trapped signal arrives: wait again until the command is really gone, then once
  # more for its status (bash keeps it).
  while alive "$command_pid"; do wait "$command_pid" 2>/dev/null || true; done
  wait "$command_pid" && rc=0 || rc=$?
  command_pid=""
  cleanup
  exit "$rc"
fi

while IFS= read -r line; do
  run_command "${line%$'\r'}"
done
cleanup
exit 0
