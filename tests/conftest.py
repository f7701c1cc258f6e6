"""Shared fixtures: a migrated database per test (SQLite or PostgreSQL), the app,
its client, and staff with tokens.

The database is chosen by ``KEFU_TEST_DATABASE_URL``: empty means SQLite
(a migrated template file copied per test); a ``postgresql+psycopg://`` URL
means that database, migrated once per run and emptied before each test.
"""
from __future__ import annotations

import contextlib
import os
import uuid

import pytest
import sqlalchemy as sa

from service import create_app
from service.extensions import db
from testdb import BASE_CONFIG, IS_PG, PG_URL, ROOT, _reset_pg, _upgrade, fresh_database_url  # noqa: F401


def pytest_report_header(config):
    return f"kefu database: {'PostgreSQL ' + PG_URL if IS_PG else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if IS_PG and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite-specific; this run is PostgreSQL"))
        if not IS_PG and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-specific; this run is SQLite"))


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of this run's own on the server of KEFU_TEST_DATABASE_URL,
    dropped at the end, so that several runs can share one server."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"kefu_run_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory, request):
    """Migrate once per run. SQLite: {"template": path}. PostgreSQL: {"url": ...,
    "seeded": rows the migrations insert (reference data), to restore after emptying}."""
    base = tmp_path_factory.mktemp("db")
    if IS_PG:
        url = request.getfixturevalue("pg_database")
        _upgrade(url, base / "instance")
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            seeded = {"categories": [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM categories"))]}
        engine.dispose()
        return {"url": url, "seeded": seeded}
    template = base / "template.db"
    _upgrade(f"sqlite:///{template}", base / "instance")
    return {"template": template}



@pytest.fixture
def database_url(migrated, tmp_path):
    """A freshly migrated, empty (but for reference data) database for this test."""
    return fresh_database_url(migrated, tmp_path)


@pytest.fixture
def overrides():
    """Settings for one test: ``@pytest.mark.parametrize("overrides", [{...}])``."""
    return {}


@pytest.fixture
def app_config(database_url, tmp_path, overrides):
    """The settings the ``app`` fixture uses, with the test's ``overrides``."""
    return {**BASE_CONFIG, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
            "ATTACHMENT_DIR": str(tmp_path / "attachments"), "MAIL_LOG_DIR": str(tmp_path / "mail"), **overrides}


@contextlib.contextmanager
def _built_app(config):
    app = create_app(config)
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def build_app():
    """``with build_app(config) as app:`` builds an app, inside its app context,
    and disposes of its database connections afterwards."""
    return _built_app


@pytest.fixture
def app(app_config):
    with _built_app(app_config) as app:
        yield app


@pytest.fixture
def jobs(app):
    """The in-process job runner (RQ over fakeredis) installed on ``app``:
    ``jobs.drain()`` relays the outbox, ticks and works every queue until
    nothing is due. Without it a test's jobs stay in the outbox."""
    from service.jobs.runner import InProcessRunner

    return InProcessRunner(app).install()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def departments(app):
    """The six demo departments (codes: sales, after_sales, technical, logistics, finance, quality)."""
    from service.demo import DEPARTMENTS
    from service.models import Department

    rows = {code: Department(code=code, name=name, name_zh=zh) for code, name, zh in DEPARTMENTS}
    db.session.add_all(rows.values())
    db.session.commit()
    return rows


@pytest.fixture
def make_staff(app, departments):
    """``make_staff(role, department="after_sales")`` -> (Staff, auth headers)."""
    from service.usecases.staff import create_staff

    counter = iter(range(1, 10_000))

    def make(role="agent", department="after_sales"):
        n = next(counter)
        staff, token = create_staff(f"{role}{n}@kefu.test", f"{role.title()} {n}", role, department)
        return staff, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def agent(make_staff):
    return make_staff("agent")[1]


@pytest.fixture
def supervisor(make_staff):
    return make_staff("supervisor")[1]


@pytest.fixture
def admin(make_staff):
    return make_staff("admin")[1]


@pytest.fixture
def file_ticket(client):
    """``file_ticket(**overrides)`` files a complaint through the public API; returns its JSON."""

    def file(**overrides):
        body = {"name": "Wang Fang", "email": "wang@example.test", "kind": "complaint",
                "subject": "Washing machine not delivered", "description": "Ordered two weeks ago.",
                **overrides}
        response = client.post("/api/v1/public/tickets", json=body)
        assert response.status_code == 201, response.json
        return response.json

    return file


@pytest.fixture
def act(client):
    """``act(headers, number, action, **fields)`` posts a transition at the current version."""

    def do(headers, number, action, expect=200, **fields):
        version = client.get(f"/api/v1/tickets/{number}", headers=headers).json["version"]
        response = client.post(f"/api/v1/tickets/{number}/transitions", headers=headers,
                               json={"action": action, "version": version, **fields})
        assert response.status_code == expect, response.json
        return response.json

    return do


@pytest.fixture
def staff_login(app, departments, client):
    """``staff_login(role, language="en")`` creates a staff member with a password,
    signs the test client in as them, and returns the Staff."""
    from webpages import PASSWORD, csrf_of

    from service.usecases.staff import create_staff

    counter = iter(range(1, 1000))

    def login(role="agent", language="en", department="after_sales"):
        n = next(counter)
        staff, _token = create_staff(f"web-{role}{n}@kefu.test", f"Web {role.title()} {n}", role, department,
                                     password=PASSWORD)
        staff.language = language
        db.session.commit()
        page = client.get("/console/login")
        response = client.post("/console/login", data={"email": staff.email, "password": PASSWORD,
                                                        "csrf_token": csrf_of(page.text)})
        assert response.status_code == 302, response.text
        return staff

    return login


@pytest.fixture
def redis_server(tmp_path):
    """A running throwaway redis-server (``.url``, ``.stop()``, ``.start()``
    on the same port, empty), stopped at the end."""
    from jobparts import RedisServer

    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
