"""Schema migrations: the core's Alembic chain (here) and the plugins' branches.

The core's revisions are in ``versions/`` (branch ``core``); every enabled
plugin's are where its ``register_migrations`` says (a branch named after the
plugin). ``upgrade`` applies all of them - the core first, the plugins'
after the core revisions they depend on.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

HERE = Path(__file__).resolve().parent
CORE_VERSIONS = HERE / "versions"


def version_locations(app=None) -> list[str]:
    """The directories Alembic reads revisions from: the core's, then each
    enabled plugin's (declared at start)."""
    from service.hooks.startup import MIGRATIONS

    app = app or current_app
    return [str(CORE_VERSIONS)] + list(app.extensions.get(MIGRATIONS, {}).values())


def configure(config) -> object:
    """Flask-Migrate's ``configure`` callback: every version location, and
    ``heads`` (not ``head``) as what "up to date" means."""
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(version_locations()))
    return config


def upgrade(revision: str = "heads") -> None:
    """Apply every pending revision of the core and the enabled plugins
    (inside an app context)."""
    from flask_migrate import upgrade as _upgrade

    _upgrade(revision=revision)


def pending() -> list[str]:
    """The revisions (core and enabled plugins') not yet applied to the
    current database, in the order ``upgrade`` would apply them."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from service.extensions import db

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        applied = MigrationContext.configure(conn).get_current_heads()
    done = {rev.revision for head in applied for rev in script.iterate_revisions(head, "base")}
    wanted = list(script.iterate_revisions("heads", "base"))  # newest first
    return [rev.revision for rev in reversed(wanted) if rev.revision not in done]
