"""Customers are served while the rate limiter's Redis is down (issue 15,
row 2): limits fall back to this process's memory, one warning says so, and
counting goes back to Redis once it answers again.

A real redis-server is stopped and started again on the same port (empty,
as after a restart without persistence).
"""
from __future__ import annotations

import logging
import re

import pytest
from deployparts import BODY, counted_in_redis
from jobparts import wait_until
from sqlalchemy import func, select
from webpages import PASSWORD, csrf_of

from service.extensions import db
from service.models import Ticket
from service.usecases.staff import create_staff


def tickets() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Ticket.id)))


@pytest.fixture
def limits():
    """Limit settings for one test (parametrized)."""
    return {}


@pytest.fixture
def overrides(redis_server, limits):
    # A limit tight enough to hit in a few requests; an hour, so that no
    # window ends while the test runs.
    return {"RATELIMIT_STORAGE_URI": redis_server.url, "PUBLIC_RATE_LIMIT": "3 per hour", **limits}


def _warnings(caplog):
    return [r for r in caplog.records if r.name.startswith("kefu") and r.levelno == logging.WARNING
            and "rate limit" in r.getMessage().lower()]


def test_public_complaints_are_served_and_limited_in_memory_while_redis_is_down(client, redis_server, caplog):
    caplog.set_level(logging.INFO, logger="kefu")
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    assert counted_in_redis(redis_server.url) == 1  # the limits are counted in Redis

    redis_server.stop()
    answers = [client.post("/api/v1/public/tickets", json=BODY) for _ in range(4)]
    # The limit still holds, counted in this process's memory: three more, then a 429.
    assert [a.status_code for a in answers] == [201, 201, 201, 429], [a.get_json() for a in answers]
    assert answers[3].get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 3600
    assert tickets() == 4
    # One warning for the outage, not one per request.
    assert len(_warnings(caplog)) == 1, [r.getMessage() for r in caplog.records]

    redis_server.start()  # empty: a restart without persistence
    # Back in Redis once the limiter's next check finds it answering (it
    # checks with a back-off); until then requests are still counted in memory.
    answer = wait_until(lambda: (client.post("/api/v1/public/tickets", json=BODY).status_code == 201),
                        timeout=90, every=0.2, what="the limiter to count in Redis again")
    assert answer
    assert counted_in_redis(redis_server.url) == 1
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    assert counted_in_redis(redis_server.url) == 2
    assert tickets() == 6
    assert len(_warnings(caplog)) == 1
    assert any("recovered" in r.getMessage() for r in caplog.records if r.name.startswith("kefu"))


@pytest.mark.parametrize("limits", [{"PUBLIC_RATE_LIMIT": "100 per hour", "LOGIN_RATE_LIMIT": "100 per hour",
                                     "LOGIN_ACCOUNT_RATE_LIMIT": "3 per hour"}])
def test_sign_in_and_the_customer_pages_are_served_while_redis_is_down(app, client, staff_login, redis_server):
    staff = staff_login("agent")  # signs the client in while Redis is up
    redis_server.stop()
    assert client.get("/console/").status_code == 200

    def sign_in(email, password):
        browser = app.test_client()
        page = browser.get("/console/login")
        assert page.status_code == 200
        return browser.post("/console/login", data={"email": email, "password": password,
                                                    "csrf_token": csrf_of(page.text)})

    # Failed sign-ins count per account (after the response): in memory now.
    assert [sign_in(staff.email, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    assert sign_in(staff.email, PASSWORD).status_code == 429
    other, _token = create_staff("other@kefu.test", "Other", "agent", "after_sales", password=PASSWORD)
    db.session.commit()
    assert sign_in(other.email, PASSWORD).status_code == 302

    customer = app.test_client()
    form = customer.get("/")
    filed = customer.post("/", data={"kind": "complaint", "category": "other", "subject": "Late",
                                     "description": "Still waiting.", "name": "Wang Fang",
                                     "email": "wang@example.test", "csrf_token": csrf_of(form.text)})
    assert filed.status_code == 302, filed.text
    done = customer.get(filed.headers["Location"])
    path = re.search(r'id="tracking-link" href="http://localhost(/track/[^"]+)"', done.text).group(1)
    track = customer.get(path)
    assert track.status_code == 200
    reply = customer.post(f"{path}/reply", data={"body": "Any news?", "csrf_token": csrf_of(track.text)})
    assert reply.status_code == 302
    assert "Your message was sent." in customer.get(reply.headers["Location"]).text


def test_an_app_built_after_an_outage_counts_in_its_own_store(build_app, app_config, redis_server):
    """The limiter object is shared by every app of the process; an app built
    after another one saw its store go away starts on its own store."""
    with build_app({**app_config, "RATELIMIT_STORAGE_URI": redis_server.url}) as first:
        redis_server.stop()
        # The first request finds the store gone, the second has the limiter
        # check it again (and put off its next check).
        for _ in range(2):
            assert first.test_client().post("/api/v1/public/tickets", json=BODY).status_code == 201
    redis_server.start()
    with build_app({**app_config, "RATELIMIT_STORAGE_URI": redis_server.url}) as second:
        assert second.test_client().post("/api/v1/public/tickets", json=BODY).status_code == 201
        assert counted_in_redis(redis_server.url) == 1
