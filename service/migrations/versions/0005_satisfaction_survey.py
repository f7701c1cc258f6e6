"""(empty) satisfaction_survey's tables moved to the plugin

Revision ID: 0005
Revises: 0004

kefu 0.1 created satisfaction_survey's tables (surveys, recoveries) here. They belong to the
plugin now (plugins/satisfaction_survey/migrations, its own branch), which creates
them on a new database and adopts them on one migrated by kefu 0.1. This
revision stays, empty, so that such a database still finds its place in
the core's chain.
"""

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
