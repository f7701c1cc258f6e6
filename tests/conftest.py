"""Shared fixtures: kefu's own suite on the fixtures kefu ships for plugin
authors (``service.testing``, loaded through its ``pytest11`` entry point),
under the short names the suite has always used: ``app`` is ``kefu_app``,
``client`` is ``kefu_client``, ``jobs`` is ``kefu_jobs``...

The database is chosen by ``KEFU_TEST_DATABASE_URL`` (see
``service.testing.database``). The suite's test databases start without
reference staff or departments (its tests make the ones they need, with the
``departments`` and ``make_staff`` fixtures).
"""
from __future__ import annotations

import pytest
from testdb import IS_PG, PG_URL

from service.extensions import db
from service.testing.database import Reference, built_app


def pytest_report_header(config):
    return f"kefu database: {'PostgreSQL ' + PG_URL if IS_PG else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if IS_PG and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite-specific; this run is PostgreSQL"))
        if not IS_PG and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-specific; this run is SQLite"))


@pytest.fixture(scope="session")
def kefu_reference_data():
    """The suite's tests make their own departments and staff."""
    return Reference(departments=(), staff=())


@pytest.fixture
def database_url(kefu_test_database, tmp_path):
    """A freshly migrated, empty (but for reference data) database for this test;
    a module overrides it to bring its own server."""
    return kefu_test_database.fresh(tmp_path)


@pytest.fixture
def kefu_database_url(database_url):
    return database_url


@pytest.fixture
def overrides():
    """Settings for one test: ``@pytest.mark.parametrize("overrides", [{...}])``
    (or ``@pytest.mark.kefu_settings(...)``)."""
    return {}


@pytest.fixture
def kefu_settings(kefu_settings, overrides):
    return {**kefu_settings, **overrides}


@pytest.fixture
def app_config(kefu_app_config):
    """The settings the ``app`` fixture uses, with the test's ``overrides``."""
    return kefu_app_config


@pytest.fixture
def build_app():
    """``with build_app(config) as app:`` builds an app, inside its app context,
    and disposes of its database connections afterwards."""
    return built_app


@pytest.fixture
def app(kefu_app):
    return kefu_app


@pytest.fixture
def jobs(app):
    """``jobs.drain()`` relays the outbox, ticks and works every queue until
    nothing is due. Without it a test's jobs stay in the outbox. (As
    ``kefu_jobs``, but for whichever ``app`` the module uses.)"""
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


@pytest.fixture(scope="session")
def kefu_wheel(tmp_path_factory):
    """kefu's wheel, built once per run from the checkout (``tests/wheelenv``)."""
    from wheelenv import build_wheel

    return build_wheel(tmp_path_factory.mktemp("kefu-wheel"))


@pytest.fixture
def smtp_sink():
    """A real SMTP server on loopback recording what it receives
    (``.handler_obj.messages``); stopped afterwards."""
    from aiosmtpd.controller import Controller
    from jobparts import SinkHandler, free_port

    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    controller.handler_obj = handler
    try:
        yield controller
    finally:
        handler.release.set()
        controller.stop()
