"""tickets.tags, messages.author_name, plugin_failures

Revision ID: 0006
Revises: 0005

Plugin contract v2: openers and plugins tag tickets and write notes under
their own name, and admins see how often each plugin failed.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_name', sa.String(length=120), nullable=True))
    op.create_table('plugin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=80), nullable=False),
    sa.Column('hook', sa.String(length=80), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_failures')),
    sa.UniqueConstraint('plugin', 'hook', name='uq_plugin_failures_plugin_hook')
    )


def downgrade():
    op.drop_table('plugin_failures')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('author_name')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('tags')
