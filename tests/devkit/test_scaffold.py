"""``kefu plugin new``: what it writes, and the names it refuses (writing nothing)."""
from __future__ import annotations

import py_compile

import pytest
from click.testing import CliRunner

from service.cli import main as kefu_cli


def new(tmp_path, *args):
    return CliRunner().invoke(kefu_cli, ["plugin", "new", *args, "--dir", str(tmp_path)])


def everything(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name", ["9lives", "Acme", "acme-guard", "acme guard", "class", "a", "x" * 31, "acme__x",
                                  "acme_", "_acme", "café", ""])
def test_a_name_that_is_not_a_lowercase_identifier_is_refused(tmp_path, name):
    result = new(tmp_path, name)
    assert result.exit_code == 1
    assert f"Error: {name!r} is not a plugin name: use a lowercase Python identifier" in result.output
    assert everything(tmp_path) == []


@pytest.mark.parametrize("name", ["tier_sla", "webhooks", "core"])
def test_a_name_taken_by_an_installed_plugin_is_refused(tmp_path, name):
    result = new(tmp_path, name)
    assert result.exit_code == 1 and f"the plugin name {name!r} is taken by an installed plugin" in result.output
    assert everything(tmp_path) == []


def test_a_name_whose_package_is_already_importable_is_refused(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "kefu_lookalike.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    work = tmp_path / "work"
    work.mkdir()
    result = new(work, "lookalike")
    assert result.exit_code == 1 and "a module named kefu_lookalike is already installed" in result.output
    assert everything(work) == []


def test_an_existing_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "acme_guard").mkdir()
    (tmp_path / "acme_guard" / "notes.txt").write_text("mine")
    result = new(tmp_path, "acme_guard")
    assert result.exit_code == 1 and "acme_guard already exists" in result.output
    assert everything(tmp_path) == ["acme_guard", "acme_guard/notes.txt"]


def test_a_missing_target_folder_is_refused(tmp_path):
    result = new(tmp_path / "nowhere", "acme_guard")
    assert result.exit_code == 1 and "is not a folder" in result.output
    assert everything(tmp_path) == []


@pytest.mark.parametrize("table", [False, True])
def test_the_package_it_writes(tmp_path, table):
    result = new(tmp_path, "acme_guard", *(["--with-table"] if table else []))
    assert result.exit_code == 0, result.output
    files = everything(tmp_path / "acme_guard")
    expected = {"README.md", "pyproject.toml", "kefu_acme_guard/__init__.py", "kefu_acme_guard/rules.py",
                "kefu_acme_guard/settings.py", "tests/test_acme_guard.py"}
    with_table = {"kefu_acme_guard/models.py", "kefu_acme_guard/migrations/acme_guard_0001_tables.py"}
    assert {f for f in files if "." in f.rsplit("/", 1)[-1]} == expected | (with_table if table else set())
    for path in (tmp_path / "acme_guard").rglob("*.py"):
        py_compile.compile(str(path), doraise=True)
    pyproject = (tmp_path / "acme_guard" / "pyproject.toml").read_text()
    assert '[project.entry-points.kefu]\nacme_guard = "kefu_acme_guard"' in pyproject
    assert 'name = "kefu-acme-guard"' in pyproject
    assert ("migrations/*.py" in pyproject) is table
    module = (tmp_path / "acme_guard" / "kefu_acme_guard" / "rules.py").read_text()
    # Written against the SDK alone.
    assert "from service import sdk" in module and "service." not in module.replace("from service import sdk", "")
    assert f"plugin acme_guard created in {tmp_path / 'acme_guard'}" in result.output
