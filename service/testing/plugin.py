"""kefu's pytest plugin: fixtures to test a kefu plugin (or kefu) against a
real kefu app, with no set-up code of your own.

Installing kefu makes it available to pytest through the ``pytest11`` entry
point ``kefu`` (switch it off with ``-p no:kefu``); the app never imports
it. Documented with examples in docs/plugins.md, "Testing your plugin".

Every fixture's app is built with every installed plugin (found by entry
point, like ``kefu run``) and a database of its own:

``kefu_app``
    A kefu app inside its app context, on a fresh database: SQLite by
    default, the PostgreSQL server named by ``KEFU_TEST_DATABASE_URL`` when
    set. Migrated for the core and every installed plugin once per run;
    each test starts from the reference data (six departments, the
    categories, one staff member per role) and nothing else.
``kefu_settings``
    The test's settings on top of the defaults: ``@pytest.mark.kefu_settings(KEY=value)``
    on a test, class or module (the closest wins), or override the fixture.
``kefu_client``
    A Flask test client of ``kefu_app``.
``kefu_staff``
    ``kefu_staff.agent`` / ``.supervisor`` / ``.admin`` / ``.finance``,
    ``kefu_staff.headers("admin")`` (API token), ``kefu_staff.create(...)``,
    ``kefu_staff.console("agent", language="zh")`` (a signed-in console client).
``kefu_tickets``
    ``kefu_tickets.ticket(status="resolved", priority="high")``,
    ``.customer(...)``, ``.message(ticket, ...)``, ``.token(ticket)``.
``kefu_plugins``
    ``kefu_plugins.register(plugin_object, "name")`` for this test only.
``kefu_jobs``
    ``kefu_jobs.drain()`` runs every job that is due, in the test's thread.
``kefu_mail``
    What kefu sent: ``kefu_mail.find(to=..., notice="resolved")``.
``kefu_clock``
    ``kefu_clock.advance(hours=5)``, ``kefu_clock.move_to(...)``.
"""
from __future__ import annotations

import pytest

from service.testing.database import (
    TEST_SETTINGS,
    Reference,
    TestDatabases,
    built_app,
    database_url_from_environment,
)


def pytest_configure(config):
    config.addinivalue_line("markers", "kefu_settings(**settings): settings of this test's kefu app "
                                       "(the closest marker wins, key by key)")


def pytest_report_header(config):
    url = database_url_from_environment()
    return f"kefu test database: {'PostgreSQL ' + url if url else 'SQLite'}"


# --------------------------------------------------------------------------- the database


@pytest.fixture(scope="session")
def kefu_reference_data() -> Reference:
    """What every test database starts with (``service.testing.database.Reference``).
    Override this session fixture in your ``conftest.py`` to change it."""
    return Reference()


@pytest.fixture(scope="session")
def kefu_base_settings() -> dict:
    """Settings of every app of the run, the migrating one included (e.g. a
    setting your plugin requires). Override it in your ``conftest.py``."""
    return {}


@pytest.fixture(scope="session")
def kefu_test_database(tmp_path_factory, kefu_reference_data, kefu_base_settings):
    """The run's migrated and seeded database (``TestDatabases``)."""
    databases = TestDatabases(tmp_path_factory.mktemp("kefu-db"), kefu_reference_data,
                              database_url_from_environment())
    try:
        yield databases.prepare(kefu_base_settings)
    finally:
        databases.close()


@pytest.fixture
def kefu_database_url(kefu_test_database, tmp_path) -> str:
    """The URL of a database for this test alone, as migrated and seeded."""
    return kefu_test_database.fresh(tmp_path)


# --------------------------------------------------------------------------- the app


@pytest.fixture
def kefu_settings(request) -> dict:
    """This test's settings, from its ``kefu_settings`` markers (closest wins)."""
    merged: dict = {}
    for marker in reversed(list(request.node.iter_markers("kefu_settings"))):
        merged.update(*marker.args, **marker.kwargs)
    return merged


@pytest.fixture
def kefu_app_config(kefu_database_url, tmp_path, kefu_base_settings, kefu_settings) -> dict:
    """Every setting ``kefu_app`` is built with."""
    return {**TEST_SETTINGS, **kefu_base_settings, "DATABASE_URL": kefu_database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"), "ATTACHMENT_DIR": str(tmp_path / "attachments"),
            "MAIL_LOG_DIR": str(tmp_path / "mail"), **kefu_settings}


@pytest.fixture
def kefu_app(kefu_app_config, monkeypatch):
    """A kefu app with every installed plugin, inside its app context."""
    # The test's instance folder, not an operator's.
    monkeypatch.delenv("KEFU_INSTANCE_PATH", raising=False)
    with built_app(kefu_app_config) as app:
        yield app


@pytest.fixture
def kefu_client(kefu_app):
    """A test client of ``kefu_app`` (``kefu_client.get("/api/v1/tickets", headers=kefu_staff.headers())``)."""
    return kefu_app.test_client()


@pytest.fixture
def kefu_staff(kefu_app, kefu_reference_data):
    """Staff, tokens and console clients (``service.testing.people.StaffDesk``)."""
    from service.testing.people import StaffDesk

    return StaffDesk(kefu_app, kefu_reference_data)


@pytest.fixture
def kefu_tickets(kefu_app, kefu_staff):
    """Customers, tickets in any status, messages (``service.testing.factories.TicketFactory``)."""
    from service.testing.factories import TicketFactory

    return TicketFactory(kefu_staff)


@pytest.fixture
def kefu_plugins(kefu_app):
    """Register plugin objects for this test (``service.testing.plugins.PluginRegistrar``)."""
    from service.testing.plugins import PluginRegistrar

    registrar = PluginRegistrar(kefu_app)
    try:
        yield registrar
    finally:
        registrar.restore()


@pytest.fixture
def kefu_jobs(kefu_app):
    """Jobs run in the test: ``kefu_jobs.drain()`` relays the outbox and works
    every queue until nothing is due (RQ over an in-process fakeredis).
    Without this fixture a test's jobs wait in the outbox."""
    from service.jobs.runner import InProcessRunner

    return InProcessRunner(kefu_app).install()


@pytest.fixture
def kefu_mail(kefu_app, kefu_jobs):
    """The mail sent (``service.testing.mailbox.Mailbox``); reading it runs the due jobs first."""
    from service.testing.mailbox import Mailbox

    return Mailbox(kefu_app.config["MAIL_LOG_DIR"], kefu_jobs)


@pytest.fixture
def kefu_clock():
    """A settable clock for the whole process (``service.testing.clock.Clock``)."""
    from service.testing.clock import Clock

    clock = Clock().start()
    try:
        yield clock
    finally:
        clock.stop()
