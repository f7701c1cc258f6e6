"""Meta-tests on the hook contract: every hook is specified, documented and tested.

Adding a hook to service/hookspecs.py without a ``### name`` section in
docs/plugins.md, or without ``test_hook_<name>`` in tests/hooks/test_hooks.py,
fails here.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pluggy
import pytest

from service.hooks import specs as hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
HOOK_TESTS = ROOT / "tests" / "hooks" / "test_hooks.py"


def _hook_names() -> list[str]:
    pm = pluggy.PluginManager("kefu")
    pm.add_hookspecs(hookspecs)
    return sorted(name for name, caller in vars(pm.hook).items() if getattr(caller, "spec", None) is not None)


HOOKS = _hook_names()


def _doc_sections() -> dict[str, str]:
    """``### name`` heading -> the text up to the next heading of level 3 or above."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^(#{1,3} .*)$", text, flags=re.M)
    sections = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        match = re.fullmatch(r"### `?(\w+)`?\s*", heading)
        if match:
            sections[match.group(1)] = body
    return sections


def _hook_test_names() -> set[str]:
    tree = ast.parse(HOOK_TESTS.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_hooks_are_found():
    # The spec module and pluggy agree on what the hooks are.
    marked = sorted(name for name, obj in vars(hookspecs).items()
                    if inspect.isfunction(obj) and hasattr(obj, "kefu_spec"))
    assert HOOKS == marked
    assert {"ticket_created", "sla_targets", "register_blueprints"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    sections = _doc_sections()
    assert hook in sections, f"docs/plugins.md has no '### {hook}' section"
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"{hook}({params})" in sections[hook], f"the '### {hook}' section does not show {hook}({params})"
    assert "@hookimpl" in sections[hook], f"the '### {hook}' section has no example implementation"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in _hook_test_names(), f"tests/hooks/test_hooks.py has no test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_states_its_contract(hook):
    spec = getattr(hookspecs, hook)
    doc = inspect.getdoc(spec) or ""
    assert ":return:" in doc, f"{hook}'s docstring does not state what it returns (':return:')"
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in doc, f"{hook}'s docstring does not describe {param!r}"


def test_no_docs_or_tests_for_hooks_that_do_not_exist():
    hooks = set(HOOKS)
    stale_docs = {name for name in _doc_sections() if name not in hooks}
    assert not stale_docs, f"docs/plugins.md documents hooks that do not exist: {sorted(stale_docs)}"
    stale_tests = {name[len("test_hook_"):] for name in _hook_test_names()
                   if name.startswith("test_hook_")} - hooks
    assert not stale_tests, f"tests/hooks/test_hooks.py tests hooks that do not exist: {sorted(stale_tests)}"
