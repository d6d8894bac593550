"""Set-up for the protocol tests: Jupyter paths and the kernelspec (helpers: dlk_protocol.py).

The kernelspec `rust-dl` is (re)installed into this Python's prefix (the project's .venv),
never into $HOME, and Jupyter's data/config/runtime dirs are kept there too unless the
caller set them. The kernel binary is `$DLK_KERNEL`, else `$CARGO_TARGET_DIR/release/dl-kernel`,
else `target/release/dl-kernel` in the project.

`DLK_TEST_NO_PRELOAD=1` installs the kernelspec with `--no-preload` (no dl-core in the
session: faster, and the protocol is the same); it is reinstalled without it next time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = Path(sys.prefix)

os.environ.setdefault("JUPYTER_DATA_DIR", str(PREFIX / "share" / "jupyter"))
os.environ.setdefault("JUPYTER_CONFIG_DIR", str(PREFIX / "etc" / "jupyter"))
os.environ.setdefault("JUPYTER_RUNTIME_DIR", str(PREFIX / "share" / "jupyter" / "runtime"))


def kernel_binary() -> Path:
    if os.environ.get("DLK_KERNEL"):
        return Path(os.environ["DLK_KERNEL"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "dl-kernel"


def install_kernelspec() -> None:
    binary = kernel_binary()
    if not binary.exists():
        pytest.exit(f"{binary} is missing: build it with cargo build --release -p dl-kernel", 2)
    subprocess.run([str(binary), "install", "--prefix", str(PREFIX)], check=True,
                   stdout=subprocess.DEVNULL)
    if os.environ.get("DLK_TEST_NO_PRELOAD") == "1":
        spec_file = PREFIX / "share" / "jupyter" / "kernels" / "rust-dl" / "kernel.json"
        spec = json.loads(spec_file.read_text())
        spec["argv"].append("--no-preload")
        spec_file.write_text(json.dumps(spec, indent=2))


install_kernelspec()
