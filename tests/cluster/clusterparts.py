"""Real processes for the cluster test, each on a loopback port and each stopped
by its pid: a PostgreSQL cluster of its own (restartable), a redis-server
(stopped and started again, empty, on the same port), moto's S3 server,
an SMTP sink that can be stopped and started on the same port and hold a
delivery mid-DATA, gunicorn web nodes and ``kefu worker`` processes.

Importable by the tests and by ``smoke.py``; no pytest in here.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

BIN = Path(sys.executable).parent
KEFU = str(BIN / "kefu")
GUNICORN = str(BIN / "gunicorn")
MOTO_SERVER = str(BIN / "moto_server")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, every: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something true and return that;
    raise ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _answers(port: int, probe: bytes | None = None, expect: bytes = b"") -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            if probe is None:
                return True
            s.sendall(probe)
            return s.recv(64).startswith(expect)
    except OSError:
        return False


def _stop_pid(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 20) -> None:
    """Stop one child by its pid: ``sig``, then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


class Redis:
    """``redis-server`` on a fixed loopback port without persistence, so a
    ``stop`` then ``start`` comes back empty, as a failed-over Redis would."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.proc = workdir, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        """Start (again) on the same port; returns once it answers PING."""
        binary = shutil.which("redis-server") or "/usr/sbin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _answers(self.port, b"PING\r\n", b"+PONG"), what="redis-server to answer")
        return self

    def stop(self) -> None:
        """SIGTERM by its pid; nothing is saved."""
        _stop_pid(self.proc)
        self.proc = None


class S3Server:
    """moto's S3-compatible server (``moto_server``) on loopback, with one bucket."""

    ACCESS_KEY, SECRET_KEY, REGION = "testing", "testing", "us-east-1"

    def __init__(self, workdir: Path, bucket: str = "kefu-attachments"):
        self.workdir, self.bucket, self.port, self.proc = workdir, bucket, free_port(), None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "S3Server":
        """Start moto_server and create the bucket."""
        log = open(self.workdir / "moto.log", "wb")
        self.proc = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: _answers(self.port), what="moto_server to listen")
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, region_name=self.REGION,
                              aws_access_key_id=self.ACCESS_KEY, aws_secret_access_key=self.SECRET_KEY)
        client.create_bucket(Bucket=self.bucket)
        client.close()
        return self

    def stop(self) -> None:
        """SIGTERM by its pid."""
        _stop_pid(self.proc)
        self.proc = None


class SinkHandler:
    """Records every message delivered. ``hold_next()`` makes the next DATA wait
    until ``release`` and then answer 451, as if the sender died before the
    server took the message; ``held_peer`` is the sender's (host, port) and
    ``held_id`` the held message's Message-ID."""

    def __init__(self):
        self.messages: list = []
        self.lock = threading.Lock()
        self._hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held_peer = self.held_id = None

    def hold_next(self) -> None:
        """Hold the next delivery (see the class docstring)."""
        self.holding.clear()
        self.release.clear()
        self.held_peer = None
        self.held_id = None
        self._hold = True

    async def handle_DATA(self, server, session, envelope):
        if self._hold:
            self._hold = False
            self.held_peer = session.peer
            self.held_id = message_from_bytes(envelope.content, policy=policy.default)["Message-ID"]
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 sender went away before the message was accepted"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def snapshot(self) -> list:
        """The messages received so far (a copy)."""
        with self.lock:
            return list(self.messages)


class SmtpSink:
    """An aiosmtpd server on a fixed loopback port that can be stopped and
    started again on that port; the messages survive in ``handler``."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host, self.port = host, port or free_port()
        self.handler = SinkHandler()
        self.controller = None

    def start(self) -> "SmtpSink":
        """Listen (again) on the same host and port."""
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname=self.host, port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (a held delivery is released first); messages are kept."""
        self.handler.release.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list:
        """Messages received for ``address``."""
        return [m for m in self.handler.snapshot() if address.lower() in (m["To"] or "").lower()]


def kefu_env(settings: dict, instance: Path) -> dict:
    """The environment of a kefu process: this one's without ``KEFU_*``, plus
    ``settings`` as ``KEFU_<NAME>`` (JSON unless a plain string) and its own
    instance folder, as on a machine of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    for key, value in settings.items():
        env[f"KEFU_{key}"] = value if isinstance(value, str) else json.dumps(value)
    env["KEFU_INSTANCE_PATH"] = str(instance)
    instance.mkdir(parents=True, exist_ok=True)
    return env


def kefu(args: list[str], env: dict, timeout: float = 180) -> str:
    """Run one ``kefu`` command; its output, or ``RuntimeError`` with it."""
    result = subprocess.run([KEFU, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"kefu {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


class WebNode:
    """gunicorn serving kefu on one loopback port, as a node of its own
    (its own instance folder), with the command the deployment guide gives."""

    def __init__(self, name: str, env: dict, logdir: Path, workers: int = 2, threads: int = 4):
        self.name, self.env, self.logdir = name, env, logdir
        self.port, self.workers, self.threads, self.proc = free_port(), workers, threads, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "WebNode":
        """Start gunicorn; returns once it answers HTTP (``RuntimeError`` if it exits)."""
        log = open(self.logdir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(
            [GUNICORN, "--workers", str(self.workers), "--worker-class", "gthread", "--threads", str(self.threads),
             "--bind", f"127.0.0.1:{self.port}", "--no-control-socket", "--graceful-timeout", "10",
             "--access-logfile", "-", "service:create_app()"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: self.proc.poll() is not None or _answers(self.port, b"GET /healthz HTTP/1.0\r\n\r\n",
                                                                    b"HTTP/"),
                   timeout=90, what=f"gunicorn {self.name} to serve")
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn {self.name} exited: {self.log_tail()}")
        return self

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` of its log."""
        path = self.logdir / f"{self.name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to the master by its pid (graceful), SIGKILL if it lingers."""
        _stop_pid(self.proc)


class Worker:
    """One ``kefu worker`` process (with the scheduler and work horses it forks)."""

    def __init__(self, name: str, env: dict, logdir: Path, args: tuple = ()):
        self.name, self.env, self.logdir, self.args = name, env, logdir, args
        self.proc = None
        self.generation = 0

    @property
    def log_path(self) -> Path:
        return self.logdir / f"{self.name}.{self.generation}.log"

    def start(self) -> "Worker":
        """Start (again; each start logs to a file of its own)."""
        self.generation += 1
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([KEFU, "worker", *self.args], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        return self

    def alive(self) -> bool:
        """Whether the worker process runs."""
        return self.proc is not None and self.proc.poll() is None

    def family(self) -> list[int]:
        """The worker's pid and its descendants' (scheduler, work horse: RQ
        puts a horse in a process group of its own, so a group kill misses it)."""
        if not self.alive():
            return []
        return [self.proc.pid, *descendants(self.proc.pid)]

    def owns(self, pid: int) -> bool:
        """Whether ``pid`` is this worker or one of its descendants."""
        return pid in self.family()

    def kill_hard(self) -> None:
        """SIGKILL the worker, its scheduler and its work horse at once, as a
        machine that dies would."""
        for pid in self.family():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self) -> None:
        """SIGTERM (warm shutdown), SIGKILL if it lingers; then whatever it left."""
        family = self.family()
        if self.alive():
            _stop_pid(self.proc, timeout=30)
        for pid in family[1:]:  # a horse or scheduler left behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def logs(self) -> str:
        """Every log this worker wrote, oldest start first."""
        return "\n".join(p.read_text(errors="replace")
                         for p in sorted(self.logdir.glob(f"{self.name}.*.log")))


def pid_of_peer(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the TCP socket whose local port is ``port`` (the
    sender of a held SMTP delivery), from /proc: the socket's inode in
    /proc/net/tcp, then the process with a descriptor on it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # gone meanwhile
            continue
        for fd in descriptors:
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, from /proc (parents before children)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
