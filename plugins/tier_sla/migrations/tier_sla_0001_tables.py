"""tier_sla: transactions, tiers, policies, ticket clocks

Revision ID: tier_sla_0001
Revises: (base of the tier_sla branch)

kefu 0.1 kept these tables in the core's chain (revision 0003); a
database migrated then already has them, and this revision adopts them
as they are. A new database gets them here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'tier_sla_0001'
down_revision = None
branch_labels = ('tier_sla',)
depends_on = '0001'

TABLES = ('sla_policies', 'customer_tier_changes', 'customer_tiers', 'tier_transactions', 'ticket_slas')


def _existing() -> set:
    return set(sa.inspect(op.get_bind()).get_table_names()) & set(TABLES)


def upgrade():
    existing = _existing()
    if existing == set(TABLES):
        return  # made by kefu 0.1's core revision 0003: adopted as they are
    if existing:
        raise RuntimeError(f"tier_sla: some of its tables exist ({', '.join(sorted(existing))}) and some do "
                           "not; restore the database or drop them before upgrading")
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies'))
    )
    op.create_table('customer_tier_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('from_tier', sa.String(length=20), nullable=True),
    sa.Column('to_tier', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tier_changes_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_tier_changes'))
    )
    with op.batch_alter_table('customer_tier_changes', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tier_changes_customer_id_id', ['customer_id', 'id'], unique=False)

    op.create_table('customer_tiers',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('computed_tier', sa.String(length=20), nullable=False),
    sa.Column('value_minor', sa.BigInteger(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('override_tier', sa.String(length=20), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('override_by', sa.Integer(), nullable=True),
    sa.Column('override_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tiers_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_tiers'))
    )
    with op.batch_alter_table('customer_tiers', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tiers_computed_tier', ['computed_tier'], unique=False)

    op.create_table('tier_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('margin_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tier_transactions_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_transactions')),
    sa.UniqueConstraint('customer_id', 'reference', name='uq_tier_transactions_customer_id_reference')
    )
    with op.batch_alter_table('tier_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_tier_transactions_occurred_on_customer_id', ['occurred_on', 'customer_id'], unique=False)

    op.create_table('ticket_slas',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=True),
    sa.Column('calendar', sa.String(length=40), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.Column('first_response_due', sa.DateTime(), nullable=True),
    sa.Column('resolution_due', sa.DateTime(), nullable=True),
    sa.Column('pauses', sa.JSON(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('first_responded_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_business_minutes', sa.Float(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution_business_minutes', sa.Float(), nullable=True),
    sa.Column('steps_done', sa.JSON(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('next_check', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policies.id'], name=op.f('fk_ticket_slas_policy_id_sla_policies')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_slas_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_slas'))
    )
    with op.batch_alter_table('ticket_slas', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_slas_next_check', ['next_check'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_slas', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_slas_next_check')

    op.drop_table('ticket_slas')
    with op.batch_alter_table('tier_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_transactions_occurred_on_customer_id')

    op.drop_table('tier_transactions')
    with op.batch_alter_table('customer_tiers', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tiers_computed_tier')

    op.drop_table('customer_tiers')
    with op.batch_alter_table('customer_tier_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tier_changes_customer_id_id')

    op.drop_table('customer_tier_changes')
    op.drop_table('sla_policies')
