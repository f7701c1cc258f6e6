"""notifications, ticket_views, staff.notify_mail

Revision ID: 0014
Revises: 0013

Staff hear in the console (a bell with the unread count) and by mail of
customer replies, rejected resolutions, bad survey answers, assignments
and SLA steps on the tickets they answer for (``notifications``; the
index on (staff_id, read_at) serves the bell's count on every page).
``ticket_views`` keeps when each staff member last opened each ticket,
for the queue's "customer replied" and "unread" marks. ``staff.notify_mail``
is each person's mail preference: ``each`` (existing staff keep getting
mail) or ``none``.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('actor', sa.Text(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('emailed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_notifications_staff_id_staff')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_notifications_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    op.create_index('ix_notifications_staff_id_read_at', 'notifications', ['staff_id', 'read_at'], unique=False)
    op.create_index('ix_notifications_staff_id_id', 'notifications', ['staff_id', 'id'], unique=False)
    op.create_table(
        'ticket_views',
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_ticket_views_staff_id_staff')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_views_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('staff_id', 'ticket_id', name=op.f('pk_ticket_views')),
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_mail', sa.String(length=10), server_default='each', nullable=False))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('notify_mail')
    op.drop_table('ticket_views')
    op.drop_index('ix_notifications_staff_id_id', table_name='notifications')
    op.drop_index('ix_notifications_staff_id_read_at', table_name='notifications')
    op.drop_table('notifications')
