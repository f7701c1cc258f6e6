"""A wheel built from the repository works where the repository is not.

The wheel is built (not installed editable) and installed into a fresh
virtual environment outside the checkout; from a directory that is not the
checkout, ``kefu db upgrade``, ``kefu demo`` and ``kefu plugins --check`` run
and gunicorn (the ``server`` extra) serves it. So the core's defaults, its
migrations, the builtin plugins' migrations, the scorecard and the templates
all travel inside the package.

The new environment borrows kefu's dependencies from the test environment
(a path entry to its site-packages, whose .pth files - the editable install
of kefu among them - are not processed there), so the test costs no
download: what it checks is the wheel.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.sqlite_only  # packaging, not databases: once a run


def _run(args, cwd, env, timeout=300):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    # Build from a copy: the build writes build/ and *.egg-info next to the sources.
    subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True)
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if not (ROOT / name).is_file():
            continue
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", str(dist), str(source)], cwd=base, env=os.environ.copy())
    [wheel] = list(dist.glob("kefu-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=base, env=os.environ.copy())
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "kefu_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
          "--no-deps", "--no-index", str(wheel)], cwd=base, env=os.environ.copy())
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_") and k != "PYTHONPATH"}
    env.update(KEFU_INSTANCE_PATH=str(base / "instance"), KEFU_SECRET_KEY="wheel-test-secret-key")
    return {"wheel": wheel, "venv": venv, "cwd": elsewhere, "env": env}


def test_the_wheel_carries_defaults_migrations_and_data(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for needed in ("service/default_settings.py", "service/migrations/env.py", "service/migrations/alembic.ini",
                   "service/migrations/versions/0001_initial_schema.py", "plugins/credit_check/scorecard.json",
                   "plugins/tier_sla/migrations/tier_sla_0001_tables.py",
                   "service/translations/zh/LC_MESSAGES/messages.mo", "service/templates/web/base.html"):
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
    assert "demo data loaded" in run("demo")
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
