#!/usr/bin/env python3
"""Run the reader-cell corpus (corpus.py) against a Jupyter kernel, each case in a fresh kernel.

Prints one line per cell (pass or FAIL, seconds, what was wrong) and exits 1 if any cell did not
show what it must. The kernel is the project's `rust-dl` unless `--kernel` names another
kernelspec; `bench/cells.py` uses the same functions to time a peer kernel.

    run_cells.py [--kernel NAME] [--only TEXT]
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import KernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import ROOT, Case, Cell, all_cases  # noqa: E402

CELL_TIMEOUT = 180.0


@dataclass
class Seen:
    """What one cell produced, in order."""

    events: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    result: str | None = None
    error: str | None = None
    status: str | None = None
    input_requests: int = 0
    seconds: float = 0.0

    def stream(self, name: str) -> str:
        return "".join(text for kind, text in self.events if kind == name)


@dataclass
class CellOutcome:
    case: str
    index: int
    cell: Cell
    seen: Seen
    problems: list[str]
    fresh: bool

    @property
    def passed(self) -> bool:
        return not self.problems


def start_kernel(kernel: str) -> tuple[KernelManager, object, float]:
    """A fresh kernel in notebooks/ (where chapters run); returns it and its start-up time."""
    km = KernelManager(kernel_name=kernel)
    started = time.perf_counter()
    # As a reader starts it: without RUST_BACKTRACE, unless they set it themselves.
    env = {k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"}
    km.start_kernel(cwd=str(ROOT / "notebooks"), env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc, time.perf_counter() - started


def run_cell(km: KernelManager, kc, code: str, stdin: str | None = None) -> Seen:
    """Executes `code` and gathers its outputs until the kernel is idle again."""
    seen = Seen()
    started = time.perf_counter()
    msg_id = kc.execute(code, allow_stdin=True, stop_on_error=False)
    idle = replied = False
    deadline = started + CELL_TIMEOUT
    while not (idle and replied):
        if time.perf_counter() > deadline:
            seen.error = (seen.error or "") + f"[no answer within {CELL_TIMEOUT:.0f} s]"
            break
        try:
            request = kc.stdin_channel.get_msg(timeout=0)
            if request["msg_type"] == "input_request":
                seen.input_requests += 1
                if stdin == "INTERRUPT":
                    km.interrupt_kernel()
                else:
                    kc.input(stdin if stdin is not None else "")
        except queue.Empty:
            pass
        try:
            reply = kc.get_shell_msg(timeout=0)
            if reply["parent_header"].get("msg_id") == msg_id:
                replied = True
                seen.status = reply["content"].get("status")
        except queue.Empty:
            pass
        try:
            msg = kc.get_iopub_msg(timeout=0.02)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "stream":
            seen.events.append((content["name"], content["text"]))
        elif kind == "display_data":
            data = content["data"]
            seen.events.append(("display", str(data.get("text/html", data.get("text/plain", "")))))
        elif kind == "execute_result":
            seen.result = content["data"].get("text/plain")
        elif kind == "error":
            seen.error = "\n".join([content.get("ename", ""), content.get("evalue", "")]
                                   + content.get("traceback", []))
    seen.seconds = time.perf_counter() - started
    return seen


def check(cell: Cell, seen: Seen) -> list[str]:
    """What `seen` lacks of what `cell` must show."""
    problems = []
    failed = seen.status == "error" or seen.error is not None
    if cell.error is not None:
        text = (seen.error or "") + seen.stream("stderr") + seen.stream("stdout")
        if not failed:
            problems.append("should have failed")
        elif cell.error not in text:
            problems.append(f"error lacks {cell.error!r}: {text[:300]!r}")
    elif failed:
        problems.append(f"failed: {(seen.error or seen.stream('stderr'))[:300]!r}")
    if cell.result is not None and seen.result != cell.result:
        problems.append(f"result {seen.result!r}, expected {cell.result!r}")
    stdout = seen.stream("stdout")
    if cell.stdout is not None and cell.stdout not in stdout:
        problems.append(f"stdout lacks {cell.stdout!r}: {stdout[-200:]!r}")
    if cell.stdout_exact is not None and stdout != cell.stdout_exact:
        problems.append(f"stdout {stdout[:200]!r}, expected {cell.stdout_exact!r}")
    if cell.stdout_lines is not None and stdout.count("\n") != cell.stdout_lines:
        problems.append(f"stdout has {stdout.count(chr(10))} lines, expected {cell.stdout_lines}")
    if cell.stderr is not None and cell.stderr not in seen.stream("stderr"):
        problems.append(f"stderr lacks {cell.stderr!r}: {seen.stream('stderr')[:200]!r}")
    if cell.stderr_lacks is not None and cell.stderr_lacks in seen.stream("stderr"):
        problems.append(f"stderr has {cell.stderr_lacks!r}: {seen.stream('stderr')[:200]!r}")
    if cell.stdin is not None and seen.input_requests == 0:
        problems.append("no input_request")
    if cell.order is not None:
        shown = []
        for kind, text in seen.events:
            if kind == "display":
                shown.append(f"display:{text}")
            elif kind == "stdout":
                shown.extend(f"stdout:{line}" for line in text.splitlines())
        if shown != cell.order:
            problems.append(f"outputs in order {shown}, expected {cell.order}")
    return problems


def kernel_rss_mib(km: KernelManager) -> float:
    """Resident memory of the kernel and its child processes (evcxr's child), in MiB."""
    pid = km.provisioner.process.pid
    out = subprocess.run(["ps", "-o", "rss=", "--pid", str(pid), "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    return sum(int(v) for v in out.split()) / 1024


def run_case(kernel: str, case: Case, setup: list[str] = ()) -> tuple[list[CellOutcome], float]:
    """Runs a case in a fresh kernel; `setup` cells (untimed, unchecked) run first."""
    km, kc, ready = start_kernel(kernel)
    outcomes = []
    try:
        for code in setup:
            run_cell(km, kc, code)
        for index, cell in enumerate(case.cells):
            seen = run_cell(km, kc, cell.code, cell.stdin)
            outcomes.append(CellOutcome(case.name, index, cell, seen, check(cell, seen),
                                        fresh=index == 0 and not setup))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return outcomes, ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default="rust-dl")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    os.environ.setdefault("RUST_LOG", "warn")
    cases = [c for c in all_cases() if args.only in c.name]
    failures = 0
    started = time.perf_counter()
    for case in cases:
        outcomes, ready = run_case(args.kernel, case)
        print(f"{case.name} (kernel ready in {ready:.2f} s)")
        for o in outcomes:
            mark = "pass" if o.passed else "FAIL"
            print(f"  {mark} {o.seen.seconds:6.2f} s  [{o.index}] {o.cell.code.splitlines()[0][:60]}")
            for problem in o.problems:
                print(f"         {problem}")
            failures += not o.passed
    total = sum(len(c.cells) for c in cases)
    print(f"cells: {total - failures}/{total} as expected in {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
