"""saved queue views; tickets by last activity

Revision ID: 0015
Revises: 0012

* ``saved_views``: a staff member's named queue filters and sort, or a
  shared one (supervisors), listed on the queue page and in the sidebar.
* ``ix_tickets_updated_at``: the queues sort by last activity. Every change
  a client sees and every message (a customer's reply too) sets
  ``tickets.updated_at`` (``service.usecases.tickets.touch``,
  ``service.usecases.messages.add_message``), so it is the last activity;
  the index makes "most recently active first" a walk of the index, not a
  sort of the whole table (100,000 tickets).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("queue", sa.String(20), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_saved_views_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    op.create_index("ix_saved_views_staff_id", "saved_views", ["staff_id"])
    op.create_index("ix_saved_views_shared", "saved_views", ["shared"])
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])


def downgrade():
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
    op.drop_index("ix_saved_views_shared", table_name="saved_views")
    op.drop_index("ix_saved_views_staff_id", table_name="saved_views")
    op.drop_table("saved_views")
