"""Plugin objects several tests use (importable by tests; a ``conftest``
module is not)."""
from __future__ import annotations

import textwrap

from service import hookimpl


def migrating_plugin(tmp_path):
    """A plugin ``acme`` whose branch (``acme_0001``) makes the table
    ``acme_notes`` (a foreign key to tickets); its versions folder is in ``tmp_path``."""
    versions = tmp_path / "acme_migrations"
    versions.mkdir()
    (versions / "acme_0001_notes.py").write_text(textwrap.dedent('''
        """acme: a table of its own"""
        from alembic import op
        import sqlalchemy as sa

        revision = "acme_0001"
        down_revision = None
        branch_labels = ("acme",)
        depends_on = "0001"


        def upgrade():
            op.create_table("acme_notes", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False))


        def downgrade():
            op.drop_table("acme_notes")
    '''))

    class Migrating:
        @hookimpl
        def register_migrations(self):
            return str(versions)

    return Migrating()
