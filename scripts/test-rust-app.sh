#!/usr/bin/env bash
# The Rust-app check (a stage of scripts/test.sh): a Rust web app can depend on pondsocket-web and keep its own
# #[global_allocator] and its own JS exports. Builds tests/rust-app (its own allocator, one export `app_start` that
# makes a Client, a channel and a listener) for wasm32 — a second global allocator in the graph fails that build —
# runs wasm-bindgen on it into a temporary folder, then checks the exports of the wasm (before and after
# wasm-bindgen) and the generated JS: `app_start` is there, nothing of the npm package's (the PondClient and
# Channel classes, __diagnostics, __registerErrorClasses) is. Then calls app_start() in Node and checks that its
# allocator counted what the client allocated; last, documents the Rust API with warnings as errors. Prints every
# check; exits non-zero if one failed.
# Its teeth, tried by hand: with the npm crate pondsocket-wasm as a dependency of the app and used (`use
# pondsocket_wasm as _;`), its `diagnostics` feature fails the build ("the #[global_allocator] in this crate conflicts
# with global allocator in: pondsocket_wasm") and without the feature the exports checks fail (pondclient_new,
# channel_join, __registerErrorClasses, class PondClient, ...). Declared and never used, rustc does not load it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --wasm   # the wasm32 target and wasm-bindgen; quick when they are there
source scripts/lib/env.sh

crate=pondsocket-rust-app-test
wasm=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/pondsocket_rust_app_test.wasm
out=$(mktemp -d "${TMPDIR:-/tmp}/pondsocket-rust-app.XXXXXX")
trap 'rm -rf "$out"' EXIT

failures=0
pass() { echo "  ok    $*"; }
fail() { echo "  FAIL  $*"; failures=$((failures + 1)); }

echo "== rust-app: cargo build --release --target wasm32-unknown-unknown -p $crate --locked"
if ! cargo build --release --target wasm32-unknown-unknown -p "$crate" --locked 2>"$out/build.log"; then
  cat "$out/build.log"
  if grep -q 'global_allocator' "$out/build.log"; then
    echo "FAIL: $crate does not build: a second #[global_allocator] in its dependencies conflicts with the app's"
  else
    echo "FAIL: $crate does not build"
  fi
  exit 1
fi
tail -n 1 "$out/build.log"
pass "built with the app's own #[global_allocator]: $wasm ($(wc -c <"$wasm") bytes)"

echo "== rust-app: wasm-bindgen --target web --out-dir <temp>"
wasm-bindgen --version
wasm-bindgen --target web --out-dir "$out" "$wasm"
js=$out/pondsocket_rust_app_test.js
bg=$out/pondsocket_rust_app_test_bg.wasm

# One export name a line.
wasm_exports() {
  node -e 'const b = require("fs").readFileSync(process.argv[1]);
    for (const e of WebAssembly.Module.exports(new WebAssembly.Module(b))) console.log(e.name)' "$1"
}
# The npm crate's exports: its classes' methods (pondclient_new, channel_join, ...), their destructors
# (__wbg_pondclient_free, __wbg_channel_free) and its hidden functions.
ours='^(__wbg_)?(pondclient|channel)_|^__diagnostics$|^__registerErrorClasses$'

# Before wasm-bindgen, rustc's wasm carries each export's name with a hash (app_start_c42479e4651d8ef5) and a
# descriptor for it (__wbindgen_describe_app_start_<hash>), which name the same export: both are reduced to the
# name. The descriptors of imports (__wbindgen_describe___wbg_*, over a thousand from js-sys) are left out.
export_names() {
  wasm_exports "$1" | grep -v '^__wbindgen_describe___wbg_' | sed -E 's/^__wbindgen_describe_//; s/_[0-9a-f]{16}$//' |
    sort -u
}

for file in "$wasm" "$bg"; do
  exports=$(export_names "$file")
  echo "== rust-app: exports of $(basename "$file") ($(wasm_exports "$file" | wc -l) in all; import descriptors and hashes left out):"
  echo "   $(echo $exports)"
  if grep -qx app_start <<<"$exports"; then pass "exports app_start"; else fail "app_start is not exported"; fi
  if found=$(grep -E "$ours" <<<"$exports"); then
    fail "exports the npm package's functions: $(echo $found)"
  else
    pass "exports none of the npm package's functions ($ours)"
  fi
done

echo "== rust-app: the generated JS, $(basename "$js") ($(wc -c <"$js") bytes)"
if grep -qE '^export function app_start\(' "$js"; then pass "has export function app_start"; else fail "has no export function app_start"; fi
if found=$(grep -oE 'class (PondClient|Channel)\b|pondclient_|channel_|__diagnostics|__registerErrorClasses' "$js" | sort -u |
  grep .); then
  fail "mentions the npm package's classes or functions: $(echo $found)"
else
  pass "mentions none of PondClient, Channel, pondclient_*, channel_*, __diagnostics, __registerErrorClasses"
fi

echo "== rust-app: app_start() in Node"
echo '{"type":"module"}' >"$out/package.json"   # the web target's glue is an ES module with a .js name
if live=$(node --input-type=module -e '
  const { readFileSync } = await import("node:fs");
  const app = await import(process.argv[1]);
  app.initSync({ module: readFileSync(process.argv[2]) });
  console.log(app.app_start());' "$js" "$bg"); then
  if [ "$live" -gt 0 ] 2>/dev/null; then
    pass "app_start() made a client, a channel and a listener; the app's allocator holds $live bytes"
  else
    fail "app_start() returned $live: the app's allocator did not count the client's allocations"
  fi
else
  fail "app_start() threw"
fi

# The Rust API's documentation, as docs.rs would build it for wasm32: no broken link, no missing item, no warning.
echo "== rust-app: cargo doc -p pondsocket-web -p pondsocket-proto (wasm32, RUSTDOCFLAGS=-D warnings)"
if RUSTDOCFLAGS="-D warnings" cargo doc --locked -p pondsocket-web -p pondsocket-proto --no-deps \
  --target wasm32-unknown-unknown 2>"$out/doc.log"; then
  pass "the Rust API documents without warnings"
else
  cat "$out/doc.log"
  fail "cargo doc warned"
fi

if [ "$failures" -gt 0 ]; then
  echo "rust-app: $failures check(s) failed"
  exit 1
fi
echo "rust-app: all checks passed"
