"""(empty) tier_sla's tables moved to the plugin

Revision ID: 0003
Revises: 0002

kefu 0.1 created tier_sla's tables (transactions, tiers, policies, ticket clocks) here. They belong to the
plugin now (plugins/tier_sla/migrations, its own branch), which creates
them on a new database and adopts them on one migrated by kefu 0.1. This
revision stays, empty, so that such a database still finds its place in
the core's chain.
"""

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
