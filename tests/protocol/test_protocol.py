"""Black-box protocol tests against the real `dl-kernel` binary, through jupyter_client.

One fresh kernel per test module (counts start at 1 there); each test states what it
expects of message order, parent ids, counts and busy/idle.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from jupyter_kernel_test.msgspec_v5 import validate_message

from dlk_protocol import (
    CELL_TIMEOUT,
    execute,
    iopub_until_idle,
    shell_reply,
    start_kernel,
    stop_kernel,
    warm,
)


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_kernel()
    try:
        yield km, kc
    finally:
        stop_kernel(km, kc)


@pytest.fixture(scope="module")
def kc(kernel):
    return kernel[1]


def control_request(kc, msg_type: str, content: dict | None = None, timeout: float = 10):
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + timeout
    while True:
        reply = kc.control_channel.get_msg(timeout=max(0.01, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply


def shell_request(kc, msg_type: str, content: dict | None = None, timeout: float = 10):
    msg = kc.session.msg(msg_type, content or {})
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"], shell_reply(kc, msg["header"]["msg_id"], timeout)


def test_01_kernel_info_is_immediate_and_complete(kc):
    # Asked before any cell ran: must not wait for evcxr's start.
    started = time.monotonic()
    msg_id = kc.kernel_info()
    reply = shell_reply(kc, msg_id, timeout=5)
    assert time.monotonic() - started < 2.0
    c = reply["content"]
    assert c["status"] == "ok"
    assert tuple(int(x) for x in c["protocol_version"].split(".")[:2]) >= (5, 3)
    info = c["language_info"]
    assert info["name"] == "rust"
    assert re.match(r"^\d+\.\d+\.\d+", info["version"]), info["version"]
    assert info["mimetype"] == "text/rust"
    assert info["file_extension"] == ".rs"
    assert info["pygments_lexer"] == "rust"
    assert info["codemirror_mode"] == "rust"
    assert c["banner"]
    assert c["implementation"] == "dl-kernel"
    assert all({"text", "url"} <= set(link) for link in c["help_links"]) and c["help_links"]
    busy_idle = iopub_until_idle(kc, msg_id)
    assert [m["content"]["execution_state"] for m in busy_idle] == ["busy", "idle"]


def validate_all(reply, iopub):
    """Every message against the message spec schemas (jupyter_kernel_test's)."""
    validate_message(reply, "execute_reply", reply["parent_header"]["msg_id"])
    for m in iopub:
        validate_message(m, m["msg_type"], reply["parent_header"]["msg_id"])


def test_02_counts_start_at_one_and_skip_silent_cells(kc):
    warm(kc)  # silent: must not use up a count
    reply, iopub = execute(kc, "let a = 40;")
    validate_all(reply, iopub)
    assert reply["content"]["status"] == "ok", reply["content"]
    assert reply["content"]["execution_count"] == 1
    parent = reply["parent_header"]["msg_id"]
    kinds = [m["msg_type"] for m in iopub]
    assert kinds[0] == "status" and iopub[0]["content"]["execution_state"] == "busy"
    assert kinds[1] == "execute_input"
    assert iopub[1]["content"] == {"code": "let a = 40;", "execution_count": 1}
    assert kinds[-1] == "status" and iopub[-1]["content"]["execution_state"] == "idle"
    assert all(m["parent_header"]["msg_id"] == parent for m in iopub)

    reply, iopub = execute(kc, "a + 1", silent=True)
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["execution_count"] == 1
    assert [m["msg_type"] for m in iopub if m["msg_type"] != "status"] == []

    reply, iopub = execute(kc, "a + 2", store_history=False)
    assert reply["content"]["execution_count"] == 1

    reply, iopub = execute(kc, "a + 2")
    validate_all(reply, iopub)
    assert reply["content"]["execution_count"] == 2
    results = [m for m in iopub if m["msg_type"] == "execute_result"]
    assert len(results) == 1
    assert results[0]["content"]["execution_count"] == 2
    assert results[0]["content"]["data"]["text/plain"] == "42"


def test_03_stream_output_is_stdout_and_stderr(kc):
    reply, iopub = execute(kc, 'println!("out line"); eprintln!("err line");')
    validate_all(reply, iopub)
    assert reply["content"]["status"] == "ok"
    streams = {}
    for m in iopub:
        if m["msg_type"] == "stream":
            streams[m["content"]["name"]] = streams.get(m["content"]["name"], "") + m["content"]["text"]
    assert "out line" in streams.get("stdout", "")
    assert "err line" in streams.get("stderr", "")


def test_04_error_reply_and_stop_on_error_aborts_the_queue(kc):
    bad = kc.execute('let x: i32 = "text";')
    queued1 = kc.execute('println!("must not run 1");')
    queued2 = kc.execute('println!("must not run 2");')
    r_bad = shell_reply(kc, bad)
    validate_message(r_bad, "execute_reply", bad)
    r1 = shell_reply(kc, queued1)
    r2 = shell_reply(kc, queued2)
    assert r_bad["content"]["status"] == "error"
    assert r_bad["content"]["ename"] and r_bad["content"]["evalue"] is not None
    assert isinstance(r_bad["content"]["traceback"], list) and r_bad["content"]["traceback"]
    assert r1["content"]["status"] == "aborted"
    assert r2["content"]["status"] == "aborted"
    errors = [m for m in iopub_until_idle(kc, bad) if m["msg_type"] == "error"]
    assert len(errors) == 1
    for aborted in (queued1, queued2):
        msgs = iopub_until_idle(kc, aborted)
        assert not [m for m in msgs if m["msg_type"] == "stream"], "an aborted cell ran"
    # The kernel goes on afterwards.
    reply, _ = execute(kc, "a * 2")
    assert reply["content"]["status"] == "ok"


def test_05_stop_on_error_false_runs_the_queue(kc):
    bad = kc.execute('let y: i32 = "text";', stop_on_error=False)
    after = kc.execute('println!("ran after error");')
    assert shell_reply(kc, bad)["content"]["status"] == "error"
    assert shell_reply(kc, after)["content"]["status"] == "ok"
    out = "".join(m["content"].get("text", "") for m in iopub_until_idle(kc, after))
    assert "ran after error" in out


def test_06_history_tail_range_search(kc):
    reply, _ = execute(kc, "let unique_name_for_history = 5;")
    count = reply["content"]["execution_count"]
    msg_id, r = shell_request(kc, "history_request",
                              {"hist_access_type": "tail", "n": 1, "output": False, "raw": True})
    assert r["content"]["history"] == [[1, count, "let unique_name_for_history = 5;"]]
    msg_id, r = shell_request(kc, "history_request", {
        "hist_access_type": "range", "session": 0, "start": 1, "stop": 2,
        "output": False, "raw": True})
    assert r["content"]["history"] == [[1, 1, "let a = 40;"]]
    msg_id, r = shell_request(kc, "history_request", {
        "hist_access_type": "search", "pattern": "*unique_name_for_history*",
        "output": False, "raw": True})
    assert [h[1] for h in r["content"]["history"]] == [count]
    assert [m["content"]["execution_state"] for m in iopub_until_idle(kc, msg_id)] == ["busy", "idle"]


def test_07_comms_are_answered(kc):
    msg_id, r = shell_request(kc, "comm_info_request", {})
    assert r["msg_type"] == "comm_info_reply"
    assert r["content"] == {"status": "ok", "comms": {}}
    msg = kc.session.msg("comm_open", {"comm_id": "c-123", "target_name": "no.such.target", "data": {}})
    kc.shell_channel.send(msg)
    iopub = iopub_until_idle(kc, msg["header"]["msg_id"])
    closes = [m for m in iopub if m["msg_type"] == "comm_close"]
    assert len(closes) == 1 and closes[0]["content"]["comm_id"] == "c-123"


def test_08_is_complete_and_completion(kc):
    for code, status in [("fn f() {", "incomplete"), ("fn f() }", "invalid"),
                         ("let x = (1,", "incomplete"), ("1 + 1", "complete")]:
        msg_id = kc.is_complete(code)
        r = shell_reply(kc, msg_id)
        assert r["content"]["status"] == status, code
        if status == "incomplete":
            assert r["content"]["indent"] == "    "
    code = "let v: Vec<i32> = Vec::ne"
    r = shell_reply(kc, kc.complete(code, len(code)), timeout=CELL_TIMEOUT)
    assert r["content"]["status"] == "ok"
    assert any(m.startswith("new") for m in r["content"]["matches"]), r["content"]["matches"][:20]
    assert r["content"]["cursor_end"] == len(code)


def test_09_control_answers_while_a_cell_runs(kc):
    running = kc.execute("std::thread::sleep(std::time::Duration::from_secs(4));")
    time.sleep(1.0)
    started = time.monotonic()
    r = control_request(kc, "kernel_info_request")
    assert r["content"]["status"] == "ok"
    assert time.monotonic() - started < 1.5, "control waited for the running cell"
    assert shell_reply(kc, running)["content"]["status"] == "ok"


def test_10_interrupt_request_when_idle_is_answered(kc):
    r = control_request(kc, "interrupt_request")
    assert r["msg_type"] == "interrupt_reply" and r["content"]["status"] == "ok"
    reply, _ = execute(kc, "a")
    assert reply["content"]["status"] == "ok"


def test_11_sigint_does_not_kill_an_idle_kernel(kernel):
    km, kc = kernel
    km.signal_kernel(signal.SIGINT)
    time.sleep(0.5)
    assert km.is_alive()
    assert shell_reply(kc, kc.kernel_info(), timeout=10)["content"]["status"] == "ok"
    reply, _ = execute(kc, "a + 0")
    assert reply["content"]["status"] == "ok"


def test_12_user_expressions_are_answered(kc):
    reply, _ = execute(kc, "let ue = 20;", user_expressions={"double": "ue * 2", "bad": "nope_zz"})
    ue = reply["content"]["user_expressions"]
    assert ue["double"]["status"] == "ok"
    assert ue["double"]["data"]["text/plain"] == "40"
    assert ue["bad"]["status"] == "error"


def test_13_input_request_on_stdin(kc):
    # evcxr_input (a dependency of evcxr, so already in cargo's cache) asks the kernel for a
    # line; the kernel sends input_request on stdin with the cell as parent.
    code = ':dep evcxr_input = "1"\nlet name = evcxr_input::get_string("Name? ");\nprintln!("hi {name}");'
    msg_id = kc.execute(code, allow_stdin=True)
    req = kc.get_stdin_msg(timeout=300)
    assert req["msg_type"] == "input_request"
    assert req["parent_header"]["msg_id"] == msg_id
    assert req["content"]["prompt"] == "Name? "
    assert req["content"]["password"] is False
    kc.input("Ada")
    assert shell_reply(kc, msg_id, timeout=120)["content"]["status"] == "ok"
    out = "".join(m["content"]["text"] for m in iopub_until_idle(kc, msg_id) if m["msg_type"] == "stream")
    assert "hi Ada" in out


def test_14_sigint_interrupts_a_running_cell(kernel):
    # interrupt_mode "signal": jupyter_client sends SIGINT to the kernel's process group. The
    # kernel's handler raises the interrupt; evcxr's child ignores the signal itself. (What an
    # interrupt does to the cell's variables is the session's business, tested there.)
    km, kc = kernel
    msg_id = kc.execute("std::thread::sleep(std::time::Duration::from_secs(60));")
    time.sleep(2.0)
    started = time.monotonic()
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id, timeout=30)
    assert time.monotonic() - started < 10
    assert reply["content"]["status"] == "error"
    assert km.is_alive()
    reply, iopub = execute(kc, "40 + 2")
    assert reply["content"]["status"] == "ok"
    assert [m["content"]["data"]["text/plain"] for m in iopub if m["msg_type"] == "execute_result"] == ["42"]


def test_98_restart_gives_a_fresh_session():
    km, kc = start_kernel()
    try:
        warm(kc)
        reply, _ = execute(kc, "let before_restart = 1;")
        assert reply["content"]["execution_count"] == 1
        old_pid = km.provisioner.pid
        km.restart_kernel(now=False)  # shutdown_request(restart=True) on control, then a new one
        assert km.provisioner.pid != old_pid
        kc.wait_for_ready(timeout=60)
        warm(kc)
        reply, _ = execute(kc, "1")
        assert reply["content"]["execution_count"] == 1, "the count starts again at 1"
        reply, _ = execute(kc, "before_restart")
        assert reply["content"]["status"] == "error", "variables do not survive a restart"
    finally:
        stop_kernel(km, kc)


def test_99_shutdown_on_control_ends_the_process():
    km, kc = start_kernel()
    try:
        pid = km.provisioner.pid if km.provisioner else None
        r = control_request(kc, "shutdown_request", {"restart": False})
        assert r["content"] == {"status": "ok", "restart": False}
        deadline = time.monotonic() + 10
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not km.is_alive(), "the kernel did not exit after shutdown_request"
        if pid:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)
