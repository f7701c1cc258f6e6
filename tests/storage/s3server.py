"""A real S3-compatible server for tests: moto's server mode (``moto_server``,
from the ``moto[server]`` test extra) as a subprocess on a loopback port.

Importable by tests (a ``conftest`` module is not: several folders have one).
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
# Generous: a loaded CI machine may take a while to import moto; the loop
# returns as soon as the server answers.
START_DEADLINE = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class S3Server:
    """A running ``moto_server`` and one bucket on it."""

    process: subprocess.Popen
    endpoint: str
    bucket: str
    log: Path
    settings: dict = field(default_factory=dict)

    def client(self):
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                              aws_access_key_id="testing", aws_secret_access_key="testing")

    def object_keys(self) -> list[str]:
        """Every object key in the bucket, sorted."""
        listed = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def stop(self) -> None:
        """Stop the server (by its pid) and wait until it is gone."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(log: Path) -> tuple[subprocess.Popen, str]:
    """Start moto_server on a free loopback port; retry on another port if
    the one picked was taken meanwhile (the server exits then)."""
    assert MOTO_SERVER.exists(), f"{MOTO_SERVER} missing: pip install 'moto[server]>=5' (the test extra)"
    for _attempt in range(3):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with open(log, "ab") as out:
            process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                                       stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_DEADLINE
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(endpoint + "/moto-api/"):
                return process, endpoint
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
            break
    raise RuntimeError(f"moto_server did not start; its output:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def running_s3(tmp_path: Path):
    """A moto server with one empty bucket, stopped afterwards (by its pid)."""
    log = tmp_path / "moto.log"
    process, endpoint = _start(log)
    server = S3Server(process, endpoint, f"kefu-{uuid.uuid4().hex[:12]}", log)
    try:
        server.client().create_bucket(Bucket=server.bucket)
        server.settings = {
            "ATTACHMENT_STORAGE": "s3", "ATTACHMENT_S3_BUCKET": server.bucket, "ATTACHMENT_S3_ENDPOINT_URL": endpoint,
            "ATTACHMENT_S3_REGION": "us-east-1", "ATTACHMENT_S3_ACCESS_KEY_ID": "testing",
            "ATTACHMENT_S3_SECRET_ACCESS_KEY": "testing"}
        yield server
    finally:
        server.stop()


