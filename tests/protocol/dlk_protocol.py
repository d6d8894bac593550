"""Helpers shared by the protocol tests (conftest.py sets up paths and the kernelspec)."""

from __future__ import annotations

import os
import time

KERNEL_NAME = "rust-dl"
# The first cell of a session waits for evcxr to start and for dl-core to be loaded.
FIRST_CELL_TIMEOUT = float(os.environ.get("DLK_FIRST_CELL_TIMEOUT", "600"))
CELL_TIMEOUT = 60


def start_kernel():
    """A fresh kernel and a started blocking client (kernel_info already answered)."""
    from jupyter_client.manager import start_new_kernel

    return start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=60)


def stop_kernel(km, kc) -> None:
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def iopub_until_idle(kc, msg_id: str, timeout: float = CELL_TIMEOUT) -> list[dict]:
    """IOPub messages whose parent is `msg_id`, up to and including its idle status."""
    deadline = time.monotonic() + timeout
    out = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no idle for {msg_id}; got {[m['msg_type'] for m in out]}")
        msg = kc.get_iopub_msg(timeout=remaining)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def shell_reply(kc, msg_id: str, timeout: float = CELL_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no shell reply to {msg_id}")
        msg = kc.get_shell_msg(timeout=remaining)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def execute(kc, code: str, timeout: float = CELL_TIMEOUT, **kwargs) -> tuple[dict, list[dict]]:
    """Runs a cell; returns (execute_reply, iopub messages of that cell)."""
    msg_id = kc.execute(code, **kwargs)
    reply = shell_reply(kc, msg_id, timeout)
    return reply, iopub_until_idle(kc, msg_id, timeout)


def warm(kc) -> None:
    """Runs a trivial silent cell so that later cells do not wait for evcxr's start."""
    reply, _ = execute(kc, "1", timeout=FIRST_CELL_TIMEOUT, silent=True, store_history=False)
    assert reply["content"]["status"] == "ok", reply["content"]
