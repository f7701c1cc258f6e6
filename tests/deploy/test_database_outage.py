"""While the database is unreachable, requests answer 503 with Retry-After in
the usual error shape, and nothing is left half-written (issue 15, row 8).

These tests stop and start a PostgreSQL cluster of their own (the suite's
server is shared by every test), so they run in the PostgreSQL pass only.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from deployparts import BODY
from webpages import csrf_of

from service import hookimpl
from service.extensions import db

pytestmark = pytest.mark.postgres_only

EN = "The service is briefly unavailable. Please try again in a moment."
ZH = "服务暂时不可用，请稍后再试。"


@pytest.fixture
def database_url(pg):
    return pg.url


@pytest.fixture
def overrides():
    return {"DB_UNAVAILABLE_RETRY_AFTER": 7}


def rows(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    finally:
        engine.dispose()


def assert_unavailable(response):
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.headers["Retry-After"] == "7"


def test_the_api_answers_503_while_the_database_is_down_and_serves_again_after(client, agent, pg):
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201  # a pooled connection
    pg.stop()
    for answer in (client.post("/api/v1/public/tickets", json=BODY),
                   client.get("/api/v1/tickets", headers=agent)):
        assert_unavailable(answer)
        assert answer.get_json() == {"error": {
            "code": "database_unavailable", "fields": {},
            "message": "the database cannot be reached; retry after the time in Retry-After"}}
    pg.start()
    # Served again as soon as the server is back (the 503s above already
    # dropped the pool's dead connections).
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    assert client.get("/api/v1/tickets", headers=agent).status_code == 200
    assert rows(pg.url, "tickets") == 2


@pytest.mark.parametrize("overrides", [{}, {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 3}}])
def test_the_first_request_after_a_restart_is_served(client, pg):
    """Nothing asked the database while it restarted: the pool still holds
    connections to the old server. Pre-ping (kept when an operator sets
    engine options of their own) replaces them instead of failing on them."""
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    # Served, each request's app context ends and gives its connection back
    # to the pool; the test's app context outlives its requests, so do that here.
    db.session.remove()
    pg.stop()
    pg.start()
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    assert rows(pg.url, "tickets") == 2


def test_pages_say_so_in_the_visitors_language(app, client, staff_login, pg):
    staff_login("agent")  # the console's client is signed in
    english, chinese = app.test_client(), app.test_client()
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    forms = english.get("/"), chinese.get("/", headers=zh)
    tracking = urlsplit(english.post("/api/v1/public/tickets", json=BODY).get_json()["tracking_url"]).path
    pg.stop()

    def complaint(form):
        return {"kind": "complaint", "category": "other", "subject": "Late", "description": "Still waiting.",
                "name": "Wang Fang", "email": "wang@example.test", "csrf_token": csrf_of(form.text)}

    page = english.post("/", data=complaint(forms[0]))
    assert_unavailable(page)
    assert page.mimetype == "text/html" and EN in page.text
    page = chinese.post("/", data=complaint(forms[1]), headers=zh)
    assert_unavailable(page)
    assert 'lang="zh-CN"' in page.text and ZH in page.text
    # The tracking page and the console (whose staff lookup fails first) too.
    for page in (english.get(tracking), client.get("/console/")):
        assert_unavailable(page)
        assert EN in page.text
    pg.start()
    assert client.get("/console/").status_code == 200


class StopsTheServer:
    """An opener that stops the database server in the middle of opening a
    ticket: the customer's row was already sent, the ticket's was not."""

    def __init__(self, cluster):
        self.cluster, self.called = cluster, 0

    @hookimpl
    def opening_ticket(self, draft, actor):
        self.called += 1
        self.cluster.stop()


def test_a_change_cut_off_by_the_outage_leaves_nothing_behind(kefu_plugins, client, pg):
    plugin = StopsTheServer(pg)
    kefu_plugins.register(plugin, name="stops_the_server")
    assert_unavailable(client.post("/api/v1/public/tickets", json=BODY))
    assert plugin.called == 1
    pg.start()
    kefu_plugins.unregister("stops_the_server")
    for table in ("customers", "tickets", "ticket_events", "jobs_outbox"):
        assert rows(pg.url, table) == 0, table
    filed = client.post("/api/v1/public/tickets", json=BODY)
    assert filed.status_code == 201
    assert re.fullmatch(r"KF-\d+", filed.get_json()["number"])
    assert rows(pg.url, "customers") == 1


def test_a_periodic_run_cut_off_by_a_restart_records_its_end_and_frees_its_job(app, pg, monkeypatch):
    """A run that failed because the database went away must not stay
    "running": that would hold its job's lock, and every later period of it,
    until the lease ran out (the reconciliation itself, for a minute or more)."""
    import threading
    import time

    from service.jobs import core, periodic
    from service.jobs import registry as jobs
    from service.models import PeriodicLock, PeriodicRun

    spec = jobs.registry(app)["tickets.autoclose"]
    slot = int(time.time() // spec.interval)
    db.session.add(PeriodicRun(job=spec.name, slot=slot, status="queued", attempts=0))
    db.session.commit()
    restarted = threading.Event()

    def during_a_restart():
        pg.stop()
        # Back a moment later, while the run records how it ended.
        threading.Timer(1.5, lambda: (pg.start(), restarted.set())).start()
        db.session.execute(sa.text("SELECT 1"))

    monkeypatch.setattr(core, "autoclose", during_a_restart)
    with pytest.raises(sa.exc.OperationalError):
        periodic.run(spec.name, slot)
    assert restarted.wait(30)
    db.session.rollback()
    run = db.session.scalar(sa.select(PeriodicRun).where(PeriodicRun.job == spec.name))
    assert run.status == "failed" and run.finished_at is not None
    assert db.session.get(PeriodicLock, spec.name).holder is None  # the next period may run
