#!/usr/bin/env bash
# Runs every test of the project on this machine, installing what they need first (see scripts/setup.sh).
# Today: the native suite of the protocol core (cargo test). Exit code: non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== native: protocol core (cargo test)"
cargo test --locked --all-targets
cargo test --locked --doc
