"""acme_vip: the audit trail

Revision ID: acme_vip_0001
Revises: (base of the acme_vip branch)
"""
import sqlalchemy as sa
from alembic import op

revision = "acme_vip_0001"
down_revision = None
branch_labels = ("acme_vip",)
depends_on = "0001"  # the core revision that made the tickets table


def upgrade():
    op.create_table(
        "acme_vip_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=False),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_acme_vip_audit_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acme_vip_audit")),
    )
    with op.batch_alter_table("acme_vip_audit") as batch:
        batch.create_index(batch.f("ix_acme_vip_audit_ticket_id"), ["ticket_id"], unique=False)


def downgrade():
    op.drop_table("acme_vip_audit")
