"""tickets.remedy_approver (credit_check's tables moved to the plugin)

Revision ID: 0004
Revises: 0003

kefu 0.1 also created credit_check's tables here (credit figures, ratings,
views). They belong to the plugin now (plugins/credit_check/migrations),
which creates them on a new database and adopts them on one migrated by
kefu 0.1. Who approves a remedy is the core's: the column stays here.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remedy_approver', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('remedy_approver')
