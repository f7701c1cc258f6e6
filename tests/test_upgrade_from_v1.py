"""A database migrated by kefu 0.1 (the builtin plugins' tables in the core's
chain, revisions 0001-0005) upgrades to today's layout (the core's chain, and
a branch per plugin that adopts its tables) without losing anything.

How: today's kefu makes realistic data through its use cases on a fresh
database (the demo: tickets in every status, tiers, surveys, credit ratings;
SLA clocks, a webhook delivery, a credit view) and notes what its API
answers. The same rows are then written into a database built with kefu
0.1's own migrations (frozen in tests/fixtures/v1_migrations), which today's
``kefu db upgrade`` upgrades; the API must answer the same for every ticket,
tier, survey, rating and delivery, and the schema must be today's exactly.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from testdb import BASE_CONFIG, IS_PG, PG_URL

from service import create_app, migrations
from service.demo import DEMO_LOGINS, load_demo
from service.extensions import db

V1 = Path(__file__).resolve().parent / "fixtures" / "v1_migrations"
ADMIN = {"Authorization": f"Bearer {next(t for _e, r, _p, t in DEMO_LOGINS if r == 'admin')}"}
# Tables newer than v1 (nothing of v1 to copy into them).
SKIP_TABLES = {"alembic_version", "plugin_failures", "periodic_runs", "periodic_locks"}


@pytest.fixture
def empty_database(tmp_path):
    """``empty_database()`` -> the URL of a database with nothing in it (on
    PostgreSQL a database of its own on the test server, dropped after)."""
    made = []
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT") if IS_PG else None

    def make() -> str:
        if not IS_PG:
            return f"sqlite:///{tmp_path / ('empty-' + uuid.uuid4().hex[:6] + '.db')}"
        name = f"kefu_v1_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for name in made:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _answers(client, tickets, customers) -> dict:
    """What the API says about every ticket, tier, survey, rating and delivery."""
    out = {}
    for number in tickets:
        ticket = client.get(f"/api/v1/tickets/{number}", headers=ADMIN)
        assert ticket.status_code == 200, ticket.json
        out[f"ticket {number}"] = ticket.json
        out[f"history {number}"] = client.get(f"/api/v1/tickets/{number}/history", headers=ADMIN).json
        out[f"surveys {number}"] = client.get(f"/api/v1/tickets/{number}/surveys", headers=ADMIN).json
        sla = client.get(f"/api/v1/tickets/{number}/sla", headers=ADMIN).json
        (sla.get("sla") or {}).pop("business_minutes_used", None)  # a running clock: it moves while the test runs
        out[f"sla {number}"] = sla
    for customer_id in customers:
        out[f"customer {customer_id}"] = client.get(f"/api/v1/customers/{customer_id}", headers=ADMIN).json
        out[f"tier {customer_id}"] = client.get(f"/api/v1/customers/{customer_id}/tier", headers=ADMIN).json
        out[f"ratings {customer_id}"] = client.get(f"/api/v1/customers/{customer_id}/credit/ratings",
                                                   headers=ADMIN).json
    for endpoint in client.get("/api/v1/admin/webhooks", headers=ADMIN).json:
        out[f"deliveries {endpoint['id']}"] = client.get(f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries",
                                                         headers=ADMIN).json
    out["tiers report"] = client.get("/api/v1/reports/tiers", headers=ADMIN).json
    out["surveys report"] = client.get("/api/v1/reports/surveys", headers=ADMIN).json
    return out


def _today(url, tmp_path) -> tuple[dict, dict, list, list]:
    """Rows and API answers of a database made by today's kefu."""
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "today"),
                      "SECRET_KEY": "v1-upgrade-test"})
    with app.app_context():
        migrations.upgrade()
        load_demo()
        from plugins.tier_sla.sweep import sweep

        sweep()  # SLA clocks for every open ticket
        client = app.test_client()
        endpoint = client.post("/api/v1/admin/webhooks", headers=ADMIN,
                               json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]}).json
        client.post("/api/v1/public/tickets", json={"name": "Wu Lei", "email": "wu@example.test",
                                                    "subject": "Late parcel", "description": "Ten days late."})
        assert endpoint["id"]
        customers = [row[0] for row in db.session.execute(sa.text("SELECT id FROM customers ORDER BY id"))]
        client.get(f"/api/v1/customers/{customers[0]}/credit", headers=ADMIN)  # a credit view is recorded
        tickets = [row[0] for row in db.session.execute(sa.text("SELECT id FROM tickets ORDER BY id"))]
        numbers = [f"{app.config['TICKET_PREFIX']}-{i:06d}" for i in tickets]
        rows = {}
        for table in db.metadata.sorted_tables:
            if table.name in SKIP_TABLES:
                continue
            rows[table.name] = [dict(r._mapping) for r in db.session.execute(table.select().order_by(
                *table.primary_key.columns))]
        answers = _answers(client, numbers, customers)
        db.session.remove()
        db.engine.dispose()
    for needed in ("tier_transactions", "customer_tiers", "customer_tier_changes", "ticket_slas", "sla_policies",
                   "surveys", "survey_recoveries", "credit_figures", "credit_ratings", "credit_views",
                   "webhook_endpoints", "webhook_deliveries"):
        assert rows[needed], f"the data has no {needed} rows: the test would prove nothing about them"
    return rows, answers, numbers, customers


def test_a_v1_database_upgrades_and_still_serves_everything(tmp_path, empty_database):
    rows, answers, numbers, customers = _today(empty_database(), tmp_path)
    empty_url = empty_database()

    # kefu 0.1's database: its own chain, to its head (0005).
    config = Config()
    config.set_main_option("script_location", str(V1))
    config.set_main_option("sqlalchemy.url", empty_url.replace("%", "%%"))
    command.upgrade(config, "head")
    engine = sa.create_engine(empty_url)
    v1 = sa.MetaData()
    v1.reflect(engine)
    assert {"tier_transactions", "surveys", "credit_ratings", "webhook_endpoints"} <= set(v1.tables)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == ["0005"]
        conn.execute(sa.text("DELETE FROM categories"))  # the migrations' reference rows: copied as they were
        if engine.dialect.name == "postgresql":
            # Departments and staff refer to each other: no table order satisfies
            # both keys while copying (SQLite enforces none without its pragma).
            conn.execute(sa.text("SET session_replication_role = replica"))
        for table in db.metadata.sorted_tables:
            if table.name in SKIP_TABLES or table.name not in v1.tables:
                continue  # tables made after v1 (customer notes) start empty in a v1 database
            old = v1.tables[table.name]
            data = [{k: v for k, v in row.items() if k in old.c} for row in rows[table.name]]
            if data:
                conn.execute(old.insert(), data)
            if engine.dialect.name == "postgresql" and "id" in old.c and data:
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"(SELECT max(id) FROM {table.name}))"))
    engine.dispose()

    # Today's kefu upgrades it.
    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_url, "INSTANCE_PATH": str(tmp_path / "upgraded"),
                      "SECRET_KEY": "v1-upgrade-test"})
    with app.app_context():
        assert "0006" in migrations.pending() and "tier_sla_0001" in migrations.pending()
        migrations.upgrade()
        assert migrations.pending() == []
        with db.engine.connect() as conn:
            heads = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            assert compare_metadata(ctx, db.metadata) == []  # exactly today's schema
        core = set(ScriptDirectory(str(migrations.HERE)).get_heads())  # the core's head, whichever it is today
        assert heads == core | {"tier_sla_0002", "credit_check_0001", "satisfaction_survey_0001", "webhooks_0001",
                     "relationship_health_0002"}
        for table, before in rows.items():
            if table not in v1.tables:
                continue
            count = db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables[table]))
            assert count == len(before), f"{table}: {count} rows after the upgrade, {len(before)} before"
        after = _answers(app.test_client(), numbers, customers)
        db.session.remove()
        db.engine.dispose()
    for key, value in answers.items():
        assert after[key] == value, f"{key} differs after the upgrade: {_difference(value, after[key])}"


def _difference(before, after, path="") -> str:
    """The first place two JSON answers differ (for a readable failure)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                return _difference(before.get(key), after.get(key), f"{path}.{key}")
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for n, (b, a) in enumerate(zip(before, after)):
            if b != a:
                return _difference(b, a, f"{path}[{n}]")
    return f"{path}: {before!r} before, {after!r} after"
