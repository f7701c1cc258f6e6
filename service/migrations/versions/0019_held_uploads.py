"""held_uploads: files kept from a refused reply until it is sent again

Revision ID: 0019
Revises: 0018

A reply refused for a stale version, an illegal step or a guard keeps the
files it came with (the browser cannot refill a file input): one row per
file, owned by the staff member, for one ticket, the bytes in the
attachment store; sent with the reply or swept after HELD_UPLOAD_HOURS.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "held_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_held_uploads_staff_id_staff")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_held_uploads_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_uploads")),
    )
    op.create_index(op.f("ix_held_uploads_ticket_id"), "held_uploads", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_held_uploads_created_at"), "held_uploads", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_held_uploads_created_at"), table_name="held_uploads")
    op.drop_index(op.f("ix_held_uploads_ticket_id"), table_name="held_uploads")
    op.drop_table("held_uploads")
