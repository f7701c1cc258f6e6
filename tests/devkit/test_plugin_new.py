"""The plugin developer kit as an integrator meets it, against kefu installed
from its wheel (tests/wheelenv.py), in a folder outside the repository:
``kefu plugin new acme_guard``, ``pip install -e acme_guard``, ``pytest
acme_guard`` and ``kefu plugins --check``, with nothing else set up.
"""
from __future__ import annotations

import re

import pytest
from wheelenv import ROOT, Venv, run

pytestmark = pytest.mark.sqlite_only  # packaging, not databases: once a run


@pytest.fixture
def venv(tmp_path, kefu_wheel):
    """An environment of the test's own: a generated plugin's tests assume
    it is the only plugin besides the builtin ones."""
    return Venv(tmp_path / "venv", kefu_wheel)


def _passed(output: str) -> int:
    found = re.search(r"(\d+) passed", output)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("options", [[], ["--with-table"]], ids=["plain", "with-table"])
def test_a_generated_plugin_installs_passes_its_tests_and_checks_clean(venv, tmp_path, options):
    outside = tmp_path / "work"
    outside.mkdir()
    assert ROOT not in outside.parents
    name = "acme_guard" if not options else "acme_ledger"
    env = {**venv.env, "KEFU_INSTANCE_PATH": str(tmp_path / "instance"), "KEFU_SECRET_KEY": "plugin-kit-test-key"}

    created = run([venv.bin / "kefu", "plugin", "new", name, *options], cwd=outside, env=env)
    assert f"plugin {name} created" in created
    venv.pip_install("-e", name, cwd=outside)

    tested = run([venv.python, "-m", "pytest", name, "-q", "-p", "no:cacheprovider"], cwd=outside, env=env)
    assert _passed(tested) == 5, tested
    assert "failed" not in tested and "error" not in tested.lower()

    run([venv.bin / "kefu", "db", "upgrade"], cwd=outside, env=env)
    checked = run([venv.bin / "kefu", "plugins", "--check"], cwd=outside, env=env)
    row = next(line for line in checked.splitlines() if line.startswith(f"{name}\t"))
    assert row.startswith(f"{name}\tenabled\tkefu-{name.replace('_', '-')} 0.1.0"), checked
    assert f"setting {name.upper()}_MIN_RESOLUTION = 20 (default)" in checked
    if options:
        assert "migrations: up to date" in checked.split(row, 1)[1].split("\n\n")[0]
    assert "check: no problems" in checked
