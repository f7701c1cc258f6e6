"""relationship_health: customer health, level changes, contact changes, runs

Revision ID: relationship_health_0001
Revises: (base of the relationship_health branch)
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'relationship_health_0001'
down_revision = None
branch_labels = ('relationship_health',)
depends_on = '0001'


def upgrade():
    op.create_table('customer_health',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('signal_values', sa.JSON(), nullable=False),
    sa.Column('signal_points', sa.JSON(), nullable=False),
    sa.Column('contact_seen', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_health_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_health'))
    )
    with op.batch_alter_table('customer_health', schema=None) as batch_op:
        batch_op.create_index('ix_customer_health_level_score', ['level', 'score'], unique=False)

    op.create_table('customer_health_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('from_level', sa.String(length=12), nullable=True),
    sa.Column('to_level', sa.String(length=12), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('signal_values', sa.JSON(), nullable=False),
    sa.Column('signal_points', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_health_changes_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_health_changes'))
    )
    with op.batch_alter_table('customer_health_changes', schema=None) as batch_op:
        batch_op.create_index('ix_customer_health_changes_customer_id_id', ['customer_id', 'id'], unique=False)
        batch_op.create_index('ix_customer_health_changes_at', ['at'], unique=False)

    op.create_table('customer_contact_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_contact_changes_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_contact_changes'))
    )
    with op.batch_alter_table('customer_contact_changes', schema=None) as batch_op:
        batch_op.create_index('ix_customer_contact_changes_customer_id_at', ['customer_id', 'at'], unique=False)


    op.create_table('customer_health_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_health_runs'))
    )


def downgrade():
    op.drop_table('customer_health_runs')
    op.drop_table('customer_contact_changes')
    op.drop_table('customer_health_changes')
    op.drop_table('customer_health')
