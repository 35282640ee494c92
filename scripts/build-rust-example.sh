#!/usr/bin/env bash
# Builds examples/leptos-chat (the demo's chat on the Rust API, in Leptos) for the browser into target/rust-demo-site/:
# cargo for wasm32, the wasm-bindgen CLI and wasm-opt that scripts/setup.sh installs (trunk and cargo-leptos would
# download tools from GitHub). A cold build takes a few minutes on 2 cores; later ones reuse target/leptos-chat.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
scripts/setup.sh --wasm >/dev/null

site=target/rust-demo-site
export CARGO_TARGET_DIR="$PWD/target/leptos-chat"
echo "== rust example: cargo build --release --target wasm32-unknown-unknown (examples/leptos-chat)"
(cd examples/leptos-chat && cargo build --release --locked --target wasm32-unknown-unknown --quiet)
rm -rf "$site"
mkdir -p "$site"
wasm-bindgen --target web --no-typescript --out-name leptos_chat --out-dir "$site/pkg" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/leptos-chat.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  "$site/pkg/leptos_chat_bg.wasm" -o "$site/pkg/leptos_chat_bg.wasm"
cp examples/leptos-chat/index.html "$site/"
echo "== rust example: $site ($(gzip -9 -c "$site/pkg/leptos_chat_bg.wasm" | wc -c) bytes of wasm gzipped)"
