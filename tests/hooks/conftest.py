"""Fixtures for plugin tests: plugins found through a real entry point."""
from __future__ import annotations

import sys
import textwrap

import pytest


@pytest.fixture
def entry_point_plugin(tmp_path, monkeypatch):
    """``entry_point_plugin(module, source, entry_point=module)`` writes a plugin
    module and a ``*.dist-info`` declaring it in the ``kefu`` entry-point group
    onto ``sys.path``, so the next app built finds it as an installed plugin."""
    site = tmp_path / "site"
    site.mkdir()
    modules = []

    def install(module, source, entry_point=None):
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{module}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[kefu]\n{entry_point or module} = {module}\n")
        modules.append(module)

    monkeypatch.syspath_prepend(str(site))
    try:
        yield install
    finally:
        for module in modules:
            sys.modules.pop(module, None)
