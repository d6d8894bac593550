"""Hostile input: 10,000 malformed or badly signed messages over loopback, then proof that
the kernel still answers and executed none of them. Between them: raw TCP garbage, and
valid ZMTP handshakes followed by frame headers announcing up to 2^62 bytes, on every port.

Every hostile execute_request carries a cell that would create its own file; afterwards no
such file may exist, and the first genuine cell must run as execution count 1. A genuine,
correctly signed execute_request is then replayed byte for byte: it must run once only.
Bounded: the messages are generated from a fixed seed, sent within SEND_BUDGET seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import random
import socket
import struct
import time
import uuid
from pathlib import Path

import zmq

from dlk_protocol import execute, shell_reply, start_kernel, stop_kernel, warm

TOTAL = 10_000
SEND_BUDGET = 120.0  # seconds to send them all
DELIM = b"<IDS|MSG>"


def header(msg_type: str, **extra) -> dict:
    return {
        "msg_id": uuid.uuid4().hex,
        "session": "hostile",
        "username": "mallory",
        "date": "2026-01-01T00:00:00.000000Z",
        "msg_type": msg_type,
        "version": "5.3",
        **extra,
    }


def sign(key: bytes, parts: list[bytes]) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        mac.update(p)
    return mac.hexdigest().encode()


def dumps(obj) -> bytes:
    return json.dumps(obj).encode()


def hostile_messages(key: bytes, pwn_dir: Path, rng: random.Random):
    """Yields (description, frames), none of which may be executed."""
    i = 0
    while True:
        i += 1
        pwn = pwn_dir / f"pwned-{i}"
        code = f'std::fs::write(r"{pwn}", "pwned").unwrap();'
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        parts = [dumps(header("execute_request")), b"{}", b"{}", dumps(content)]
        good_sig = sign(key, parts)
        kind = i % 14
        if kind == 0:  # random signature
            yield "random signature", [DELIM, rng.randbytes(32).hex().encode(), *parts]
        elif kind == 1:  # signed with another key
            yield "wrong key", [DELIM, sign(b"not-the-key", parts), *parts]
        elif kind == 2:  # good signature, one part altered afterwards
            altered = list(parts)
            altered[3] = dumps({**content, "silent": False, "x": 1})
            yield "tampered content", [DELIM, good_sig, *altered]
        elif kind == 3:  # good signature, parts in another order
            yield "reordered parts", [DELIM, good_sig, parts[3], parts[1], parts[2], parts[0]]
        elif kind == 4:  # too few frames
            n = rng.randrange(0, 5)
            yield f"{n} frames after delimiter", [DELIM, good_sig, *parts][: n + 1]
        elif kind == 5:  # no delimiter at all
            yield "no delimiter", [good_sig, *parts]
        elif kind == 6:  # empty or truncated signature
            yield "truncated signature", [DELIM, good_sig[: rng.randrange(0, 63)], *parts]
        elif kind == 7:  # signature not hex
            yield "non-hex signature", [DELIM, b"z" * 64, *parts]
        elif kind == 8:  # correctly signed, header is not JSON
            bad = [b"{not json", b"{}", b"{}", dumps(content)]
            yield "signed bad JSON header", [DELIM, sign(key, bad), *bad]
        elif kind == 9:  # correctly signed, header fields of the wrong type
            h = header("execute_request")
            h["msg_id"] = 12345
            bad = [dumps(h), b"{}", b"{}", dumps(content)]
            yield "signed ill-typed header", [DELIM, sign(key, bad), *bad]
        elif kind == 10:  # correctly signed, content field of the wrong type
            bad_content = {**content, "silent": "no"}
            bad = [dumps(header("execute_request")), b"{}", b"{}", dumps(bad_content)]
            yield "signed ill-typed content", [DELIM, sign(key, bad), *bad]
        elif kind == 11:  # correctly signed, content is an array / parent header a string
            bad = [dumps(header("execute_request")), b'"p"', b"{}", dumps([code])]
            yield "signed non-object parts", [DELIM, sign(key, bad), *bad]
        elif kind == 12:  # binary garbage frames
            yield "garbage", [rng.randbytes(rng.randrange(0, 64)) for _ in range(rng.randrange(1, 9))]
        else:  # many identities, huge frame, or invalid UTF-8 content, all badly signed
            choice = rng.randrange(3)
            if choice == 0:
                yield "too many identities", [b"id"] * 40 + [DELIM, good_sig, *parts]
            elif choice == 1:
                yield "huge frame", [DELIM, b"0" * 64, parts[0], b"{}", b"{}", b"x" * 200_000]
            else:
                bad = [dumps(header("execute_request")), b"{}", b"{}", b"\xff\xfe{\"code\":1}"]
                yield "signed invalid UTF-8", [DELIM, sign(key, bad), *bad]


def raw_tcp_garbage(ip: str, port: int, rng: random.Random) -> None:
    """Not even ZMTP: random bytes straight onto the port."""
    try:
        with socket.create_connection((ip, port), timeout=2) as s:
            s.sendall(rng.randbytes(rng.randrange(1, 512)))
    except OSError:
        pass


def zmtp_huge_frame(ip: str, port: int, size: int) -> None:
    """A valid ZMTP 3.0 greeting and READY, then a frame header announcing `size` bytes.
    (The upstream zeromq crate reserved that much memory up front and aborted.)"""
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL" + b"\x00" * 16 + b"\x00" * 32
    ready = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
    try:
        with socket.create_connection((ip, port), timeout=2) as s:
            s.sendall(greeting + b"\x04" + bytes([len(ready)]) + ready)
            s.sendall(b"\x02" + struct.pack(">Q", size) + b"x" * 100)
            time.sleep(0.05)
    except OSError:
        pass


def test_ten_thousand_hostile_messages(tmp_path):
    km, kc = start_kernel()
    ctx = zmq.Context()
    try:
        warm(kc)
        info = km.get_connection_info()
        key = info["key"] if isinstance(info["key"], bytes) else info["key"].encode()
        ip = info["ip"]
        socks = {}
        for name in ("shell", "control", "stdin"):
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.SNDTIMEO, 30_000)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(f"tcp://{ip}:{info[name + '_port']}")
            socks[name] = s
        time.sleep(0.3)

        rng = random.Random(20261128)
        gen = hostile_messages(key, tmp_path, rng)
        targets = ["shell"] * 9 + ["control"] * 9 + ["stdin"] * 2
        started = time.monotonic()
        kinds: dict[str, int] = {}
        for n in range(TOTAL):
            what, frames = next(gen)
            kinds[what] = kinds.get(what, 0) + 1
            socks[targets[n % len(targets)]].send_multipart(frames)
            if n % 500 == 0:
                for port_name in ("shell_port", "control_port", "stdin_port", "hb_port", "iopub_port"):
                    raw_tcp_garbage(ip, info[port_name], rng)
                    zmtp_huge_frame(ip, info[port_name], rng.choice([2**62, 2**40, 2**33, 2**29]))
            assert time.monotonic() - started < SEND_BUDGET, f"sending took too long ({n} sent)"
        assert sum(kinds.values()) == TOTAL
        assert len(kinds) >= 14, kinds

        # Still alive, still answering on shell and control, still beating.
        assert km.is_alive(), "the kernel died under hostile input"
        try:
            r = shell_reply(kc, kc.kernel_info(), timeout=60)
        except (TimeoutError, queue.Empty):
            ran = len(list(tmp_path.glob("pwned-*")))
            raise AssertionError(f"no kernel_info_reply after the burst ({ran} hostile cells ran)")
        assert r["content"]["status"] == "ok"
        msg = kc.session.msg("kernel_info_request", {})
        kc.control_channel.send(msg)
        while True:
            r = kc.control_channel.get_msg(timeout=30)
            if r["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        assert r["content"]["status"] == "ok"
        assert kc.hb_channel.is_beating()

        # None of them ran.
        time.sleep(1.0)
        assert not list(tmp_path.glob("pwned-*")), "a hostile message was executed"

        # A genuine cell runs, as count 1; replayed byte for byte, it runs once only.
        canary = tmp_path / "canary"
        code = (
            "{ use std::io::Write; let mut f = std::fs::OpenOptions::new().create(true)"
            f'.append(true).open(r"{canary}").unwrap(); f.write_all(b"x").unwrap(); }}'
        )
        genuine = kc.session.msg("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True})
        frames = kc.session.serialize(genuine)
        shell = socks["shell"]
        shell.send_multipart(frames)
        shell.send_multipart(frames)  # the replay
        replies = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if shell.poll(timeout=500):
                _, raw = kc.session.feed_identities(shell.recv_multipart())
                reply = kc.session.deserialize(raw)
                if reply["parent_header"].get("msg_id") == genuine["header"]["msg_id"]:
                    replies.append(reply)
                    deadline = min(deadline, time.monotonic() + 3.0)  # wait for a second one
        assert len(replies) == 1, f"{len(replies)} replies to one genuine message"
        assert replies[0]["content"]["status"] == "ok", replies[0]["content"]
        assert replies[0]["content"]["execution_count"] == 1
        assert canary.read_text() == "x"
        assert not list(tmp_path.glob("pwned-*"))

        # And the ordinary client still works.
        reply, _ = execute(kc, "1 + 1")
        assert reply["content"]["execution_count"] == 2
    finally:
        for s in locals().get("socks", {}).values():
            s.close(0)
        ctx.term()
        stop_kernel(km, kc)
