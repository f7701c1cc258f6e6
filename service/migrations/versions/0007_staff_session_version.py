"""staff.session_version

Revision ID: 0007
Revises: 0006

Console sessions end on the server: each carries its staff member's session
version, and sign-out, a password change or a deactivation raises it.
Existing rows start at 1 (the server default); sessions signed before this
revision carry no version and ask for a fresh sign-in.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('session_version')
