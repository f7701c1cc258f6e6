"""macros.name_zh: a canned reply's name in Chinese

Revision ID: 0018
Revises: 0017

The name agents pick a canned reply by, in each console language (as
departments and categories have ``name`` and ``name_zh``); optional - a
macro without one shows its ``name`` in Chinese too.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("macros") as batch:
        batch.add_column(sa.Column("name_zh", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("macros") as batch:
        batch.drop_column("name_zh")
