"""Meta-tests on the architecture: what imports what, and who commits.

* The builtin plugins are written as an outside integrator writes one: they
  import ``service`` (for ``hookimpl`` and ``sdk``), ``service.sdk`` and their
  own modules - never another kefu module, never another plugin.
* The unit of work (``service/usecases/uow.py``) and the job machinery
  (``service/jobs/``) are the only code that commits.
* ``service/domain`` is pure Python: no Flask, no database.
* ``service.sdk`` exports only what it documents.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
BUILTIN = sorted(p.name for p in PLUGINS.iterdir() if (p / "__init__.py").exists())


def _imports(path: Path):
    """``(line, module imported from, names)`` for every import in ``path``;
    relative imports come back with their dots."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, "." * node.level + (node.module or ""), [a.name for a in node.names]


def _plugin_violations(plugin: str) -> list[str]:
    found = []
    for path in sorted((PLUGINS / plugin).rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic revisions import alembic and sqlalchemy only
        rel = path.relative_to(ROOT)
        for line, module, names in _imports(path):
            if module.startswith("."):
                continue  # the plugin's own modules
            top = module.split(".")[0]
            if module == "service":
                bad = [n for n in names if n not in ("hookimpl", "sdk")]
                if bad or not names:
                    found.append(f"{rel}:{line} imports {', '.join(bad) or 'service'} from service")
            elif top == "service" and module != "service.sdk":
                found.append(f"{rel}:{line} imports {module} (only service.sdk is public)")
            elif top == "plugins" and module.split(".")[:2] != ["plugins", plugin]:
                found.append(f"{rel}:{line} imports {module} (plugins talk through hooks and events)")
    return found


@pytest.mark.parametrize("plugin", BUILTIN)
def test_builtin_plugins_import_only_service_sdk_and_themselves(plugin):
    assert _plugin_violations(plugin) == []


def test_the_import_contract_catches_what_it_should(tmp_path, monkeypatch):
    fake = tmp_path / "plugins" / "acme"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("from service import hookimpl, sdk\nfrom . import rules\n")
    (fake / "rules.py").write_text("from service.usecases import tickets\nimport plugins.webhooks\n"
                                   "from service import create_app\nfrom service.sdk import UnitOfWork\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PLUGINS", tmp_path / "plugins")
    assert _plugin_violations("acme") == [
        "plugins/acme/rules.py:1 imports service.usecases (only service.sdk is public)",
        "plugins/acme/rules.py:2 imports plugins.webhooks (plugins talk through hooks and events)",
        "plugins/acme/rules.py:3 imports create_app from service",
    ]


# --------------------------------------------------------------------------- commits

ALLOWED_COMMITS = ("service/usecases/uow.py", "service/jobs/")


def _commits(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
            and not node.args and not node.keywords
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in ("uow", "unit"))
            and "savepoint" not in ast.unparse(node.func.value)]  # releasing a savepoint commits nothing


def test_only_the_unit_of_work_and_the_job_runner_commit():
    found = []
    for base in ("service", "plugins"):
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(ALLOWED_COMMITS) or "/migrations/" in rel:
                continue
            found += [f"{rel}:{line}" for line in _commits(path)]
    assert found == [], "commit through a UnitOfWork instead: " + ", ".join(found)


def test_the_commit_check_sees_a_commit(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("def f(db, uow):\n    db.session.commit()\n    uow.commit()\n    conn.commit()\n")
    assert _commits(path) == [2, 4]


# --------------------------------------------------------------------------- layers


def test_the_domain_is_pure_python():
    for path in sorted((ROOT / "service" / "domain").rglob("*.py")):
        for line, module, _names in _imports(path):
            top = module.lstrip(".").split(".")[0]
            assert top not in ("flask", "sqlalchemy", "flask_sqlalchemy"), f"{path.name}:{line} imports {module}"
            assert not module.startswith(("service.extensions", "service.models", "service.usecases")), \
                f"{path.name}:{line} imports {module}"


def test_the_unit_of_work_imports_no_mail_feature():
    imported = [module for _line, module, _names in _imports(ROOT / "service" / "usecases" / "uow.py")]
    assert not [m for m in imported if "mail" in m]


# --------------------------------------------------------------------------- the SDK


def test_the_sdk_exports_only_documented_names():
    from service import sdk

    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    reference = docs[docs.index("## The SDK"):]
    for name in sdk.__all__:
        obj = getattr(sdk, name)
        assert f"`{name}`" in reference, f"sdk.{name} is not in docs/plugins.md's SDK reference"
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"sdk.{name} has no docstring"
    # "@py_builtins" and "@pytest_ar": pytest rewrites the asserts of every
    # module of a distribution that ships a pytest plugin, as kefu does.
    public = {n for n in vars(sdk) if not n.startswith(("_", "@"))} - {"annotations", "datetime", "timedelta",
                                                                        "current_app"}
    assert public - set(sdk.__all__) == set(), "names in service.sdk that __all__ does not list"


def test_no_test_reaches_into_the_plugin_manager_to_register():
    """Tests register plugin objects with the ``kefu_plugins`` fixture (or the
    public ``service.hooks.plugins()``), as a plugin author would."""
    reach_in = re.compile(r"""extensions(\[|\.get\()["']kefu_plugins["']""")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "tests").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if reach_in.search(line)]
    assert found == [], "use the kefu_plugins fixture: " + ", ".join(found)


def test_the_app_never_imports_the_testing_plugin():
    """``service.testing`` is loaded by pytest only: no module of the app or
    of the builtin plugins imports it."""
    found = [f"{path.relative_to(ROOT)}:{line}" for base in ("service", "plugins")
             for path in sorted((ROOT / base).rglob("*.py")) if "testing" not in path.relative_to(ROOT).parts
             for line, module, _names in _imports(path) if module.startswith("service.testing")]
    assert found == []
