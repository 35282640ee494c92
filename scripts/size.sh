#!/usr/bin/env bash
# The size check (a stage of scripts/test.sh): the package's browser entry as a page loads it — pkg/index.js and
# everything it imports (pkg/api.mjs, the wasm-bindgen glue pkg/web/pondsocket_wasm.js and its snippets) bundled and
# minified by esbuild, plus pkg/web/pondsocket_wasm_bg.wasm, each gzip -9 — against the one budget in
# bench/size-budget.txt (gzipped bytes of bundle + wasm). Prints the table; exits 1 above the budget.
#   scripts/size.sh              the table (and, when over budget, the wasm's 25 biggest functions)
#   scripts/size.sh --detail     always the wasm's sections, code by crate and 25 biggest functions
#   scripts/size.sh --peer       also @eleven-am/pondsocket-client bundled and minified the same way
#   scripts/size.sh --markdown   all of it, written as the "Size" section of docs/BENCHMARKS.md (and bench/SIZE.md)
# Uses pkg/ as it is (scripts/build-pkg.sh builds it when it is missing). Details in bench/size.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
  case "$arg" in
    --detail | --peer | --markdown) ;;
    *) echo "size.sh: unknown option $arg (--detail, --peer, --markdown)" >&2; exit 2 ;;
  esac
done

# esbuild (pinned, scripts/lib/bench-deps.sh), wasm-bindgen and wasm-opt for the names; quick when all are there.
scripts/setup.sh --wasm
source scripts/lib/env.sh
source scripts/lib/bench-deps.sh

pkg_complete() { [ -f pkg/index.js ] && [ -f pkg/api.mjs ] && [ -f pkg/web/pondsocket_wasm.js ] && [ -f pkg/web/pondsocket_wasm_bg.wasm ]; }
# Someone else's scripts/build-pkg.sh empties pkg/ while it runs: wait for it rather than start a second one.
for _ in $(seq 600); do
  pkg_complete || ! pgrep -f 'scripts/build-pkg.sh' >/dev/null || { sleep 1; continue; }
  break
done
pkg_complete || scripts/build-pkg.sh

case " $* " in
  *" --peer "* | *" --markdown "*) install_bench_deps ;;
esac

exec node bench/size.mjs "$@"
