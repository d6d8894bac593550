#!/usr/bin/env python3
"""The reader-cell corpus as a benchmark: this kernel against evcxr_jupyter 0.22, in one run.

Every case of `tests/cells/corpus.py` runs in a fresh kernel of each, alternating which kernel
goes first, for `--rounds` rounds. Reported per cell kind: the median latency of a case's first
cell in a fresh kernel (measured from `kernel_info_reply`) and of the later cells, how many cells
showed what they must, and the idle memory of a kernel (its process and evcxr's child) that has
run the plain-Rust cells and was asked for no completion. Ratios are this kernel / peer.

evcxr_jupyter is installed once with `cargo install evcxr_jupyter --version 0.22.0 --locked
--root DIR` (about 6 minutes on two cores) into `--peer-root` and reused; `make test` never
does this. Cases that need dl-core run on this kernel only (evcxr_jupyter has no dl-core).

    bench/cells.py [--rounds N] [--peer-root DIR] [--cell-timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cells"))
import run_cells  # noqa: E402
from corpus import CASES, Case  # noqa: E402

OURS = "rust-dl"
PEER = "evcxr-jupyter-0.22"
PEER_VERSION = "0.22.0"


def default_peer_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "rust-dl-bench" / f"evcxr_jupyter-{PEER_VERSION}"


def ensure_peer(root: Path, spec_dir: Path) -> None:
    """Installs evcxr_jupyter into `root` if needed and writes its kernelspec under `spec_dir`."""
    binary = root / "bin" / "evcxr_jupyter"
    if not binary.exists():
        print(f"installing evcxr_jupyter {PEER_VERSION} into {root} (once, several minutes)")
        subprocess.run(["cargo", "install", "evcxr_jupyter", "--version", PEER_VERSION,
                        "--locked", "--root", str(root)], check=True)
    kernel_dir = spec_dir / "kernels" / PEER
    kernel_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(binary), "--control_file", "{connection_file}"],
        "display_name": f"Rust (evcxr_jupyter {PEER_VERSION})",
        "language": "rust",
        "interrupt_mode": "signal",
    }))


def idle_memory(kernel: str) -> float:
    """RSS (MiB) of a kernel that ran every plain-Rust cell without stdin, 5 s after the last."""
    km, kc, _ = run_cells.start_kernel(kernel)
    try:
        for case in CASES:
            if case.dl_core:
                continue
            for cell in case.cells:
                if cell.stdin is None and not cell.code.startswith(":dep"):
                    run_cells.run_cell(km, kc, cell.code)
        time.sleep(5)
        return run_cells.kernel_rss_mib(km)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer-root", type=Path, default=default_peer_root())
    parser.add_argument("--cell-timeout", type=float, default=40.0,
                        help="seconds before a cell counts as hung (the peer hangs on stdin)")
    args = parser.parse_args()
    run_cells.CELL_TIMEOUT = args.cell_timeout

    spec_dir = Path(tempfile.mkdtemp(prefix="rust-dl-bench-"))
    ensure_peer(args.peer_root, spec_dir)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(spec_dir)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    os.environ.setdefault("RUST_LOG", "warn")

    # latency[kernel][(kind, fresh)] -> seconds; correct[kernel] -> (passed, total)
    latency: dict[str, dict[tuple[str, bool], list[float]]] = defaultdict(lambda: defaultdict(list))
    correct: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    first_let: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, set[str]] = defaultdict(set)
    for round_number in range(args.rounds):
        for case_number, case in enumerate(CASES):
            kernels = [OURS, PEER] if (round_number + case_number) % 2 == 0 else [PEER, OURS]
            for kernel in kernels:
                if case.dl_core and kernel == PEER:
                    continue
                outcomes, ready = run_cells.run_case(kernel, case)
                for o in outcomes:
                    latency[kernel][(o.cell.kind, o.fresh)].append(o.seen.seconds)
                    if round_number == 0:
                        correct[kernel][0] += o.passed
                        correct[kernel][1] += 1
                        if not o.passed:
                            failures[kernel].add(f"{case.name} [{o.index}]: {o.problems[0][:90]}")
                    if o.fresh and o.cell.kind == "let" and not case.dl_core:
                        first_let[kernel].append(ready + o.seen.seconds)
        print(f"round {round_number + 1} of {args.rounds} done", flush=True)

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):6.2f}" if values else "     -"

    def ratio(ours: list[float], peer: list[float]) -> str:
        if not ours or not peer:
            return "    -"
        return f"{statistics.median(ours) / statistics.median(peer):5.2f}"

    print(f"\nmedian seconds per cell, {args.rounds} rounds; ratio = {OURS} / {PEER}")
    print(f"{'kind':<12} {'when':<6} {OURS:>9} {PEER:>19} {'ratio':>6}")
    keys = sorted({k for kernel in latency.values() for k in kernel})
    for kind, fresh in keys:
        ours, peer = latency[OURS][(kind, fresh)], latency[PEER][(kind, fresh)]
        when = "fresh" if fresh else "warm"
        print(f"{kind:<12} {when:<6} {med(ours):>9} {med(peer):>19} {ratio(ours, peer):>6}")
    print(f"{'start→first let done':<19} {med(first_let[OURS]):>9} {med(first_let[PEER]):>19} "
          f"{ratio(first_let[OURS], first_let[PEER]):>6}")
    memory = {kernel: idle_memory(kernel) for kernel in (OURS, PEER)}
    print(f"{'idle memory (MiB)':<19} {memory[OURS]:9.0f} {memory[PEER]:19.0f} "
          f"{memory[OURS] / memory[PEER]:6.2f}")
    for kernel in (OURS, PEER):
        passed, total = correct[kernel]
        print(f"{kernel}: {passed}/{total} corpus cells as expected")
        for failure in sorted(failures[kernel]):
            print(f"    {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
