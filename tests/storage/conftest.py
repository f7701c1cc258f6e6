"""Fixtures for attachment storage: a real S3-compatible server (``s3server``)
and the backend each test runs with.

``backend`` is ``"local"`` unless a test parametrizes it
(``@pytest.mark.parametrize("backend", ["local", "s3"])``); with ``"s3"``
the app's settings point at a fresh bucket of the test's own moto server.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from s3server import running_s3


@pytest.fixture
def s3(tmp_path):
    """A moto server of this test's own, with an empty bucket (``S3Server``)."""
    with running_s3(tmp_path) as server:
        yield server


@pytest.fixture
def backend():
    """The storage backend the test's app uses: parametrize to change it."""
    return "local"


@pytest.fixture
def overrides(request, backend):
    return request.getfixturevalue("s3").settings if backend == "s3" else {}


@pytest.fixture
def stored_keys(request, backend, app_config):
    """``stored_keys()``: the keys of every stored object, whichever the backend."""
    def keys() -> list[str]:
        if backend == "s3":
            server = request.getfixturevalue("s3")
            prefix = server.settings.get("ATTACHMENT_S3_PREFIX", "attachments/")
            return [k[len(prefix):] for k in server.object_keys()]
        root = Path(app_config["ATTACHMENT_DIR"])
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []

    return keys


@pytest.fixture
def node_b(app, app_config, build_app, tmp_path):
    """A second kefu node: its own instance folder and ATTACHMENT_DIR, the
    same database and settings (so the same S3 bucket when there is one).
    Its app context is pushed over node A's (``app``) for the test."""
    config = {**app_config, "INSTANCE_PATH": str(tmp_path / "node-b"),
              "ATTACHMENT_DIR": str(tmp_path / "node-b-attachments")}
    os.makedirs(config["ATTACHMENT_DIR"], exist_ok=True)
    with build_app(config) as second:
        yield second
