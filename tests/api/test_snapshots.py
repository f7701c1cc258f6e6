"""Per-process snapshot caches: tokens (revocation within AUTH_CACHE_SECONDS) and categories."""
import pytest
from sqlalchemy import event, update

from service.reads import process_cache
from service.extensions import db
from service.models import ApiToken
from service.models.base import utcnow


def _revoke_elsewhere():
    """Revoke every token the way another worker process would: in the database only."""
    db.session.execute(update(ApiToken).values(revoked_at=utcnow()))
    db.session.commit()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(process_cache.time, "monotonic", lambda: now[0])
    return now


def test_a_cached_token_authenticates_without_a_query(app, client, agent):
    assert client.get("/api/v1/me", headers=agent).status_code == 200
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/api/v1/departments", headers=agent).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not any("api_tokens" in s for s in statements), statements


def test_revocation_elsewhere_applies_when_the_cache_entry_expires(app, client, agent, clock):
    assert client.get("/api/v1/me", headers=agent).status_code == 200
    _revoke_elsewhere()
    clock[0] += app.config["AUTH_CACHE_SECONDS"] - 1
    assert client.get("/api/v1/me", headers=agent).status_code == 200  # still trusted here
    clock[0] += 2
    assert client.get("/api/v1/me", headers=agent).status_code == 401


@pytest.mark.parametrize("overrides", [{"AUTH_CACHE_SECONDS": 0}], ids=["cache-off"])
def test_with_the_cache_off_revocation_elsewhere_applies_at_once(app, client, agent):
    assert client.get("/api/v1/me", headers=agent).status_code == 200
    _revoke_elsewhere()
    assert client.get("/api/v1/me", headers=agent).status_code == 401


def test_a_named_category_is_read_once_per_process(app, client, agent):
    body = {"contact": {"email": "c@example.test"}, "subject": "s", "description": "d", "category": "slow_delivery"}
    assert client.post("/api/v1/tickets", headers=agent, json=body).status_code == 201
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        created = client.post("/api/v1/tickets", headers=agent, json=body)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert created.status_code == 201 and created.json["category"] == "slow_delivery"
    assert not any("FROM categories" in s for s in statements), statements


def test_a_new_category_is_usable_at_once_in_the_process_that_made_it(app, client, agent, admin):
    body = {"contact": {"email": "c@example.test"}, "subject": "s", "description": "d", "category": "warranty"}
    assert client.post("/api/v1/tickets", headers=agent, json=body).status_code == 422
    assert client.post("/api/v1/categories", headers=admin,
                       json={"code": "warranty", "name": "Warranty"}).status_code == 201
    created = client.post("/api/v1/tickets", headers=agent, json=body)
    assert created.status_code == 201 and created.json["category"] == "warranty"
