#!/usr/bin/env bash
# One command: dl-core against PyTorch, Keras-on-JAX, Keras-on-TensorFlow and NumPy, alternating,
# with the same thread counts (2, then 1). See README.md. Extra arguments go to dl_bench.py
# (e.g. --rounds 5 --seconds 6 --workloads cnn,lstm --threads 1).
#
# Environment:
#   DL_BENCH_VENV      where to create the peers' virtual environment (default bench/.venv-peers)
#   DL_BENCH_PYTHON    a Python that already has the peers (skips the set-up)
#   DL_BENCH_TORCH_PY  / DL_BENCH_KERAS_PY   separate Pythons for PyTorch and for Keras
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

python="${DL_BENCH_PYTHON:-}"
if [ -z "$python" ] && { [ -z "${DL_BENCH_TORCH_PY:-}" ] || [ -z "${DL_BENCH_KERAS_PY:-}" ]; }; then
  venv="${DL_BENCH_VENV:-$here/.venv-peers}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "setting up the peers in $venv (PyPI's torch wheel is a 2.8 GB download)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet -r "$here/requirements-peers.txt"
  fi
  python="$venv/bin/python"
fi

(cd "$root" && cargo build --quiet --release --locked -p dl-core --example bench_train)
target="${CARGO_TARGET_DIR:-$root/target}"
exec "${python:-python3}" "$here/dl_bench.py" --dl-core "$target/release/examples/bench_train" \
  --torch-python "${DL_BENCH_TORCH_PY:-$python}" --keras-python "${DL_BENCH_KERAS_PY:-$python}" "$@"
