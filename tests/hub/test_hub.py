"""A class on one server: three readers run a chapter at once through a real JupyterHub.

From a standalone install (`scripts/install-standalone.sh`, what `make install` runs) into a
fresh prefix; the readers are real Unix users with their own home directories, so this needs
root (to create them and for the hub's local-process spawner). Asserts:

- every reader logs in with the class password (and not with a wrong one), starts a server
  and runs every cell of the chapter without an error, all three at the same time;
- the kernel each server runs is the installed one, not the checkout's;
- nothing under the install changes (the shared dl-core build is not rebuilt: the same
  template, no new one), and no reader writes outside their own home;
- each reader's sessions reuse the shared build: no template of their own, and the built
  dependencies in their session are links to the shared build, not copies.

    .venv/hub/bin/python tests/hub/test_hub.py --kernel target/release/dl-kernel
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import hub as class_hub  # noqa: E402

CHAPTER = "01_introduction.ipynb"
READERS = 3


def owned_outside_home(base: Path, reader: class_hub.Reader) -> list[str]:
    """Paths under the test's directory that the reader owns outside their home."""
    found = []
    for path in base.rglob("*"):
        try:
            if path.lstat().st_uid == reader.uid and not path.is_relative_to(reader.home):
                found.append(str(path))
        except OSError:
            pass
    return found


def linked_dependencies(reader: class_hub.Reader, shared: Path) -> tuple[int, int]:
    """(links into the shared build, copied files) among the session's built dependencies."""
    links = copies = 0
    for deps in (reader.cache / "sessions").glob("*/evcxr/target/*/debug/deps"):
        for path in deps.iterdir():
            if path.name.startswith(("libctx", "ctx", "libcode_", "code_")):
                continue
            if path.is_symlink() and Path(os.readlink(path)).is_relative_to(shared):
                links += 1
            elif path.is_file():
                links += path.stat().st_nlink > 1
                copies += path.stat().st_nlink == 1
    return links, copies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel", type=Path, required=True, help="the built dl-kernel binary")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("test-hub: skipped: creating the readers' Unix users and spawning their servers "
              "needs root (run make test-hub as root)")
        return 0
    if not class_hub.PROXY.exists():
        print(f"test-hub: configurable-http-proxy is missing ({class_hub.PROXY}): run make setup")
        return 1
    base = Path(tempfile.mkdtemp(prefix="dlk-hub-"))
    base.chmod(0o755)
    install = class_hub.Install(base, args.kernel.resolve())
    readers = class_hub.Readers(base, READERS, CHAPTER)
    hub = None
    failures: list[str] = []
    try:
        install.share_rust_toolchain()
        seconds = install.run()
        print(f"test-hub: installed into a fresh prefix in {seconds:.0f} s")
        templates = install.templates()
        before = class_hub.snapshot(install.prefix)
        people = readers.create()
        hub = class_hub.Hub(base, install, [r.name for r in people])
        if class_hub.log_in(hub, people[0].name, "not-the-password"):
            failures.append("the hub let a reader in with a wrong password")

        def check_session(reader: class_hub.Reader) -> None:
            links, copies = linked_dependencies(reader, install.shared_cache)
            reader.timings["links"], reader.timings["copies"] = links, copies

        results: dict[str, list[str]] = {}

        def run(reader: class_hub.Reader) -> None:
            try:
                results[reader.name] = class_hub.run_chapter(
                    hub, reader, CHAPTER, on_first_cell=check_session)
            except Exception as error:  # reported with the others, after every reader ends
                results[reader.name] = [f"{reader.name}: {type(error).__name__}: {error}"]

        threads = [threading.Thread(target=run, args=(r,)) for r in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for reader in people:
            failures += results.get(reader.name, [f"{reader.name}: no result"])
            t = reader.timings
            written = class_hub.written_by(reader.cache, reader.uid) / 2**20
            print(f"test-hub: {reader.name}: server {t.get('server_ready', 0):.1f} s, first cell "
                  f"{t.get('first_cell', 0):.1f} s, chapter {t.get('chapter', 0):.1f} s, "
                  f"{t.get('links', 0)} shared dependencies linked, {t.get('copies', 0)} copied, "
                  f"{written:.1f} MiB written to the cache")
            if not str(t.get("kernel_argv0", "")).startswith(str(install.prefix)):
                failures.append(f"{reader.name}: the server's kernel is {t.get('kernel_argv0')}, "
                                f"not the installed one")
            if t.get("links", 0) == 0 or t.get("copies", 1) != 0:
                failures.append(f"{reader.name}: the session's dependencies are not links to the "
                                f"shared build ({t.get('links')} linked, {t.get('copies')} copied)")
            own = sorted(p.name for p in (reader.cache / "templates").glob("*") if p.is_dir())
            if own:
                failures.append(f"{reader.name}: built dl-core into their own cache: {own}")
            outside = owned_outside_home(base, reader)
            if outside:
                failures.append(f"{reader.name} wrote outside their home: {outside[:5]}")
        if install.templates() != templates:
            failures.append(f"the shared build changed: {templates} -> {install.templates()}")
        after = class_hub.snapshot(install.prefix)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if changed:
            failures.append(f"the install was written to: {changed[:10]}")
        if "building dl-core" in hub.log_text():
            failures.append("a reader's kernel built dl-core (see the hub's log)")
    finally:
        if hub:
            hub.stop()
            if failures:
                print(hub.log_text()[-6000:])
        try:
            readers.remove()
        finally:
            shutil.rmtree(base, ignore_errors=True)
    for failure in failures:
        print(f"test-hub: FAILED: {failure}")
    passed = READERS if not failures else 0
    print(f"test-hub: {passed} passed, {READERS - passed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
