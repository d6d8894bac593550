"""A class on one server: a standalone install, real Unix readers, a real JupyterHub.

Used by the hub test (`test_hub.py`) and the readers benchmark (`bench/hub_readers.py`):

- `Install`: `scripts/install-standalone.sh` into a fresh prefix, with a Rust toolchain
  that every reader can run (a hard-linked copy of the installer's, since rustup's own
  directory is usually private to its user);
- `Readers`: Unix users with their own home directories, each given the chapter and its data;
- `Hub`: JupyterHub on loopback ports, the DummyAuthenticator with one class password, the
  local-process spawner, configurable-http-proxy from the project's npm install;
- `Reader.run_chapter`: log in, start a server, open a kernel through the hub's proxy and run
  every code cell over the server's REST and websocket API, as JupyterLab does.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parents[2]
HUB_ENV = ROOT / ".venv" / "hub"
PROXY = HUB_ENV / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
KERNEL_NAME = "rust-dl"
PASSWORD = "class-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: kind, size, modification time, mode, owner."""
    entries = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        entries[str(path.relative_to(root))] = (
            st.st_mode,
            st.st_size if not path.is_dir() else 0,
            st.st_mtime_ns if not path.is_dir() else 0,
            st.st_uid,
        )
    return entries


class Install:
    """The standalone install in `prefix`, and a toolchain for everyone in `toolchain`."""

    def __init__(self, base: Path, kernel: Path):
        self.base = base
        self.prefix = base / "prefix"
        self.toolchain = base / "rust"
        self.kernel = kernel

    def share_rust_toolchain(self) -> None:
        sysroot = Path(
            subprocess.run(
                ["rustc", "--print", "sysroot"], check=True, capture_output=True, text=True
            ).stdout.strip()
        )
        linked = subprocess.run(["cp", "-al", str(sysroot), str(self.toolchain)])
        if linked.returncode != 0:
            shutil.rmtree(self.toolchain, ignore_errors=True)
            subprocess.run(["cp", "-a", str(sysroot), str(self.toolchain)], check=True)
        subprocess.run(["chmod", "-R", "a+rX", str(self.toolchain)], check=True)

    def path(self) -> str:
        return f"{self.toolchain}/bin:/usr/local/bin:/usr/bin:/bin"

    def run(self) -> float:
        """Runs the documented install; returns its time in seconds."""
        started = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
        env["PATH"] = f"{self.path()}:{os.environ['PATH']}"
        subprocess.run(
            [
                str(ROOT / "scripts" / "install-standalone.sh"),
                "--prefix", str(self.prefix),
                "--kernel", str(self.kernel),
            ],
            check=True,
            env=env,
        )
        return time.monotonic() - started

    @property
    def shared_cache(self) -> Path:
        return self.prefix / "share" / "dl-kernel" / "cache"

    def templates(self) -> list[str]:
        return sorted(p.name for p in (self.shared_cache / "templates").iterdir() if p.is_dir())

    def data_dir(self) -> Path:
        return self.prefix / "share" / "jupyter"


@dataclass
class Reader:
    name: str
    home: Path
    uid: int = -1
    timings: dict = field(default_factory=dict)

    @property
    def cache(self) -> Path:
        return self.home / ".cache" / "dl-kernel"


class Readers:
    """Unix users `<prefix>-N` with homes under `base/home` (created, then removed)."""

    def __init__(self, base: Path, count: int, chapter: str, prefix: str = "dlk-reader"):
        self.base = base
        self.chapter = chapter
        self.readers = [
            Reader(f"{prefix}-{i}", base / "home" / f"reader-{i}") for i in range(1, count + 1)
        ]

    def create(self) -> list[Reader]:
        for reader in self.readers:
            remove_user(reader.name)
            subprocess.run(
                ["useradd", "--no-create-home", "--home-dir", str(reader.home),
                 "--shell", "/bin/bash", reader.name],
                check=True,
            )
            reader.uid = pwd.getpwnam(reader.name).pw_uid
            notebooks = reader.home / "notebooks"
            notebooks.mkdir(parents=True)
            shutil.copy(ROOT / "notebooks" / self.chapter, notebooks / self.chapter)
            for data in chapter_data(self.chapter):
                target = reader.home / "data" / data
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / "data" / data, target)
            subprocess.run(["chown", "-R", f"{reader.name}:{reader.name}", str(reader.home)], check=True)
            reader.home.chmod(0o700)
        (self.base / "home").chmod(0o755)
        return self.readers

    def remove(self) -> None:
        for reader in self.readers:
            remove_user(reader.name)


def remove_user(name: str) -> None:
    """Ends the user's processes (left by an earlier, interrupted run too) and removes them."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    for _ in range(20):
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        if subprocess.run(["userdel", name], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"cannot remove the user {name}")


def code_cells(chapter: str) -> list[str]:
    notebook = json.loads((ROOT / "notebooks" / chapter).read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def chapter_data(chapter: str) -> list[str]:
    """The files under data/ that a chapter's cells name (as `../data/...`)."""
    found = set()
    for code in code_cells(chapter):
        found.update(re.findall(r'"\.\./data/([^"]+)"', code))
    return sorted(found)


class Hub:
    """JupyterHub on 127.0.0.1 with the local-process spawner; stopped by `stop`."""

    def __init__(self, base: Path, install: Install, users: list[str]):
        self.dir = base / "hub"
        self.dir.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        config = f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.JupyterHub.db_url = "sqlite:///{self.dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{self.dir}/cookie_secret"
c.JupyterHub.pid_file = "{self.dir}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(users)!r}
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [{str(HUB_ENV / "bin" / "jupyterhub-singleuser")!r}]
c.Spawner.notebook_dir = "~/notebooks"
c.Spawner.default_url = "/lab"
c.Spawner.env_keep = ["LANG"]
c.Spawner.environment = {{"PATH": {install.path()!r}, "JUPYTER_PATH": {str(install.data_dir())!r}}}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.services = [{{"name": "class-test", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "class-test",
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
    "services": ["class-test"],
}}]
"""
        (self.dir / "jupyterhub_config.py").write_text(config)
        self.log = open(self.dir / "jupyterhub.log", "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "DL_"))}
        env["PATH"] = f"{HUB_ENV / 'bin'}:{env['PATH']}"
        self.process = subprocess.Popen(
            [str(HUB_ENV / "bin" / "jupyterhub"), "-f", str(self.dir / "jupyterhub_config.py")],
            cwd=self.dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited: {self.log_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"jupyterhub did not answer in 60 s: {self.log_text()[-3000:]}")

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (self.dir / "jupyterhub.log").read_text(errors="replace")

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        response = requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kwargs)
        response.raise_for_status()
        return response

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def log_in(hub: Hub, name: str, password: str) -> bool:
    """The login form, as a browser posts it; True when the hub lets the reader in."""
    session = requests.Session()
    page = session.get(f"{hub.url}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    form = {"username": name, "password": password}
    if xsrf:
        form["_xsrf"] = xsrf.group(1)
    answer = session.post(f"{hub.url}/hub/login", data=form, allow_redirects=False, timeout=30)
    return answer.status_code == 302 and any(c.name.startswith("jupyterhub-") for c in session.cookies)


def kernel_processes(uid: int) -> list[int]:
    """The reader's dl-kernel processes: the kernel and evcxr's child."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != uid:
                continue
            exe = os.readlink(proc / "exe")
        except OSError:
            continue
        if exe.endswith("/dl-kernel"):
            found.append(int(proc.name))
    return found


def memory_mib(pids: list[int]) -> tuple[float, float]:
    """(PSS, RSS) of the processes, in MiB."""
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            pass
    return pss / 1024, rss / 1024


def written_by(root: Path, uid: int) -> int:
    """Bytes in regular files under `root` owned by `uid` (links to the shared build are not)."""
    total = 0
    if not root.exists():
        return 0
    for path in root.rglob("*"):
        try:
            st = path.lstat()
        except OSError:
            continue
        if st.st_uid == uid and path.is_file() and not path.is_symlink():
            total += st.st_size
    return total


class KernelChannel:
    """One kernel's websocket (`/api/kernels/<id>/channels`) through the hub's proxy."""

    def __init__(self, base_url: str, token: str, kernel_id: str):
        ws_url = base_url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        self.session_id = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{ws_url}?session_id={self.session_id}",
            header=[f"Authorization: token {token}"],
            timeout=600,
        )

    def execute(self, code: str) -> dict:
        """Runs a cell; returns its reply content and the error outputs it showed."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "reader", "session": self.session_id,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        reply, idle, errors = None, False, []
        while reply is None or not idle:
            message = json.loads(self.ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "execute_reply":
                reply = message["content"]
            elif kind == "error":
                errors.append(message["content"])
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                idle = True
        return {"reply": reply, "errors": errors}

    def close(self) -> None:
        self.ws.close()


def run_chapter(hub: Hub, reader: Reader, chapter: str, on_idle=None, on_first_cell=None) -> list[str]:
    """Logs in, starts the reader's server, runs every code cell; returns the failures.

    `on_idle(reader)` is called once the kernel is up and before the first cell,
    `on_first_cell(reader)` once the first cell is done (the benchmark measures there).
    """
    failures = []
    if not log_in(hub, reader.name, PASSWORD):
        return [f"{reader.name}: the hub refused the class password"]
    started = time.monotonic()
    hub.api("POST", f"/users/{reader.name}/server")
    deadline = time.monotonic() + 180
    while True:
        user = hub.api("GET", f"/users/{reader.name}").json()
        server = user.get("servers", {}).get("", {})
        if server.get("ready"):
            break
        if time.monotonic() > deadline:
            return [f"{reader.name}: the server did not start in 180 s"]
        time.sleep(0.25)
    reader.timings["server_ready"] = time.monotonic() - started
    token = hub.api("POST", f"/users/{reader.name}/tokens", json={"note": "class test"}).json()["token"]
    base = f"{hub.url}{server['url'].rstrip('/')}"
    auth = {"Authorization": f"token {token}"}
    specs = requests.get(f"{base}/api/kernelspecs", headers=auth, timeout=60).json()
    spec = specs["kernelspecs"][KERNEL_NAME]["spec"]
    reader.timings["kernel_argv0"] = spec["argv"][0]
    made = requests.post(
        f"{base}/api/sessions", headers=auth, timeout=60,
        json={"path": chapter, "type": "notebook", "name": chapter, "kernel": {"name": KERNEL_NAME}},
    )
    made.raise_for_status()
    kernel_id = made.json()["kernel"]["id"]
    channel = KernelChannel(base, token, kernel_id)
    try:
        for index, code in enumerate(code_cells(chapter)):
            if index == 0 and on_idle:
                # The kernel has started: it answers kernel_info (evcxr starts behind it).
                on_idle(reader)
            outcome = channel.execute(code)
            if index == 0:
                reader.timings["first_cell"] = time.monotonic() - started
                if on_first_cell:
                    on_first_cell(reader)
            reply = outcome["reply"]
            if reply["status"] != "ok" or outcome["errors"]:
                shown = outcome["errors"] or [reply]
                failures.append(f"{reader.name}: cell {index + 1} of {chapter}: {json.dumps(shown)[:1500]}")
                break
        reader.timings["chapter"] = time.monotonic() - started
    finally:
        channel.close()
    return failures
