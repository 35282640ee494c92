# shellcheck shell=bash
# The three browser engines the browser suites run in, as scripts/setup.sh --browser installs them, and how
# wasm-bindgen-test-runner drives each one (it picks its WebDriver from environment variables).
#   BROWSER_ENGINES                  the engines, in the order the suites run them (PONDSOCKET_BROWSERS overrides)
#   engine_label ENGINE              "Chromium 156", "Firefox 153.x esr", "WebKitGTK 2.50.6": name and version
#   browsers_prepare                 starts what the engines need once, in the calling shell (Xvfb for WebKit)
#   browsers_cleanup                 stops it (at exit by itself where scripts/lib/servers.sh is sourced)
#   with_engine ENGINE CMD...        runs CMD with the runner pointed at ENGINE
# Chromium: chromedriver and webdriver.json (headless). Firefox: geckodriver (cargo install; the runner adds
# -headless) and tests/browser/webdriver-firefox.json (Debian's firefox-esr). WebKit: Debian's WebKitWebDriver,
# which the runner starts as its "safaridriver" and which opens WebKitGTK's MiniBrowser; MiniBrowser has no
# headless mode, so it draws into an Xvfb display started once (and stopped when the script exits).

[ -z "${_BROWSERS_LIB_LOADED:-}" ] || return 0
_BROWSERS_LIB_LOADED=1
_BROWSERS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

BROWSER_ENGINES=(${PONDSOCKET_BROWSERS:-chromium firefox webkit})
CHROMEDRIVER_BIN="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
GECKODRIVER_BIN="${GECKODRIVER:-$(command -v geckodriver || echo "$HOME/.cargo/bin/geckodriver")}"
WEBKITDRIVER_BIN="${WEBKITDRIVER:-/usr/bin/WebKitWebDriver}"

engine_label() {
  case "$1" in
    chromium) /usr/bin/chromium --version 2>/dev/null | awk '{print "Chromium", $2}' ;;
    firefox) firefox-esr --version 2>/dev/null | sed 's/^Mozilla //' ;;
    webkit) echo "WebKitGTK $(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0 2>/dev/null | cut -d- -f1)" ;;
    *) echo "$1" ;;
  esac
}

# An X display for MiniBrowser: the caller's, or one Xvfb for the whole script.
browsers_prepare() {
  [[ " ${BROWSER_ENGINES[*]} " == *" webkit "* ]] || return 0
  [ -z "${DISPLAY:-}" ] || return 0
  local file pid
  file=$(mktemp)
  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$file" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$file" ] && break; sleep 0.1; done
  [ -s "$file" ] || { echo "browsers.sh: Xvfb did not start" >&2; kill "$pid" 2>/dev/null; return 1; }
  export DISPLAY=":$(cat "$file")"
  rm -f "$file"
  BROWSERS_XVFB_PID=$pid
  # With scripts/lib/servers.sh, stopped with the servers; otherwise the caller calls browsers_cleanup.
  if declare -F servers_add_exit_hook >/dev/null; then
    servers_add_exit_hook browsers_cleanup
  fi
}

# Stops the Xvfb that browsers_prepare started, if any.
browsers_cleanup() {
  [ -z "${BROWSERS_XVFB_PID:-}" ] || kill "$BROWSERS_XVFB_PID" 2>/dev/null || true
  BROWSERS_XVFB_PID=""
}

with_engine() {
  local engine=$1
  shift
  # The runner takes the first driver it finds, Firefox's before Chromium's: name exactly one.
  local clear=(-u CHROMEDRIVER -u GECKODRIVER -u SAFARIDRIVER -u CHROMEDRIVER_REMOTE -u GECKODRIVER_REMOTE
    -u SAFARIDRIVER_REMOTE -u MSEDGEDRIVER -u WASM_BINDGEN_TEST_WEBDRIVER_JSON)
  case "$engine" in
    chromium) env "${clear[@]}" CHROMEDRIVER="$CHROMEDRIVER_BIN" \
      WASM_BINDGEN_TEST_WEBDRIVER_JSON="$_BROWSERS_ROOT/webdriver.json" "$@" ;;
    firefox) env "${clear[@]}" GECKODRIVER="$GECKODRIVER_BIN" \
      WASM_BINDGEN_TEST_WEBDRIVER_JSON="$_BROWSERS_ROOT/tests/browser/webdriver-firefox.json" "$@" ;;
    webkit) [ -n "${DISPLAY:-}" ] || { echo "browsers.sh: no display for WebKit (browsers_prepare)" >&2; return 1; }
      env "${clear[@]}" SAFARIDRIVER="$WEBKITDRIVER_BIN" "$@" ;;
    *) echo "browsers.sh: unknown engine $engine (chromium, firefox, webkit)" >&2; return 2 ;;
  esac
}
