#!/usr/bin/env bash
# Builds the npm package into pkg/ from pkg-template/ and two wasm-pack builds of the crate:
#   pkg/index.js + pkg/web/    ES module for browsers and bundlers (wasm fetched beside the module)
#   pkg/node/                  CommonJS for Node's require(), with an ES-module wrapper for import
# Both builds use weak refs (the GC frees what JS drops) and wasm-opt -Oz. `npm pack pkg` then makes the tarball.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --wasm
source scripts/lib/env.sh

# The npm build parses with JSON.parse: serde and serde_json (the Rust apps' path) must not be compiled into it.
serde_in_npm_build=$(cargo tree --locked -p pondsocket-wasm --target wasm32-unknown-unknown -e normal \
  --features diagnostics -i serde_json 2>/dev/null || true)
if [ -n "$serde_in_npm_build" ]; then
  echo "build-pkg.sh: serde_json is a dependency of the npm build:" >&2
  echo "$serde_in_npm_build" >&2
  exit 1
fi

build=target/pkg-build
rm -rf "$build" pkg
for target in web nodejs; do
  echo "== wasm-pack build --target $target" >&2
  # Without the default `serde` feature: the package needs no serde (JsonObject::deserialize is for Rust users).
  wasm-pack --quiet build --release --target "$target" --weak-refs --no-pack --no-typescript \
    --out-dir "$build/$target" --out-name pondsocket_wasm -- --features diagnostics
  # Cargo's output behind the browser build, names and all: scripts/size.sh rebuilds it with its names kept.
  if [ "$target" = web ]; then
    cp "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/pondsocket_wasm.wasm" "$build/pondsocket_wasm.cargo.wasm"
  fi
done

mkdir -p pkg/web pkg/node
cp -R pkg-template/. pkg/
cp -R "$build/web/pondsocket_wasm.js" "$build/web/pondsocket_wasm_bg.wasm" "$build/web/snippets" pkg/web/
cp -R "$build/nodejs/pondsocket_wasm.js" "$build/nodejs/pondsocket_wasm_bg.wasm" "$build/nodejs/snippets" pkg/node/
# wasm-bindgen's CommonJS glue require()s the crates' JS modules (src/js/host.js, crates/pondsocket-web/src/host.js),
# which it copies as ES modules; Node 20 cannot require one, so the node copies become CommonJS.
find pkg/node/snippets -name '*.js' | while read -r snippet; do
  sed -i -E 's/^export function ([A-Za-z0-9_]+)/exports.\1 = \1;\nfunction \1/' "$snippet"
done

# The types for require() (index.d.cts): TypeScript before 5.8 will not let a CommonJS file import the types of an
# ES module (TS1479), and the package is one. The same declarations, without the default export require() lacks.
sed '/^export default api;$/d' pkg-template/index.d.ts > pkg/index.d.cts

# One source for the JS surface, in both module systems.
rm pkg/api.js
{ cat pkg-template/api.js; echo; echo 'export default definePondSocket;'; } > pkg/api.mjs
{ echo "'use strict';"; cat pkg-template/api.js; echo; echo 'module.exports = definePondSocket;'; } > pkg/node/api.cjs

version=$(awk -F'"' '/^version = / {print $2; exit}' Cargo.toml)
node -e '
  const fs = require("fs");
  const file = "pkg/package.json";
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.version = process.argv[1];
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$version"
cp README.md pkg/README.md

for f in pkg/web/pondsocket_wasm_bg.wasm pkg/web/pondsocket_wasm.js; do
  printf '%-32s %7d bytes, %6d gzipped\n' "$f" "$(wc -c < "$f")" "$(gzip -9c "$f" | wc -c)" >&2
done
echo "pkg/ ready (version $version)" >&2
