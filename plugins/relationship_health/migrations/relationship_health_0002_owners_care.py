"""relationship_health: account owners, their notices, customers' care state

Revision ID: relationship_health_0002
Revises: relationship_health_0001
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'relationship_health_0002'
down_revision = 'relationship_health_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_owners',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_account_owners_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_account_owners_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_account_owners'))
    )
    with op.batch_alter_table('account_owners', schema=None) as batch_op:
        batch_op.create_index('ix_account_owners_staff_id', ['staff_id'], unique=False)

    op.create_table('account_owner_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_account_owner_notices_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_account_owner_notices_staff_id_staff'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_account_owner_notices_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_owner_notices')),
    sa.UniqueConstraint('key', name=op.f('uq_account_owner_notices_key'))
    )
    with op.batch_alter_table('account_owner_notices', schema=None) as batch_op:
        batch_op.create_index('ix_account_owner_notices_staff_id_id', ['staff_id', 'id'], unique=False)

    op.create_table('customer_care_states',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('last_ticket_id', sa.Integer(), nullable=True),
    sa.Column('last_opened_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_care_states_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_ticket_id'], ['tickets.id'], name=op.f('fk_customer_care_states_last_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_care_states'))
    )


def downgrade():
    op.drop_table('customer_care_states')
    op.drop_table('account_owner_notices')
    op.drop_table('account_owners')
