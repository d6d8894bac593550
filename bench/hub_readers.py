"""What each reader of a class costs: 1, 3 and 6 readers at once through a real JupyterHub.

A benchmark, not a test (run as root; `make test` never runs it). One standalone install
(`scripts/install-standalone.sh`) into a fresh prefix, then for each count a fresh set of
readers (Unix users with empty homes) who log in together, start their servers and run a chapter
through the hub's proxy, as the hub test does. Per reader:

- first cell: seconds from asking the hub for the server to the chapter's first cell done;
- idle: PSS (and RSS) of the reader's kernel and its evcxr child once the first cell is done
  (the chapter's first cell only prints), and after the whole chapter;
- cache: bytes the reader wrote into their cache (`~/.cache/dl-kernel`), links to the shared
  build not counted.

Targets: idle <= 300 MiB, cache <= 50 MiB, the last of three readers to reach the first cell
within 2x a reader alone.

    .venv/hub/bin/python bench/hub_readers.py --kernel target/release/dl-kernel [--counts 1,3,6]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hub"))
import hub as class_hub  # noqa: E402

MIB = 1024 * 1024


def one_round(base: Path, install: class_hub.Install, count: int, chapter: str) -> list[dict]:
    round_dir = base / f"round-{count}"
    round_dir.mkdir()
    round_dir.chmod(0o755)
    readers = class_hub.Readers(round_dir, count, chapter, prefix="dlk-bench")
    hub = None
    rows: list[dict] = []
    try:
        people = readers.create()
        hub = class_hub.Hub(round_dir, install, [r.name for r in people])

        def at_first_cell(reader: class_hub.Reader) -> None:
            pids = class_hub.kernel_processes(reader.uid)
            pss, rss = class_hub.memory_mib(pids)
            reader.timings["idle_pss"], reader.timings["idle_rss"] = pss, rss
            reader.timings["processes"] = len(pids)

        def run(reader: class_hub.Reader) -> None:
            try:
                reader.timings["failures"] = class_hub.run_chapter(
                    hub, reader, chapter, on_first_cell=at_first_cell)
            except Exception as error:
                reader.timings["failures"] = [f"{type(error).__name__}: {error}"]
            pss, rss = class_hub.memory_mib(class_hub.kernel_processes(reader.uid))
            reader.timings["after_pss"], reader.timings["after_rss"] = pss, rss
            reader.timings["cache"] = class_hub.written_by(reader.cache, reader.uid)

        threads = [threading.Thread(target=run, args=(r,)) for r in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for reader in people:
            rows.append({"readers": count, "name": reader.name, **reader.timings})
    finally:
        if hub:
            hub.stop()
        readers.remove()
        time.sleep(1)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel", type=Path, required=True)
    parser.add_argument("--counts", default="1,3,6")
    parser.add_argument("--chapter", default="01_introduction.ipynb")
    parser.add_argument("--keep", type=Path, help="install into this directory and keep it; "
                        "a later run with the same directory reuses the install")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="dlk-hub-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    install = class_hub.Install(base, args.kernel.resolve())
    rows: list[dict] = []
    try:
        if not (install.prefix / "bin" / "dl-kernel").exists():
            install.share_rust_toolchain()
            print(f"install: {install.run():.0f} s", flush=True)
        for count in [int(c) for c in args.counts.split(",")]:
            shutil.rmtree(base / f"round-{count}", ignore_errors=True)
            rows += one_round(base, install, count, args.chapter)
            print(f"{count} reader(s) done", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    print(f"\nchapter {args.chapter}; memory = kernel + evcxr child; cache = bytes written\n")
    print("| readers | reader | first cell (s) | chapter (s) | idle PSS / RSS (MiB) "
          "| after chapter PSS / RSS (MiB) | cache (MiB) | processes | failures |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['readers']} | {row['name'][-1]} | {row.get('first_cell', float('nan')):.1f} "
              f"| {row.get('chapter', float('nan')):.1f} "
              f"| {row.get('idle_pss', 0):.0f} / {row.get('idle_rss', 0):.0f} "
              f"| {row.get('after_pss', 0):.0f} / {row.get('after_rss', 0):.0f} "
              f"| {row.get('cache', 0) / MIB:.1f} | {row.get('processes', 0)} "
              f"| {len(row.get('failures', []))} |")
    for row in rows:
        for failure in row.get("failures", []):
            print(f"failure ({row['readers']} readers, {row['name']}): {failure[:300]}")

    def firsts(count: int) -> list[float]:
        return sorted(r["first_cell"] for r in rows if r["readers"] == count and "first_cell" in r)

    alone, three = firsts(1), firsts(3)
    if alone and len(three) == 3:
        ratio = three[-1] / alone[0]
        print(f"\nlast of 3 readers to the first cell / a reader alone: {ratio:.2f}x (target <= 2)")
    idle = [r["idle_pss"] for r in rows if "idle_pss" in r]
    cache = [r["cache"] / MIB for r in rows if "cache" in r]
    if idle:
        print(f"idle PSS: median {statistics.median(idle):.0f} MiB, max {max(idle):.0f} (target <= 300)")
    if cache:
        print(f"cache written: median {statistics.median(cache):.1f} MiB, max {max(cache):.1f} (target <= 50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
