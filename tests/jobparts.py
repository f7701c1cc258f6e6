"""Real parts for the job tests (used by conftest.py and the tests): a throwaway redis-server and an SMTP server
(aiosmtpd) on loopback, both stopped in ``finally``; and ``kefu worker``
processes started against them."""
from __future__ import annotations

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


ROOT = Path(__file__).resolve().parents[2]
KEFU = str(Path(sys.executable).parent / "kefu")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=20.0, every=0.05, what="condition"):
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """``redis-server`` on a free loopback port, in a temp dir, no persistence."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.proc = workdir, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, what="redis-server to answer")
        return self

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None


class SinkHandler:
    """Records every message; ``hold_first`` makes the first DATA wait until released
    and then fail, as if the sender died before the server accepted it."""

    def __init__(self):
        self.messages = []
        self.peers = []  # the client address of each message's connection
        self.hold_first = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self._held = False

    async def handle_DATA(self, server, session, envelope):
        if self.hold_first and not self._held:
            self._held = True
            self.holding.set()
            import asyncio

            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 sender went away before the message was accepted"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.peers.append(session.peer)
        return "250 OK"


def smtp_settings(sink) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_TIMEOUT": 10}


class Workers:
    """``kefu worker`` processes for one app's settings, stopped at the end."""

    def __init__(self, config: dict, tmp_path: Path):
        self.config, self.tmp_path, self.procs = config, tmp_path, []

    def env(self) -> dict:
        import json

        env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        for key, value in self.config.items():
            if key in ("TESTING",):
                continue
            env[f"KEFU_{key}"] = value if isinstance(value, str) else json.dumps(value)
        env["KEFU_INSTANCE_PATH"] = self.config["INSTANCE_PATH"]
        return env

    def start(self, *args) -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{len(self.procs)}.log", "wb")
        # Its own process group: ``kill`` takes down the worker with its
        # scheduler, as a machine that dies would.
        proc = subprocess.Popen([KEFU, "worker", *args], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def run_burst(self, *args, timeout=60) -> str:
        result = subprocess.run([KEFU, "worker", "--burst", *args], env=self.env(), capture_output=True,
                                text=True, timeout=timeout, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL worker ``proc`` and every process of its group (its scheduler)."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


