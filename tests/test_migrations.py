"""The models and the migrations describe the same schema: the core's chain
and every enabled plugin's branch."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade

from service import migrations

from service.extensions import db


def _pending(app):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, db.metadata)


def test_autogenerate_finds_nothing_pending_after_upgrade(app):
    assert _pending(app) == []


def test_downgrade_to_base_and_upgrade_again_gives_the_same_schema(app):
    # Every branch (the core's and each plugin's) down to nothing, then up again.
    downgrade(revision="base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade()
    assert _pending(app) == []
    codes = db.session.execute(sa.text("SELECT code FROM categories")).scalars().all()
    assert "other" in codes and "slow_delivery" in codes


def test_a_model_change_without_a_migration_is_detected(app):
    table = db.metadata.tables["customers"]
    column = sa.Column("loyalty_note", sa.String(40))
    table.append_column(column)
    try:
        diffs = _pending(app)
    finally:
        table._columns.remove(column)
    assert any(d[0] == "add_column" and d[3].name == "loyalty_note" for d in diffs)
