"""``kefu db ...``: Flask-Migrate's commands over the core's chain and every
enabled plugin's branch, with ``upgrade`` (and ``check``) meaning all heads."""
from __future__ import annotations

import click
import flask_migrate.cli as migrate_cli
from flask.cli import with_appcontext

from service import migrations

db_group = click.Group("db", callback=migrate_cli.db.callback, params=list(migrate_cli.db.params),
                       help="Database migrations: the core's chain and each enabled plugin's branch.")
for _name, _command in migrate_cli.db.commands.items():
    if _name != "upgrade":
        db_group.add_command(_command, _name)


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def upgrade(revision):
    """Apply the pending migrations of the core and every enabled plugin
    (REVISION: default ``heads``; e.g. ``tier_sla@head`` for one branch)."""
    if revision == "head":
        revision = "heads"  # kefu has a branch per plugin: "head" would be ambiguous
    migrations.upgrade(revision)
