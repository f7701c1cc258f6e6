"""What ``kefu plugins`` (and ``--check``) prints: every plugin, its state,
its hooks, what failed at start, and with ``--check`` its settings and
migrations."""
from __future__ import annotations

import os

from service.hooks import plugin_settings
from service.hooks.startup import MIGRATIONS


def _pending_by_plugin(app) -> tuple[dict[str, list[str]], str | None]:
    """Pending revisions per plugin (and ``core``), or an error text when the
    database cannot be read."""
    from alembic.script import ScriptDirectory

    from service import migrations

    try:
        pending = set(migrations.pending())
    except Exception as exc:  # no database yet, or unreachable: say so, do not crash the listing
        return {}, f"{type(exc).__name__}: {exc}"
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    dirs = {name: os.path.realpath(path) for name, path in app.extensions.get(MIGRATIONS, {}).items()}
    out: dict[str, list[str]] = {}
    for rev in script.walk_revisions():
        if rev.revision not in pending:
            continue
        where = os.path.realpath(os.path.dirname(rev.path))
        owner = next((name for name, path in dirs.items() if where == path), "core")
        out.setdefault(owner, []).append(rev.revision)
    return out, None


def report(app, check: bool = False) -> tuple[list[str], int]:
    """``(lines, problems)`` for ``kefu plugins``; problems counts what makes
    ``--check`` exit 1 (a start-up failure always counts)."""
    manager = app.extensions["kefu_plugins"]
    lines, problems = [], 0
    pending, db_error = _pending_by_plugin(app) if check else ({}, None)
    for info in manager.infos:
        state = "failed" if info.failures else ("enabled" if info.enabled else "disabled")
        lines.append(f"{info.name}\t{state}\t{info.source}\t{info.module or ''}")
        lines.append(f"    hooks: {', '.join(info.hooks) or '-'}")
        for failure in info.failures:
            problems += 1
            lines.append(f"    FAILED {failure.stage}: {failure.error}")
            if failure.traceback:
                lines += ["      " + line for line in failure.traceback.rstrip().splitlines()]
        if not check or not info.enabled or info.failures:
            continue
        for setting in plugin_settings.described(app, info.name):
            origin = "set" if setting["set"] else "default"
            lines.append(f"    setting {setting['key']} = {setting['value']!r} ({origin})")
        if info.name in app.extensions.get(MIGRATIONS, {}):
            waiting = pending.get(info.name, [])
            if waiting:
                problems += 1
                lines.append(f"    migrations: {len(waiting)} pending ({', '.join(waiting)}): run kefu db upgrade")
            elif db_error is None:
                lines.append("    migrations: up to date")
    if check:
        if db_error is not None:
            problems += 1
            lines.append(f"database: cannot read the migrations applied ({db_error})")
        elif pending.get("core"):
            problems += 1
            lines.append(f"core migrations: {len(pending['core'])} pending: run kefu db upgrade")
        lines.append("check: " + ("no problems" if not problems else f"{problems} problem(s)"))
    return lines, problems
