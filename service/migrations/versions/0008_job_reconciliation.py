"""jobs_outbox.failed_at and relays, periodic_runs, periodic_locks, tickets.request_key

Revision ID: 0008
Revises: 0007

The outbox becomes the whole record of background work: a row knows when it
failed for good and how often it was relayed, so rows relayed to a Redis
that lost them are found and relayed again. Periodic runs are claimed in the
database (one row per job and period) instead of only in Redis, and one lock
row per periodic job keeps two runs of it from overlapping. A ticket keeps
the idempotency key of the request that filed it, so a complaint sent again
after its answer was lost (a database restart mid-commit) is not filed twice.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('relays', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_jobs_outbox_done_at_id', ['done_at', 'id'], unique=False)
    op.create_table(
        'periodic_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=80), nullable=False),
        sa.Column('slot', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_runs')),
        sa.UniqueConstraint('job', 'slot', name=op.f('uq_periodic_runs_job')),
    )
    op.create_index('ix_periodic_runs_status', 'periodic_runs', ['status', 'job'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=80), nullable=True))
    # An index, so that SQLite does not rebuild tickets (other tables refer to it).
    op.create_index('ix_tickets_request_key', 'tickets', ['request_key'], unique=True)
    op.create_table(
        'periodic_locks',
        sa.Column('job', sa.String(length=80), nullable=False),
        sa.Column('slot', sa.BigInteger(), nullable=True),
        sa.Column('holder', sa.String(length=200), nullable=True),
        sa.Column('since', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('job', name=op.f('pk_periodic_locks')),
    )


def downgrade():
    op.drop_index('ix_tickets_request_key', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('request_key')
    op.drop_table('periodic_locks')
    op.drop_index('ix_periodic_runs_status', table_name='periodic_runs')
    op.drop_table('periodic_runs')
    with op.batch_alter_table('jobs_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_outbox_done_at_id')
        batch_op.drop_column('relays')
        batch_op.drop_column('failed_at')
