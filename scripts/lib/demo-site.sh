# shellcheck shell=bash
# Sourced by scripts/demo.sh and scripts/test-demo.sh.
#   assemble_demo_site DIR   DIR := www/ plus a copy of pkg/ at DIR/pkg/ (what the bundled server serves).
#                            DIR must be under target/ (it is emptied first). Needs pkg/ built.

assemble_demo_site() {
  local root dir=$1
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  case "$dir" in
    target/* | "$root"/target/*) ;;
    *) echo "assemble_demo_site: $dir is not under target/" >&2; return 2 ;;
  esac
  if [ ! -f "$root/pkg/index.js" ] || [ ! -f "$root/pkg/web/pondsocket_wasm_bg.wasm" ]; then
    echo "assemble_demo_site: pkg/ is not built (scripts/build-pkg.sh)" >&2
    return 1
  fi
  (
    cd "$root" || exit 1
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -R www/. "$dir/"
    cp -R pkg "$dir/pkg"
  )
}
