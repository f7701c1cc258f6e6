"""departments.active, staff.last_sign_in_at

Revision ID: 0011
Revises: 0010

Admins deactivate a department instead of deleting it: it is no longer
offered for routing, and tickets and staff already in it keep it. Existing
rows are active (the server default). The staff table on the admin pages
shows each person's last console sign-in (unknown before this revision).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # A plain '1' (PostgreSQL reads it as true): with a SQL expression as its
    # default SQLite's batch mode would rebuild the table, which staff and
    # tickets refer to.
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default='1', nullable=False))
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('last_sign_in_at')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('active')
