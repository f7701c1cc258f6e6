"""satisfaction_survey: surveys, recoveries

Revision ID: satisfaction_survey_0001
Revises: (base of the satisfaction_survey branch)

kefu 0.1 kept these tables in the core's chain (revision 0005); a
database migrated then already has them, and this revision adopts them
as they are. A new database gets them here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'satisfaction_survey_0001'
down_revision = None
branch_labels = ('satisfaction_survey',)
depends_on = '0001'

TABLES = ('surveys', 'survey_recoveries')


def _existing() -> set:
    return set(sa.inspect(op.get_bind()).get_table_names()) & set(TABLES)


def upgrade():
    existing = _existing()
    if existing == set(TABLES):
        return  # made by kefu 0.1's core revision 0005: adopted as they are
    if existing:
        raise RuntimeError(f"satisfaction_survey: some of its tables exist ({', '.join(sorted(existing))}) and some do "
                           "not; restore the database or drop them before upgrading")
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=False),
    sa.Column('send_after', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('tier', sa.String(length=20), nullable=True),
    sa.Column('sla_met', sa.Boolean(), nullable=True),
    sa.Column('solved', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('effort', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['staff.id'], name=op.f('fk_surveys_agent_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_surveys_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_surveys_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_surveys_department_id_departments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_surveys_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('ticket_id', 'round', name='uq_surveys_ticket_id_round'),
    sa.UniqueConstraint('token_hash', name=op.f('uq_surveys_token_hash'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_customer_id_answered_at', ['customer_id', 'answered_at'], unique=False)
        batch_op.create_index('ix_surveys_status_sent_at', ['status', 'sent_at'], unique=False)

    op.create_table('survey_recoveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('followup_ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('recovered_at', sa.DateTime(), nullable=True),
    sa.Column('recovered_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['followup_ticket_id'], ['tickets.id'], name=op.f('fk_survey_recoveries_followup_ticket_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_recoveries_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_survey_recoveries_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_recoveries')),
    sa.UniqueConstraint('survey_id', name=op.f('uq_survey_recoveries_survey_id'))
    )
    with op.batch_alter_table('survey_recoveries', schema=None) as batch_op:
        batch_op.create_index('ix_survey_recoveries_recovered_at_id', ['recovered_at', 'id'], unique=False)
        batch_op.create_index('ix_survey_recoveries_ticket_id', ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_recoveries', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_recoveries_ticket_id')
        batch_op.drop_index('ix_survey_recoveries_recovered_at_id')

    op.drop_table('survey_recoveries')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_status_sent_at')
        batch_op.drop_index('ix_surveys_customer_id_answered_at')

    op.drop_table('surveys')
