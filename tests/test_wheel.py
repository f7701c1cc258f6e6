"""A wheel built from the repository works where the repository is not.

The wheel is built (not installed editable) and installed into a fresh
virtual environment outside the checkout; from a directory that is not the
checkout, ``kefu db upgrade``, ``kefu demo`` and ``kefu plugins --check`` run
and gunicorn (the ``server`` extra) serves it. So the core's defaults, its
migrations, the builtin plugins' migrations, the scorecard and the templates
all travel inside the package.

The environment is ``tests/wheelenv.Venv``: it borrows kefu's dependencies
from the test environment, so the test costs no download.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request
import zipfile

import pytest
from wheelenv import ROOT, Venv, run

pytestmark = pytest.mark.sqlite_only  # packaging, not databases: once a run


_run = run


@pytest.fixture(scope="module")
def installed(tmp_path_factory, kefu_wheel):
    base = tmp_path_factory.mktemp("wheel")
    venv = Venv(base / "venv", kefu_wheel)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {**venv.env, "KEFU_INSTANCE_PATH": str(base / "instance"), "KEFU_SECRET_KEY": "wheel-test-secret-key"}
    return {"wheel": kefu_wheel, "venv": venv.path, "cwd": elsewhere, "env": env}


def test_the_wheel_carries_defaults_migrations_and_data(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for needed in ("service/default_settings.py", "service/migrations/env.py", "service/migrations/alembic.ini",
                   "service/migrations/versions/0001_initial_schema.py", "plugins/credit_check/scorecard.json",
                   "plugins/tier_sla/migrations/tier_sla_0001_tables.py",
                   "service/translations/zh/LC_MESSAGES/messages.mo", "service/templates/web/base.html",
                   # The console's scripts are served from the package, never a CDN.
                   "service/static/kefu.css", "service/static/js/console.js", "service/static/vendor/htmx.min.js",
                   "service/static/vendor/htmx.LICENSE.txt"):
        assert needed in names, f"the wheel lacks {needed}"
    metadata = zipfile.ZipFile(installed["wheel"]).read("kefu-0.1.0.dist-info/METADATA").decode()
    assert "Provides-Extra: server" in metadata and 'Requires-Dist: gunicorn>=22; extra == "server"' in metadata


def test_the_installed_wheel_upgrades_loads_the_demo_and_serves(installed):
    bin_ = installed["venv"] / "bin"
    run = lambda *args: _run([str(bin_ / "kefu"), *args], cwd=installed["cwd"], env=installed["env"])  # noqa: E731
    where = _run([str(bin_ / "python"), "-c", "import service, plugins; print(service.__file__, plugins.__file__)"],
                 cwd=installed["cwd"], env=installed["env"])
    assert str(ROOT) not in where and str(installed["venv"]) in where  # the wheel's copy, not the checkout
    run("db", "upgrade")
    assert "demo data loaded" in run("demo", "--small")
    checked = run("plugins", "--check")
    assert "check: no problems" in checked and "tier_sla\tenabled" in checked

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(bin_ / "python"), "-m", "gunicorn", "--no-control-socket", "-w", "1",
                               "-b", f"127.0.0.1:{port}", "service:create_app()"],
                              cwd=installed["cwd"], env=installed["env"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        body = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as answer:
                    body = answer.read()
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, server.stdout.read().decode() if server.poll() is not None else "no answer"
        assert b'"/api/v1/tickets"' in body and b"/api/v1/sla/policy" in body  # core and plugin routes
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200 and "kefu" in page.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
