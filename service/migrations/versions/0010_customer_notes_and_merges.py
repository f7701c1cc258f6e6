"""customers: notes, merges; tickets: index on (customer_id, status)

Revision ID: 0010
Revises: 0009

The console's customer profile (issue 20) keeps staff notes on a customer
(``customer_notes``) and merges duplicate records: the duplicate stays,
pointing at the record it was merged into (``merged_into_id``, ``merged_at``),
so that old links and ids still resolve. The customer list sorts and shows
each customer's open tickets: (customer_id, status) answers that count from
the index alone.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'customer_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_notes_customer_id_customers')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_customer_notes_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_notes')),
    )
    op.create_index('ix_customer_notes_customer_id_id', 'customer_notes', ['customer_id', 'id'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; a batch rebuild of
        # customers would drop a table that tickets refer to, which SQLite
        # refuses while their rows exist (foreign keys are on).
        op.execute("ALTER TABLE customers ADD COLUMN merged_into_id INTEGER "
                   "CONSTRAINT fk_customers_merged_into_id_customers REFERENCES customers (id)")
        op.add_column('customers', sa.Column('merged_at', sa.DateTime(), nullable=True))
    else:
        op.add_column('customers', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.add_column('customers', sa.Column('merged_at', sa.DateTime(), nullable=True))
        op.create_foreign_key(op.f('fk_customers_merged_into_id_customers'), 'customers', 'customers',
                              ['merged_into_id'], ['id'])
    op.create_index(op.f('ix_customers_merged_into_id'), 'customers', ['merged_into_id'], unique=False)
    op.create_index('ix_tickets_customer_id_status', 'tickets', ['customer_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_customer_id_status', table_name='tickets')
    op.drop_index(op.f('ix_customers_merged_into_id'), table_name='customers')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":  # SQLite's rebuild leaves the reference out with its column
            batch_op.drop_constraint(batch_op.f('fk_customers_merged_into_id_customers'), type_='foreignkey')
        batch_op.drop_column('merged_at')
        batch_op.drop_column('merged_into_id')
    op.drop_index('ix_customer_notes_customer_id_id', table_name='customer_notes')
    op.drop_table('customer_notes')
