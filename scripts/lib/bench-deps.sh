# Sourced by scripts/bench.sh, scripts/size.sh and scripts/setup.sh: the versions the benchmark and the size check
# pin, and the install of the benchmark's own npm packages into target/bench-deps.
PEER_VERSION=0.0.32      # @eleven-am/pondsocket-client, the peer JS client
ESBUILD_VERSION=0.28.2   # bundles and minifies both clients' JS (bench/run.mjs, bench/size.mjs)
BENCH_DEPS=${BENCH_DEPS:-target/bench-deps}   # bench/run.mjs reads the same variable

bench_deps_installed() {
  node -p "try { require(require('path').resolve('$BENCH_DEPS', 'node_modules', '$1', 'package.json')).version } catch { '' }"
}

# Installs the peer client and esbuild, pinned, into target/bench-deps unless they are there already.
install_bench_deps() {
  if [ "$(bench_deps_installed @eleven-am/pondsocket-client)" != "$PEER_VERSION" ] \
    || [ "$(bench_deps_installed esbuild)" != "$ESBUILD_VERSION" ]; then
    echo "[bench-deps] npm install @eleven-am/pondsocket-client@$PEER_VERSION esbuild@$ESBUILD_VERSION into $BENCH_DEPS" >&2
    mkdir -p "$BENCH_DEPS"
    [ -f "$BENCH_DEPS/package.json" ] || echo '{ "name": "pondsocket-wasm-bench-deps", "private": true }' > "$BENCH_DEPS/package.json"
    npm install --prefix "$BENCH_DEPS" --no-audit --no-fund --silent --save-exact \
      "@eleven-am/pondsocket-client@$PEER_VERSION" "esbuild@$ESBUILD_VERSION" >/dev/null
  fi
}
