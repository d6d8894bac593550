#!/usr/bin/env python3
"""How long a reader waits: this kernel against a baseline, side by side in one run.

For each kernel, medians over --runs fresh kernels of:
  - start -> kernel_info_reply,
  - start -> first dl-core plot displayed as image/png,
  - a warm trivial cell, a warm plot cell, a warm training step of a small model,
  - the kernel's resident memory when idle (kernel process and its children).

The baseline is evcxr_jupyter with `:dep dl-core` when an `evcxr_jupyter` binary is on PATH,
otherwise this kernel with preloading off (`--no-preload`, so the first plot cell begins
with `:dep dl-core`). Ratios are baseline / this kernel (above 1: this kernel is faster).
Absolute times on a shared machine mean little; the ratio in the same run is the figure.

    .venv/bin/python bench/kernel_start.py [--runs 3] [--baseline-runs 1]

Needs `make setup` first (the kernelspec in .venv and the warmed dl-core build).
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / ".venv" / "share" / "jupyter" / "kernels" / "rust-dl" / "kernel.json"
DL_CORE = ROOT / "dl-core"

PLOT = 'plot::line("squares", &[("x²", &[0.0f32, 1.0, 4.0, 9.0][..])]).show();'
TRIVIAL = "1 + 1"
TRAIN = """
{
    let x = Array2::<f32>::from_shape_fn((64, 8), |(i, j)| ((i * 8 + j) % 7) as f32 / 7.0).into_dyn();
    let y = Array2::<f32>::from_shape_fn((64, 1), |(i, _)| (i % 2) as f32).into_dyn();
    let mut model = Sequential::new().add(Dense::new(8, 16)).add(Relu::new()).add(Dense::new(16, 1));
    model.compile(Adam::new(0.01), Loss::Mse, &[]);
    model.fit(&x, &y, FitOptions::new().epochs(1).batch_size(64).verbose(false));
}
"""


def run_cell(kc, code: str, timeout: float = 900.0) -> tuple[float, bool, list[str]]:
    """Executes `code`; returns (seconds, ok, mime types shown)."""
    started = time.perf_counter()
    msg_id = kc.execute(code)
    shown, ok = [], True
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "update_display_data", "execute_result"):
            shown.extend(content["data"].keys())
        elif kind == "error":
            ok = False
            print(f"    cell failed: {content['ename']}: {content['evalue'][:300]}", file=sys.stderr)
        elif kind == "status" and content["execution_state"] == "idle":
            return time.perf_counter() - started, ok, shown


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants, MiB (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1024


def kernel_manager(argv: list[str], specs: Path) -> KernelManager:
    """A manager for a kernel started with `argv`, through a throw-away kernelspec in `specs`."""
    (specs / "bench").mkdir(exist_ok=True)
    (specs / "bench" / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "bench", "language": "rust", "interrupt_mode": "message"}))
    return KernelManager(kernel_name="bench",
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]))


def one_kernel(argv: list[str], first_plot_prefix: str) -> dict[str, float]:
    specs = Path(tempfile.mkdtemp(prefix="dlk-bench-spec-"))
    km = kernel_manager(argv, specs)
    started = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.kernel_info(reply=False)
        kc.get_shell_msg(timeout=120)
        info = time.perf_counter() - started
        _, ok, shown = run_cell(kc, first_plot_prefix + PLOT)
        first_plot = time.perf_counter() - started
        if not ok or "image/png" not in shown:
            raise RuntimeError(f"first plot cell showed {shown} (ok={ok})")
        trivial = statistics.median(run_cell(kc, TRIVIAL)[0] for _ in range(5))
        plot = statistics.median(run_cell(kc, PLOT)[0] for _ in range(3))
        train = statistics.median(run_cell(kc, TRAIN)[0] for _ in range(3))
        time.sleep(1.0)
        rss = rss_mib(km.provisioner.process.pid)
        return {"kernel_info": info, "first_plot": first_plot, "trivial": trivial,
                "plot": plot, "train_step": train, "idle_rss_mib": rss}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        shutil.rmtree(specs, ignore_errors=True)


def measure(name: str, argv: list[str], prefix: str, runs: int) -> dict[str, float]:
    results = []
    for i in range(runs):
        r = one_kernel(argv, prefix)
        print(f"  {name} run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items()))
        results.append(r)
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=1,
                        help="the baseline builds dl-core from nothing in every fresh kernel")
    args = parser.parse_args()
    ours = json.loads(SPEC.read_text())["argv"]
    dep = f':dep dl-core = {{ path = "{DL_CORE}" }}\nuse dl_core::prelude::*;\n'
    evcxr = shutil.which("evcxr_jupyter")
    scratch = Path(tempfile.mkdtemp(prefix="dlk-bench-"))
    if evcxr:
        baseline_name = "evcxr_jupyter 0.22 + :dep"
        baseline = [evcxr, "--control_file", "{connection_file}"]
    else:
        baseline_name = "this kernel --no-preload + :dep"
        baseline = ours[:ours.index("--cache-dir")] + ["--cache-dir", str(scratch), "--no-preload"]
    os.environ.setdefault("RUST_LOG", "error")
    print(f"this kernel: {' '.join(ours[:2])} (dl-core preloaded), {args.runs} runs")
    mine = measure("this kernel", ours, "", args.runs)
    print(f"baseline: {baseline_name}, {args.baseline_runs} runs (fresh build cache)")
    base = measure("baseline", baseline, dep, args.baseline_runs)
    shutil.rmtree(scratch, ignore_errors=True)
    targets = {"kernel_info": 1.5, "first_plot": 5.0, "trivial": 0.25, "plot": 0.6}
    print(f"\n{'figure':<14}{'this kernel':>12}{'baseline':>12}{'ratio':>8}  target")
    for key in mine:
        unit = " MiB" if key.endswith("mib") else " s"
        target = f"<= {targets[key]} s" if key in targets else ""
        verdict = ("met" if mine[key] <= targets[key] else "MISSED") if key in targets else ""
        print(f"{key:<14}{mine[key]:>10.2f}{unit[1:]:>2}{base[key]:>10.2f}{unit[1:]:>2}"
              f"{base[key] / mine[key]:>8.2f}  {target} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
