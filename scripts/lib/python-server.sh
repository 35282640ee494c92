# shellcheck shell=bash
# Python test-server helpers (tests/server-python: the upstream Python
# PondSocket implementation behind the same contract as tests/server).
# Sourcing starts nothing; everything is `set -euo pipefail`-safe.
#
#   setup_python_server      create/refresh the venv (target/python-server-venv)
#                            from tests/server-python/requirements.txt. Rebuilt
#                            from scratch when the requirements or the
#                            interpreter changed; otherwise returns at once.
#                            PYTHON (default python3, >= 3.11) is the interpreter.
#   python_server_command    prints `<venv>/bin/python <root>/tests/server-python/app.py`
#                            (absolute paths, space-separated): append server
#                            arguments (--port N ...) to run it.
#   PYTHON_SERVER_BIN        one executable that runs the server with its
#                            arguments (tests/server-python/serve), for tools
#                            that take a server binary, e.g.
#                              node tests/support/supervisor.mjs --server "$PYTHON_SERVER_BIN"
#   PYTHON_SERVER_VENV       the venv directory (overridable before sourcing;
#                            exported as PONDSOCKET_PYTHON_VENV so the wrapper
#                            uses the same one).

[ -z "${_PYTHON_SERVER_LIB_LOADED:-}" ] || return 0
_PYTHON_SERVER_LIB_LOADED=1

_PYSERVER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON_SERVER_VENV="${PYTHON_SERVER_VENV:-$_PYSERVER_ROOT/target/python-server-venv}"
PYTHON_SERVER_REQUIREMENTS="$_PYSERVER_ROOT/tests/server-python/requirements.txt"
PYTHON_SERVER_APP="$_PYSERVER_ROOT/tests/server-python/app.py"
# shellcheck disable=SC2034 # for the scripts that source this file
PYTHON_SERVER_BIN="$_PYSERVER_ROOT/tests/server-python/serve"
export PONDSOCKET_PYTHON_VENV="$PYTHON_SERVER_VENV"

_pyserver_log() { echo "[python-server] $*" >&2; }

# Fingerprint of what the venv is built from: the requirements file and the
# interpreter (path and version).
_pyserver_fingerprint() {
  local python="$1"
  {
    cat "$PYTHON_SERVER_REQUIREMENTS"
    command -v "$python"
    "$python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
}

setup_python_server() {
  local python="${PYTHON:-python3}" venv="$PYTHON_SERVER_VENV"
  local stamp="$venv/.requirements.sha256" want have="" lock_fd="" rc=0
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup_python_server: $python not found" >&2
    return 1
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup_python_server: $python is older than 3.11 (pondsocket needs >= 3.11)" >&2
    return 1
  fi
  want="$(_pyserver_fingerprint "$python")"
  [ ! -f "$stamp" ] || have="$(cat "$stamp")"
  if [ "$have" = "$want" ] && [ -x "$venv/bin/python" ]; then
    return 0
  fi

  mkdir -p "$(dirname "$venv")"
  # Two scripts setting up at once must not build into the same directory.
  if command -v flock >/dev/null 2>&1; then
    exec {lock_fd}>"$venv.lock"
    flock "$lock_fd"
    # Someone else may have finished it while we waited.
    have=""
    [ ! -f "$stamp" ] || have="$(cat "$stamp")"
    if [ "$have" = "$want" ] && [ -x "$venv/bin/python" ]; then
      exec {lock_fd}>&-
      return 0
    fi
  fi

  _pyserver_log "creating $venv (pip install -r tests/server-python/requirements.txt)"
  # From scratch: packages dropped from the requirements must not linger.
  # The stamp is written last, so an interrupted setup is redone next time.
  rm -rf "$venv"
  {
    "$python" -m venv "$venv" &&
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -r "$PYTHON_SERVER_REQUIREMENTS" &&
      echo "$want" >"$stamp"
  } || rc=$?
  [ -z "$lock_fd" ] || exec {lock_fd}>&-
  if [ "$rc" -ne 0 ]; then
    echo "setup_python_server: installing the Python test server failed" >&2
    return "$rc"
  fi
}

python_server_command() {
  echo "$PYTHON_SERVER_VENV/bin/python $PYTHON_SERVER_APP"
}
