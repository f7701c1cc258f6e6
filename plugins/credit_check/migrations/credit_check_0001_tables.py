"""credit_check: customer figures, ratings with breakdowns, breakdown views

Revision ID: credit_check_0001
Revises: (base of the credit_check branch)

kefu 0.1 kept these tables in the core's chain (revision 0004); a
database migrated then already has them, and this revision adopts them
as they are. A new database gets them here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'credit_check_0001'
down_revision = None
branch_labels = ('credit_check',)
depends_on = '0001'

TABLES = ('credit_figures', 'credit_ratings', 'credit_views')


def _existing() -> set:
    return set(sa.inspect(op.get_bind()).get_table_names()) & set(TABLES)


def upgrade():
    existing = _existing()
    if existing == set(TABLES):
        return  # made by kefu 0.1's core revision 0004: adopted as they are
    if existing:
        raise RuntimeError(f"credit_check: some of its tables exist ({', '.join(sorted(existing))}) and some do "
                           "not; restore the database or drop them before upgrading")
    op.create_table('credit_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_figures_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_figures')),
    sa.UniqueConstraint('customer_id', 'quarter', name='uq_credit_figures_customer_id_quarter')
    )
    op.create_table('credit_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('figures_quarter', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('grade', sa.String(length=10), nullable=True),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('internal_score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('rated_at', sa.DateTime(), nullable=False),
    sa.Column('rated_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_ratings_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_ratings'))
    )
    with op.batch_alter_table('credit_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_credit_ratings_customer_id_quarter_id', ['customer_id', 'quarter', 'id'], unique=False)
        batch_op.create_index('ix_credit_ratings_quarter', ['quarter'], unique=False)

    op.create_table('credit_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_views_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_credit_views_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_views'))
    )
    with op.batch_alter_table('credit_views', schema=None) as batch_op:
        batch_op.create_index('ix_credit_views_customer_id_id', ['customer_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('credit_views', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_views_customer_id_id')

    op.drop_table('credit_views')
    with op.batch_alter_table('credit_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_ratings_quarter')
        batch_op.drop_index('ix_credit_ratings_customer_id_quarter_id')

    op.drop_table('credit_ratings')
    op.drop_table('credit_figures')
