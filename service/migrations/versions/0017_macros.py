"""macros: canned replies in English and Chinese, personal or shared

Revision ID: 0017
Revises: 0015

A macro is a reply text with placeholders, in either language or both,
owned by one staff member (``owner_id``), shared by a department
(``department_id``) or by everyone (neither), with optional actions on the
ticket it is applied to (a workflow action, a priority, a department).
``version`` is its optimistic lock, as on tickets.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=True),
        sa.Column("body_zh", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("set_status", sa.String(length=24), nullable=True),
        sa.Column("set_priority", sa.String(length=10), nullable=True),
        sa.Column("set_department_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("owner_id IS NULL OR department_id IS NULL", name=op.f("ck_macros_one_owner")),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], name="fk_macros_owner_id_staff"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name="fk_macros_department_id_departments"),
        sa.ForeignKeyConstraint(["set_department_id"], ["departments.id"],
                                name="fk_macros_set_department_id_departments"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], name="fk_macros_created_by_id_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_macros"),
    )
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.create_index("ix_macros_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_macros_department_id", ["department_id"], unique=False)


def downgrade():
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.drop_index("ix_macros_department_id")
        batch_op.drop_index("ix_macros_owner_id")
    op.drop_table("macros")
