"""A plugin whose query meets a database outage did not fail: the database
did. The request answers 503 with nothing written, instead of counting a
plugin failure and going on with a dead transaction."""
from __future__ import annotations

import psycopg
import sqlalchemy as sa
from sqlalchemy import func, select

from service import hookimpl
from service.extensions import db
from service.models import PluginFailure, Ticket


def _outage() -> sa.exc.OperationalError:
    # What SQLAlchemy raises when the server went away under a query.
    return sa.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))


class TierDuringOutage:
    @hookimpl
    def customer_tier(self, customer):
        raise _outage()


class BrokenTier:
    @hookimpl
    def customer_tier(self, customer):
        raise RuntimeError("a bug in the plugin")


BODY = {"name": "Wang Fang", "email": "wang@example.test", "kind": "complaint",
        "subject": "Washing machine not delivered", "description": "Ordered two weeks ago."}


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_deciders_outage_is_the_requests_503_not_a_plugin_failure(kefu_plugins, client):
    kefu_plugins.register(TierDuringOutage(), name="tier_during_outage")
    response = client.post("/api/v1/public/tickets", json=BODY)
    assert response.status_code == 503 and response.json["error"]["code"] == "database_unavailable"
    assert "Retry-After" in response.headers
    assert _count(Ticket) == 0 and _count(PluginFailure) == 0


def test_a_deciders_own_bug_is_still_its_failure_and_the_ticket_is_filed(kefu_plugins, client):
    kefu_plugins.register(BrokenTier(), name="broken_tier")
    assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    assert _count(Ticket) == 1
