"""tier_sla: a transaction's type (sale, return, exchange, cancellation), a per-customer index

Revision ID: tier_sla_0002
Revises: tier_sla_0001

Every stored row was a sale (credit notes are sales with a negative amount),
so the column arrives with the server default ``sale`` and tiers, which
count sales only, keep the values they had. The index on (customer_id,
occurred_on, type, amount_minor, currency) lets per-customer readers scan a
range of customers from the index alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'tier_sla_0002'
down_revision = 'tier_sla_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tier_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('type', sa.String(length=12), server_default='sale', nullable=False))
    with op.batch_alter_table('tier_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_tier_transactions_customer_id_occurred_on',
                              ['customer_id', 'occurred_on', 'type', 'amount_minor', 'currency'], unique=False)


def downgrade():
    with op.batch_alter_table('tier_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_transactions_customer_id_occurred_on')
        batch_op.drop_column('type')
