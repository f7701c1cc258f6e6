"""The test database settings and helpers, importable by tests (a
``conftest`` module is not: several directories have one).

The database is chosen by ``KEFU_TEST_DATABASE_URL``: empty means SQLite,
a ``postgresql+psycopg://`` URL means that database.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import sqlalchemy as sa

from service import create_app
from service.extensions import db

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("KEFU_TEST_DATABASE_URL") or ""
IS_PG = PG_URL.startswith("postgresql")
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "PUBLIC_RATE_LIMIT": "10000 per minute",
    # Retries come back after a second, not minutes.
    "JOB_RETRY_INTERVALS": [1],
    # The webhook receivers in tests listen on 127.0.0.1 (tests/webhooks/test_targets.py turns it off).
    "WEBHOOK_ALLOW_PRIVATE": True,
}



def _upgrade(url: str, instance: Path) -> None:
    from service import migrations

    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        migrations.upgrade()
        db.engine.dispose()



def _reset_pg(url: str, seeded: dict) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        for table, rows in seeded.items():
            if rows:
                cols = list(rows[0])
                conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                     f"({', '.join(':' + c for c in cols)})"), rows)
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
    engine.dispose()


def fresh_database_url(migrated, tmp_path) -> str:
    """Reset (PostgreSQL) or copy (SQLite) a migrated database; return its URL.

    For tests that need more than one fresh database, e.g. per Hypothesis example.
    """
    if IS_PG:
        _reset_pg(migrated["url"], migrated["seeded"])
        return migrated["url"]
    target = tmp_path / f"kefu-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(migrated["template"], target)
    return f"sqlite:///{target}"

