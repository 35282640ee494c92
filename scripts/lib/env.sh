# Sourced by the scripts: where the tools that scripts/setup.sh installs live, first on PATH.
# binaryen comes from npm (current wasm-opt): Debian's 108 corrupts the externref table of today's wasm-bindgen.
PONDSOCKET_TOOLS="${PONDSOCKET_TOOLS:-$HOME/.cache/pondsocket-wasm-tools}"
export PONDSOCKET_TOOLS
export PATH="$PONDSOCKET_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
