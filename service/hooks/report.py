"""What ``kefu plugins`` (and ``--check``) prints: every plugin, its state,
its hooks, what failed at start, and with ``--check`` a check of each
plugin's hooks, settings and migrations, ending in a table.

The checks (each problem counts, and ``--check`` exits 1 on any):

* **hooks**: what failed at start (an unknown or misspelt hook, an argument
  the spec does not give, a hookwrapper); and a function named like a
  hook but not marked ``@hookimpl``, which kefu would never call;
* **settings**: a key set with the plugin's prefix that the plugin does not
  declare (a typo: the default silently applies); start-up already refuses
  a value its schema rejects;
* **migrations**: the plugin's revisions not applied yet, and revisions
  applied to the database that no installed plugin ships (a plugin removed
  without ``kefu db downgrade <name>@base``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from service.hooks import plugin_settings
from service.hooks.startup import MIGRATIONS


@dataclass
class Checked:
    """One plugin's line of the ``--check`` table, and what it found."""

    name: str
    state: str
    hooks: str = "-"
    settings: str = "-"
    migrations: str = "-"
    problems: list[str] = field(default_factory=list)


def _revisions(app) -> tuple[dict[str, list[str]], list[str], str | None]:
    """Pending revisions per plugin (and ``core``), revisions applied that no
    script knows, or an error text when the database cannot be read."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from service import migrations
    from service.extensions import db

    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    try:
        with db.engine.connect() as conn:
            applied = MigrationContext.configure(conn).get_current_heads()
        known = {rev.revision for rev in script.walk_revisions()}
        unknown = [rev for rev in applied if rev not in known]
        pending = set(migrations.pending()) if not unknown else set()
    except Exception as exc:  # no database yet, or unreachable: say so, do not crash the listing
        return {}, [], f"{type(exc).__name__}: {exc}"
    dirs = {name: os.path.realpath(path) for name, path in app.extensions.get(MIGRATIONS, {}).items()}
    out: dict[str, list[str]] = {}
    for rev in script.walk_revisions():
        if rev.revision not in pending:
            continue
        where = os.path.realpath(os.path.dirname(rev.path))
        owner = next((name for name, path in dirs.items() if where == path), "core")
        out.setdefault(owner, []).append(rev.revision)
    return out, unknown, None


def _unmarked_hooks(manager, name: str) -> list[str]:
    """Functions of plugin ``name`` named like a hook kefu knows but not
    marked ``@hookimpl``: pluggy ignores them, so they never run."""
    plugin = manager.pm.get_plugin(name)
    if plugin is None:
        return []
    marked = {caller.name for caller in manager.pm.get_hookcallers(plugin) or []}
    found = []
    for hook in sorted(n for n in dir(manager.pm.hook) if not n.startswith("_")):
        candidate = getattr(plugin, hook, None)
        if hook not in marked and callable(candidate):
            found.append(f"{hook} is not marked @hookimpl: kefu never calls it (add the marker)")
    return found


def _core_keys() -> set[str]:
    """The core's own setting names (service/default_settings.py), read once per report."""
    from flask import Config

    from service.settings import DEFAULTS_FILE

    core = Config(str(DEFAULTS_FILE.parent))
    core.from_pyfile(str(DEFAULTS_FILE))
    return set(core)


def _undeclared_settings(app, name: str, core: set[str]) -> list[str]:
    """Keys set in the settings under plugin ``name``'s prefix (its name in
    capitals, or the first word its declared keys share) that it does not
    declare: most likely a misspelt key whose default silently applies.
    ``core``: the core's own keys, which never count."""
    declared = app.extensions.get(plugin_settings.SETTINGS, {}).get(name)
    if declared is None:
        return []
    prefixes = {name.upper() + "_"}
    firsts = {key.split("_", 1)[0] + "_" for key in declared.keys if "_" in key}
    if len(firsts) == 1:
        prefixes |= firsts
    return [f"setting {key} is set but {name} declares no such setting (declared: {', '.join(declared.keys)})"
            for key in sorted(app.config)
            if key.startswith(tuple(prefixes)) and key not in declared.keys and key not in core]


def _check_plugin(app, manager, info, pending: dict, db_error: str | None,
                  core: set[str]) -> tuple[Checked, list[str]]:
    """The checks of one plugin: its table row and its detail lines."""
    lines: list[str] = []
    state = "failed" if info.failures else ("enabled" if info.enabled else "disabled")
    row = Checked(info.name, state)
    if not info.enabled:
        return row, lines
    row.problems += [f"{f.stage}: {f.error}" for f in info.failures]
    unmarked = _unmarked_hooks(manager, info.name)
    for problem in unmarked:
        lines.append(f"    PROBLEM hooks: {problem}")
    row.problems += unmarked
    row.hooks = "failed" if info.failures else (f"{len(unmarked)} problem(s)" if unmarked else f"ok ({len(info.hooks)})")
    if info.failures:
        return row, lines
    described = plugin_settings.described(app, info.name)
    for setting in described:
        origin = "set" if setting["set"] else "default"
        lines.append(f"    setting {setting['key']} = {setting['value']!r} ({origin})")
    undeclared = _undeclared_settings(app, info.name, core)
    for problem in undeclared:
        lines.append(f"    PROBLEM settings: {problem}")
    row.problems += undeclared
    if described or undeclared:
        row.settings = f"{len(undeclared)} problem(s)" if undeclared else f"ok ({len(described)})"
    if info.name in app.extensions.get(MIGRATIONS, {}) or info.name == "core":
        waiting = pending.get(info.name, [])
        if waiting:
            row.problems.append(f"{len(waiting)} migration(s) pending")
            row.migrations = f"{len(waiting)} pending"
            if info.name == "core":
                return row, lines  # said once, below the listing
            lines.append(f"    migrations: {len(waiting)} pending ({', '.join(waiting)}): run kefu db upgrade")
        elif db_error is None:
            row.migrations = "up to date"
            if info.name != "core":
                lines.append("    migrations: up to date")
        else:
            row.migrations = "unknown"
    return row, lines


def _table(rows: list[Checked]) -> list[str]:
    header = Checked("plugin", "state", "hooks", "settings", "migrations")
    cells = [[r.name, r.state, r.hooks, r.settings, r.migrations,
              "result" if r is header else ("ok" if not r.problems else f"{len(r.problems)} problem(s)")]
             for r in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]


def report(app, check: bool = False) -> tuple[list[str], int]:
    """``(lines, problems)`` for ``kefu plugins``; problems counts what makes
    ``--check`` exit 1 (a start-up failure always counts)."""
    manager = app.extensions["kefu_plugins"]
    lines, problems, rows = [], 0, []
    pending, unknown, db_error = _revisions(app) if check else ({}, [], None)
    core = _core_keys() if check else set()
    for info in manager.infos:
        state = "failed" if info.failures else ("enabled" if info.enabled else "disabled")
        lines.append(f"{info.name}\t{state}\t{info.source}\t{info.module or ''}")
        lines.append(f"    hooks: {', '.join(info.hooks) or '-'}")
        for failure in info.failures:
            lines.append(f"    FAILED {failure.stage}: {failure.error}")
            if failure.traceback:
                lines += ["      " + line for line in failure.traceback.rstrip().splitlines()]
        if not check:
            problems += len(info.failures)
            continue
        row, detail = _check_plugin(app, manager, info, pending, db_error, core)
        rows.append(row)
        lines += detail
        problems += len(row.problems)
    if check:
        lines.append("")
        if db_error is not None:
            problems += 1
            lines.append(f"database: cannot read the migrations applied ({db_error})")
        elif unknown:
            problems += 1
            lines.append(f"database: revision(s) {', '.join(unknown)} applied but shipped by no installed plugin "
                         "(a plugin removed or disabled without `kefu db downgrade <name>@base`?)")
        elif pending.get("core"):  # counted on the core's row
            lines.append(f"core migrations: {len(pending['core'])} pending: run kefu db upgrade")
        lines += _table(rows)
        lines.append("check: " + ("no problems" if not problems else f"{problems} problem(s)"))
    return lines, problems
