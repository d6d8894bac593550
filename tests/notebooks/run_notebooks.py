#!/usr/bin/env python3
"""Execute every chapter notebook with the project's kernel, as CI does.

Checks first that each committed notebook is stored clean (no outputs, no execution
counts) and names the project's kernel, then runs each one with
`jupyter nbconvert --to notebook --execute`, which fails on any cell error or failed
`assert!`. Prints one line per notebook with its wall time.

    run_notebooks.py [--html DIR] [--only PATTERN] [--out DIR]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KERNEL_NAME = "rust-dl"


def committed_problems(path: Path) -> list[str]:
    """What is wrong with a notebook as committed (it must be stripped, on our kernel)."""
    nb = json.loads(path.read_text())
    problems = []
    spec = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if spec != KERNEL_NAME:
        problems.append(f"kernelspec is {spec!r}, expected {KERNEL_NAME!r}")
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has committed outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has an execution count")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="also render the executed notebooks to HTML here")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "executed")
    parser.add_argument("--only", default="", help="run only notebooks whose name contains this")
    args = parser.parse_args()

    paths = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if args.only in p.name)
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    bad = {p.name: committed_problems(p) for p in paths}
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        for name, problems in bad.items():
            print(f"FAIL {name}: " + "; ".join(problems))
        print("Strip outputs before committing (a clean notebook on the rust-dl kernel).")
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    failed, total_start = [], time.monotonic()
    for path in paths:
        start = time.monotonic()
        cmd = [
            sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
            f"--ExecutePreprocessor.kernel_name={KERNEL_NAME}",
            "--ExecutePreprocessor.timeout=600",
            "--ExecutePreprocessor.startup_timeout=180",
            "--output-dir", str(args.out), str(path),
        ]
        result = subprocess.run(cmd, cwd=NOTEBOOKS, capture_output=True, text=True)
        seconds = time.monotonic() - start
        if result.returncode != 0:
            failed.append(path.name)
            print(f"FAIL {path.name} ({seconds:.0f} s)\n{result.stderr[-6000:]}", flush=True)
            continue
        print(f"ok   {path.name} ({seconds:.0f} s)", flush=True)
        if args.html:
            args.html.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html",
                 "--output-dir", str(args.html), str(args.out / path.name)],
                check=True, capture_output=True,
            )
    minutes = (time.monotonic() - total_start) / 60
    print(f"notebooks: {len(paths) - len(failed)} passed, {len(failed)} failed in {minutes:.1f} min")
    if args.html and not failed:
        print(f"HTML in {args.html}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
