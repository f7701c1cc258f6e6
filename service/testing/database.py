"""Test databases: migrated once per test run, handed out fresh to each test.

SQLite (the default): the core's and every installed plugin's migrations run
once into a template file, the reference data is added, and each test gets
a copy of that file. PostgreSQL (``KEFU_TEST_DATABASE_URL`` names a server):
a database of the run's own is created on that server, migrated and seeded
once, and emptied back to the reference rows before each test; it is
dropped at the end, so several runs can share one server.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

#: The environment variable naming a PostgreSQL server for the tests
#: (``postgresql+psycopg://user@127.0.0.1:5432/postgres``); unset: SQLite.
DATABASE_VARIABLE = "KEFU_TEST_DATABASE_URL"

#: Settings every test app starts from (a test adds its own on top).
TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "PUBLIC_RATE_LIMIT": "10000 per minute",
    # Retries come back after a second, not minutes.
    "JOB_RETRY_INTERVALS": [1],
    # Webhook receivers in tests listen on 127.0.0.1.
    "WEBHOOK_ALLOW_PRIVATE": True,
    # Mail goes to MAIL_LOG_DIR (the ``kefu_mail`` fixture reads it), jobs to
    # the in-process runner of ``kefu_jobs``: never to a real server.
    "SMTP_HOST": None,
    "REDIS_URL": None,
}

#: The console password of the reference staff (``Reference.staff``).
PASSWORD = "correct horse battery"

DEPARTMENTS = (
    ("sales", "Sales", "销售部"), ("after_sales", "After-sales", "售后部"),
    ("technical", "Technical support", "技术部"), ("logistics", "Logistics", "物流部"),
    ("finance", "Finance", "财务部"), ("quality", "Quality", "质量部"),
)


@dataclass(frozen=True)
class Reference:
    """What every test database starts with, besides what the migrations
    insert (the categories): ``departments`` as ``(code, name, name_zh)``,
    and one staff member per role of ``staff`` (``<role>@kefu.test``, in
    ``staff_department``, console password ``PASSWORD``). Override the
    session fixture ``kefu_reference_data`` to change it for a suite."""

    departments: tuple = DEPARTMENTS
    staff: tuple = ("agent", "supervisor", "admin", "finance")
    staff_department: str = "after_sales"

    @staticmethod
    def email(role: str) -> str:
        """The reference staff member of ``role``'s e-mail address."""
        return f"{role}@kefu.test"


def database_url_from_environment() -> str:
    """The PostgreSQL server URL the tests should use, or "" for SQLite."""
    url = os.environ.get(DATABASE_VARIABLE) or ""
    if url and not url.startswith("postgresql"):
        raise ValueError(f"{DATABASE_VARIABLE} must be a postgresql+psycopg:// URL (or unset for SQLite), "
                         f"not {url.split(':', 1)[0]}")
    return url


@contextlib.contextmanager
def built_app(config: dict, **options):
    """``with built_app(config) as app:`` a kefu app inside its app context;
    its database connections are disposed of afterwards."""
    from service import create_app
    from service.extensions import db

    app = create_app(config, **options)
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


def _seed(reference: Reference) -> None:
    """Add the reference departments and staff (inside an app context)."""
    from service.extensions import db
    from service.models import Department
    from service.usecases.staff import create_staff
    from service.usecases.uow import UnitOfWork

    with UnitOfWork() as uow:
        db.session.add_all(Department(code=code, name=name, name_zh=zh) for code, name, zh in reference.departments)
        uow.commit()
    department = reference.staff_department if reference.departments else None
    for role in reference.staff:
        create_staff(reference.email(role), f"Test {role.title()}", role, department, password=PASSWORD)


class TestDatabases:
    """One run's migrated database and the fresh copies handed to tests."""

    __test__ = False  # not a test class, whatever pytest's naming rules say

    def __init__(self, folder: Path, reference: Reference, server_url: str = "", own_database: bool = True):
        """``server_url``: a PostgreSQL server ("" for SQLite); with
        ``own_database`` false its database is used as it is (and kept)
        instead of one of the run's own."""
        self.folder, self.reference, self.server_url = Path(folder), reference, server_url
        self.own_database = own_database
        self.url: str | None = None  # PostgreSQL: this run's database
        self.template: Path | None = None  # SQLite: the migrated file copied per test
        self._rows: list[tuple[sa.Table, list[dict]]] = []  # PostgreSQL: reflected table, its rows

    @property
    def is_postgres(self) -> bool:
        return bool(self.server_url)

    def prepare(self, settings: dict) -> "TestDatabases":
        """Create, migrate (core and every installed plugin) and seed the
        run's database; ``settings`` are those of the app that migrates."""
        if self.is_postgres and not self.own_database:
            self.url = self.server_url
            self._migrate(self.url, settings)
            self._snapshot()
        elif self.is_postgres:
            name = f"kefu_run_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            self.url = sa.engine.make_url(self.server_url).set(database=name).render_as_string(hide_password=False)
            self._migrate(self.url, settings)
            self._snapshot()
        else:
            self.template = self.folder / "template.db"
            # The app disposes of its engine on the way out: with WAL, the
            # file is complete only once every connection is closed.
            self._migrate(f"sqlite:///{self.template}", settings)
        return self

    def _migrate(self, url: str, settings: dict) -> None:
        from service import migrations

        config = {**TEST_SETTINGS, **settings, "DATABASE_URL": url, "INSTANCE_PATH": str(self.folder / "instance")}
        with built_app(config):
            migrations.upgrade()
            _seed(self.reference)

    def _snapshot(self) -> None:
        """Remember every row the migrations and the seeding wrote, in an
        order that satisfies the foreign keys they use, to restore after
        emptying. (Some tables refer to each other, departments and staff;
        only the references the rows actually hold are ordered on.)"""
        from graphlib import TopologicalSorter

        engine = sa.create_engine(self.url)
        meta = sa.MetaData()
        meta.reflect(engine)
        rows: dict[str, list[dict]] = {}
        with engine.connect() as conn:
            for table in meta.tables.values():
                if table.name != "alembic_version":
                    found = [dict(r._mapping) for r in conn.execute(table.select())]
                    if found:
                        rows[table.name] = found
        engine.dispose()
        order = TopologicalSorter()
        for name, found in rows.items():
            order.add(name)
            for fk in meta.tables[name].foreign_keys:
                target = fk.column.table.name
                if target != name and target in rows and any(r[fk.parent.name] is not None for r in found):
                    order.add(name, target)
        self._rows = [(meta.tables[name], rows[name]) for name in order.static_order()]

    def fresh(self, folder: Path) -> str:
        """A database for one test, as migrated and seeded; its URL."""
        if self.is_postgres:
            self._reset()
            return self.url
        target = Path(folder) / f"kefu-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(self.template, target)
        return f"sqlite:///{target}"

    def _reset(self) -> None:
        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            for table, rows in self._rows:
                # The reflected table: its column types bind JSON and times as written.
                conn.execute(table.insert(), rows)
                if "id" in table.c:
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                         f"(SELECT max(id) FROM {table.name}))"))
        engine.dispose()

    def close(self) -> None:
        """Drop the run's PostgreSQL database (SQLite files go with the temporary folder)."""
        if self.is_postgres and self.url and self.own_database:
            admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(self.url).database}" WITH (FORCE)'))
            admin.dispose()
