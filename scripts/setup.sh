#!/usr/bin/env bash
# Installs every tool the build, tests and demo need, skipping what is already there.
# Idempotent: safe to run on every invocation of scripts/test.sh and scripts/demo.sh.
#   scripts/setup.sh            native tools only (cargo test)
#   scripts/setup.sh --wasm     + wasm32 target, wasm-pack, wasm-bindgen-cli, wasm-opt, esbuild
#   scripts/setup.sh --browser  + the above, and three browser engines with their WebDriver servers: Chromium
#                               (chromedriver, playwright-core), Firefox ESR (geckodriver), WebKitGTK's MiniBrowser
#                               (WebKitWebDriver, under Xvfb)
set -euo pipefail
cd "$(dirname "$0")/.."

want_wasm=0 want_browser=0
for arg in "$@"; do
  case "$arg" in
    --wasm) want_wasm=1 ;;
    --browser) want_wasm=1; want_browser=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[setup] $*" >&2; }
GECKODRIVER_VERSION=0.37.1
source scripts/lib/env.sh
source scripts/lib/bench-deps.sh   # ESBUILD_VERSION

# npm packages the tools need, pinned, in a folder of their own outside the repository.
npm_tool() {
  local package=$1 version=$2
  if [ "$(node -p "try { require('$PONDSOCKET_TOOLS/node_modules/$package/package.json').version } catch { '' }")" != "$version" ]; then
    log "npm install $package@$version"
    mkdir -p "$PONDSOCKET_TOOLS"
    npm install --prefix "$PONDSOCKET_TOOLS" --no-audit --no-fund --silent "$package@$version" >/dev/null
  fi
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Redis, for scripts/cluster.sh (several Python server nodes sharing its pub/sub), which the Node tests use. The
# scripts run their own redis-server on a free port; the package's system service is neither needed nor started here
# (in a container Docker's policy-rc.d keeps apt from starting it; on a plain Debian host apt starts it on 6379).
apt_install redis-server

if [ $want_wasm -eq 1 ]; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown
  fi
  if ! command -v wasm-pack >/dev/null; then
    log "cargo install wasm-pack"; cargo install wasm-pack --locked --quiet
  fi
  # wasm-pack would download wasm-bindgen from GitHub; install the exact version of the lock file instead.
  bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock 2>/dev/null || true)
  if [ -n "$bindgen_version" ] && ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
    log "cargo install wasm-bindgen-cli $bindgen_version"
    # --locked can name a release the registry no longer serves (a yanked webpki-roots, seen here); then resolve anew.
    cargo install wasm-bindgen-cli --version "$bindgen_version" --locked --force --quiet \
      || cargo install wasm-bindgen-cli --version "$bindgen_version" --force --quiet
  fi
  npm_tool binaryen 132.0.0
  npm_tool typescript 5.9.3
  # TypeScript 5.4 as well, under another name: before 5.8 a CommonJS project reads the package's `require` types
  # (index.d.cts), which tests/node/types/commonjs.cts checks.
  if [ "$(node -p "try { require('$PONDSOCKET_TOOLS/node_modules/typescript-5.4/package.json').version } catch { '' }")" != 5.4.5 ]; then
    log "npm install typescript-5.4@npm:typescript@5.4.5"
    npm install --prefix "$PONDSOCKET_TOOLS" --no-audit --no-fund --silent "typescript-5.4@npm:typescript@5.4.5" >/dev/null
  fi
  npm_tool ws 8.23.0
  # Bundles and minifies pkg/'s browser entry for scripts/size.sh, the version scripts/bench.sh measures with.
  npm_tool esbuild "$ESBUILD_VERSION"
fi

if [ $want_browser -eq 1 ]; then
  apt_install chromium chromium-driver firefox-esr webkit2gtk-driver xvfb
  # geckodriver is not packaged by Debian, and its releases are on GitHub: crates.io has it (~3 min to build).
  # (Read whole: geckodriver panics when its output pipe closes early, as `grep -q` does.)
  gecko_version=$(geckodriver --version 2>/dev/null || true)
  if [[ "$gecko_version" != "geckodriver $GECKODRIVER_VERSION"* ]]; then
    log "cargo install geckodriver $GECKODRIVER_VERSION"
    cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --quiet
  fi
  # Drives the system Chromium for the demo test (`npx playwright install` downloads nothing here).
  npm_tool playwright-core 1.65.1
  # Builds tests/vite, proof that the package works in a bundler.
  npm_tool vite 7.3.8
fi
log "ok"
