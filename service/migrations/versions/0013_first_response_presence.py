"""tickets.first_responded_at; ticket_presence (who has a ticket open)

Revision ID: 0013
Revises: 0012

* ``tickets.first_responded_at``: when the customer got their first
  response, as the setting ``FIRST_RESPONSE`` counts it. Until now only
  confirming counted, so existing tickets take their ``confirmed_at``.
* ``ticket_presence``: one row per staff member with a ticket open in the
  console (viewing or replying), refreshed by the page's poll.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_responded_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE tickets SET first_responded_at = confirmed_at WHERE confirmed_at IS NOT NULL")
    op.create_table(
        "ticket_presence",
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", "ticket_id"),
    )
    op.create_index("ix_ticket_presence_ticket_id", "ticket_presence", ["ticket_id"], unique=False)


def downgrade():
    op.drop_index("ix_ticket_presence_ticket_id", table_name="ticket_presence")
    op.drop_table("ticket_presence")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("first_responded_at")
