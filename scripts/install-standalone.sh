#!/usr/bin/env bash
# A standalone install of the kernel for every user of a machine (a class on one server, or a
# container image): the binary, dl-core's sources with its dependencies' sources, the dl-core
# build made once (readable by all, never written by a session) and the kernelspec.
#
#   scripts/install-standalone.sh --prefix /opt/rust-dl [--jupyter-data-dir DIR] [--kernel FILE]
#
# Layout under PREFIX:
#   bin/dl-kernel                     the kernel
#   share/dl-kernel/src/dl-core/      dl-core's sources, in a workspace of its own (Cargo.toml,
#   share/dl-kernel/src/Cargo.lock    the checkout's lock file trimmed to dl-core's packages)
#   share/dl-kernel/src/vendor/       the sources of dl-core's dependencies (`cargo vendor`):
#                                     sessions build offline, with no cargo home of their own
#   share/dl-kernel/cache/            the shared build (templates/<key>/), made by `warm-up`
#   share/jupyter/kernels/rust-dl/    the kernelspec, unless --jupyter-data-dir DIR is given
#                                     (then DIR/kernels/rust-dl)
#
# The kernelspec runs `dl-kernel run --shared-cache ... --dl-core ...`; each reader's sessions
# go to their own `$XDG_CACHE_HOME/dl-kernel` (or `~/.cache/dl-kernel`), made on demand. Every
# reader needs the same Rust toolchain on PATH as the one that ran this script; with another,
# a session says so and builds dl-core once into that reader's cache. The checkout can be
# deleted afterwards. Running the script again replaces the install (restart running kernels).
#
# Without --kernel the binary is built here (cargo build --release --locked).
set -euo pipefail
umask 022

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
prefix="" data_dir="" kernel=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --jupyter-data-dir) data_dir="$2"; shift 2 ;;
    --kernel) kernel="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install-standalone: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$prefix" ] || usage
checkout="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
data_dir="${data_dir:-$prefix/share/jupyter}"
share="$prefix/share/dl-kernel"
say() { echo "install-standalone: $*"; }
# Cargo reads CI at build time in evcxr's dependencies: keep it out, as the Makefile does.
cargo=(env -u CI cargo)

if [ -z "$kernel" ]; then
  say "building dl-kernel (release)"
  (cd "$checkout" && "${cargo[@]}" build --release --locked -p dl-kernel)
  kernel="${CARGO_TARGET_DIR:-$checkout/target}/release/dl-kernel"
fi
install -D -m 0755 "$kernel" "$prefix/bin/dl-kernel"
say "kernel in $prefix/bin/dl-kernel"

# dl-core's sources in a workspace of their own: dl-core inherits its package fields and
# lints from a workspace, and the checkout's workspace (jupyter-core, kernel) is not installed.
src="$share/src"
rm -rf "$src.new"
mkdir -p "$src.new/dl-core"
for part in Cargo.toml src examples tests; do
  [ -e "$checkout/dl-core/$part" ] && cp -R "$checkout/dl-core/$part" "$src.new/dl-core/"
done
{
  printf '# Written by install-standalone.sh: dl-core alone, with the checkout'"'"'s settings.\n'
  printf '[workspace]\nresolver = "3"\nmembers = ["dl-core"]\n\n'
  awk '/^\[/ { keep = ($0 ~ /^\[workspace\.(lints|package)/) } keep && !/^#/' \
    "$checkout/Cargo.toml"
} > "$src.new/Cargo.toml"
cp "$checkout/Cargo.lock" "$src.new/Cargo.lock"
# Trims the lock file to dl-core's packages (their versions unchanged) and copies their sources.
(cd "$src.new" && "${cargo[@]}" vendor --quiet vendor > /dev/null)
rm -rf "$src"
mv "$src.new" "$src"
say "dl-core and its dependencies' sources in $src"

# The shared build. warm-up removes templates of other keys (an older install) and takes the
# cache's lock while it builds, so kernels starting meanwhile wait instead of seeing half of it.
"$prefix/bin/dl-kernel" warm-up --cache-dir "$share/cache" --dl-core "$src/dl-core"
rm -rf "$share/cache/sessions"
chmod -R a+rX "$share"

"$prefix/bin/dl-kernel" install --data-dir "$data_dir" \
  --shared-cache "$share/cache" --dl-core "$src/dl-core"
chmod -R a+rX "$data_dir/kernels/rust-dl"
say "done: $(du -sh "$prefix" | cut -f1) in $prefix"
