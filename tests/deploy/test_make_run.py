"""`make run` as a user runs it: the demo served on the port they chose, with
the links in its mail pointing there (PUBLIC_URL follows PORT)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from jobparts import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def _mail_about(folder: Path, number: str) -> str | None:
    for path in sorted(folder.glob("*.eml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if f"X-Kefu-Ticket: {number}" in text and "X-Kefu-Notice: received" in text:
            return text
    return None


@pytest.mark.sqlite_only  # make run serves the embedded SQLite default whatever the pass
def test_make_run_mails_links_to_the_port_it_serves_on(tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")} | {"KEFU_INSTANCE_PATH": str(instance)}
    with open(tmp_path / "make-run.log", "wb") as log:
        make = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Install, migrate, the half-year demo (about 40 s alone, more on a busy machine), serve.
        wait_until(lambda: _serving(port) or make.poll() is not None, timeout=300, what="make run serving")
        assert make.poll() is None, (tmp_path / "make-run.log").read_text(errors="replace")
        body = json.dumps({"name": "Wang Fang", "email": "wang.port@example.test", "subject": "Kettle leaks",
                           "description": "Water comes out of the base."}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/public/tickets", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            filed = json.load(answer)
        assert filed["tracking_url"].startswith(f"http://127.0.0.1:{port}/")
        # The receipt is sent by the server's own job runner, after the answer.
        mail = wait_until(lambda: _mail_about(instance / "mail", filed["number"]), timeout=60,
                          what="the receipt in the dev mail log")
        assert f"http://127.0.0.1:{port}/" in mail and "127.0.0.1:5000" not in mail
    finally:
        os.killpg(make.pid, signal.SIGTERM)  # make and the kefu server it started
        make.wait(timeout=60)
