"""Meta-tests on the hook contract: every hook is specified, typed, marked with
its kind, documented and tested.

The hooks are the core's (``service/hooks/specs.py``) and those the builtin
plugins declare for themselves (``plugins/<name>/hookspecs.py``, given through
``register_hookspecs``). Adding one without a ``### name`` section in
docs/plugins.md, or without a ``test_hook_<name>`` test in tests/hooks/,
fails here.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import typing
from pathlib import Path

import pluggy
import pytest

from service.hooks import specs, types

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
HOOK_TESTS = ROOT / "tests" / "hooks"
KINDS = ("notification", "guard", "opener", "step", "decider", "collector")


def _spec_modules():
    found = [specs]
    for path in sorted((ROOT / "plugins").glob("*/hookspecs.py")):
        found.append(importlib.import_module(f"plugins.{path.parent.name}.hookspecs"))
    return found


def _hooks() -> dict[str, object]:
    pm = pluggy.PluginManager("kefu")
    out = {}
    for module in _spec_modules():
        pm.add_hookspecs(module)
        out.update({name: obj for name, obj in vars(module).items()
                    if inspect.isfunction(obj) and hasattr(obj, "kefu_spec")})
    assert sorted(out) == sorted(n for n, c in vars(pm.hook).items() if getattr(c, "spec", None) is not None)
    return out


HOOKS = _hooks()


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
    names = set()
    for path in HOOK_TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return names


def test_hooks_are_found():
    assert {"ticket_created", "guard_ticket_change", "opening_ticket", "sla_targets", "register_blueprints",
            "event_published"} <= set(HOOKS)
    # Hooks only a plugin fires live in that plugin, not in the core's specs.
    assert not {"sla_warning", "sla_breached", "survey_answered", "credit_source"} & set(vars(specs))


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_is_documented(hook):
    sections = _doc_sections()
    assert hook in sections, f"docs/plugins.md has no '### {hook}' section"
    params = ", ".join(inspect.signature(HOOKS[hook]).parameters)
    assert f"{hook}({params})" in sections[hook], f"the '### {hook}' section does not show {hook}({params})"
    assert "@hookimpl" in sections[hook], f"the '### {hook}' section has no example implementation"
    kind = HOOKS[hook].kefu_kind
    assert f"**Kind:** {kind}" in sections[hook], f"the ### {hook} section does not say **Kind:** {kind}"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in _hook_test_names(), f"tests/hooks/ has no test_hook_{hook}"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hookspec_states_its_contract(hook):
    spec = HOOKS[hook]
    doc = inspect.getdoc(spec) or ""
    assert ":return:" in doc, f"{hook}'s docstring does not state what it returns (':return:')"
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in doc, f"{hook}'s docstring does not describe {param!r}"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hookspec_is_typed_and_marked_with_its_kind(hook):
    spec = HOOKS[hook]
    assert spec.kefu_kind in KINDS, f"{hook} is not marked with a kind (service.hooks.specs markers)"
    hints = typing.get_type_hints(spec, globalns={**vars(importlib.import_module(spec.__module__)),
                                                  **vars(types)}, localns=_type_names())
    for param in inspect.signature(spec).parameters:
        assert param in hints, f"{hook}'s parameter {param!r} has no type hint"
    assert "return" in hints, f"{hook} has no return type hint"
    firstresult = spec.kefu_spec.get("firstresult", False) if isinstance(spec.kefu_spec, dict) else False
    assert firstresult == (spec.kefu_kind == "decider"), f"{hook}: only deciders stop at the first answer"


def _type_names() -> dict:
    # Names the specs use only under TYPE_CHECKING, for resolving their hints here.
    import click
    from flask import Blueprint, Flask
    from marshmallow import Schema

    from service.domain.actors import Actor
    from service.models import Customer, Message, Staff, Ticket

    return {"click": click, "Blueprint": Blueprint, "Flask": Flask, "Schema": Schema, "Actor": Actor,
            "Customer": Customer, "Message": Message, "Staff": Staff, "Ticket": Ticket}


def test_the_shapes_in_the_docs_are_the_shapes_in_the_code():
    """Each TypedDict answer is shown in docs/plugins.md with exactly its keys."""
    text = DOCS.read_text(encoding="utf-8")
    for name in ("SlaTargets", "RemedyDecision", "Refusal", "Opening", "OpeningChanges", "TicketPanel",
                 "PanelRow", "TrackingPanel", "ChartSpec", "JobDeclaration"):
        shape = getattr(types, name)
        match = re.search(rf"^\| `{name}` \| ([^|]+) \|", text, flags=re.M)
        assert match, f"docs/plugins.md has no row for {name} in its table of shapes"
        documented = set(re.findall(r"`(\w+)`", match.group(1)))
        assert documented == set(shape.__annotations__), f"{name}: documented {documented}, code {set(shape.__annotations__)}"


def test_no_docs_or_tests_for_hooks_that_do_not_exist():
    hooks = set(HOOKS)
    stale_docs = {name for name in _doc_sections() if name not in hooks}
    assert not stale_docs, f"docs/plugins.md documents hooks that do not exist: {sorted(stale_docs)}"
    stale_tests = {name[len("test_hook_"):] for name in _hook_test_names() if name.startswith("test_hook_")} - hooks
    assert not stale_tests, f"tests/hooks/ tests hooks that do not exist: {sorted(stale_tests)}"
