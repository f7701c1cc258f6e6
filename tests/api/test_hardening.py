"""Hostile and careless input, found by trying kefu as an attacker would
(issue "Hardening"): each test names the row of the issue it covers.

Every refusal is in the one error shape (``assert_error``) and writes nothing.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from service.extensions import db
from tests.api.test_errors_and_security import PUBLIC_BODY, assert_error, count

# --- 1: JSON nested ~500 levels deep -------------------------------------------------------------

DEEP = "[" * 500 + "]" * 500


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/public/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/public/surveys/nope"),
])
def test_deeply_nested_json_is_400_on_any_api_url(client, agent, method, path):
    response = getattr(client, method)(path, data=DEEP, content_type="application/json", headers=agent)
    error = assert_error(response, 400, "bad_request")
    assert "nested" in error["message"]
    assert count("tickets") == 0


def test_nesting_below_the_limit_is_read_and_refused_by_the_schema_by_field(client):
    nested = {**PUBLIC_BODY, "subject": {"a": [[[[[[[[[[["x"]]]]]]]]]]]}}
    assert_error(client.post("/api/v1/public/tickets", json=nested), 422, "validation_failed", ["subject"])
    assert client.post("/api/v1/public/tickets", json=PUBLIC_BODY).status_code == 201


def test_deeply_nested_json_on_a_page_is_400_too(client):
    response = client.post("/console/login", data=DEEP, content_type="application/json")
    assert response.status_code == 400


# --- 2: lone surrogates ----------------------------------------------------------------------------

SURROGATE = '"\\ud800x"'  # JSON text: a lone high surrogate, legal JSON, not storable UTF-8


def _json_with(body: dict, field: str) -> str:
    """``body`` as JSON text with ``field`` (dotted) holding a lone surrogate."""
    import json

    marker = "@@SURROGATE@@"
    target = body
    *parents, last = field.split(".")
    for name in parents:
        target = target[int(name) if isinstance(target, list) else name]
    target[int(last) if isinstance(target, list) else last] = marker
    return json.dumps(body).replace(f'"{marker}"', SURROGATE)


def test_lone_surrogates_are_422_naming_the_field_on_every_text_writing_endpoint(
        client, agent, admin, supervisor, file_ticket, act):
    filed = file_ticket()
    number, token = filed["number"], filed["token"]
    customer = client.post("/api/v1/customers", headers=admin, json={"name": "Acme"}).json["id"]
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    cases = [
        ("post", "/api/v1/public/tickets", None, dict(PUBLIC_BODY), "subject"),
        ("post", "/api/v1/public/tickets", None, dict(PUBLIC_BODY), "name"),
        ("post", f"/api/v1/public/tickets/{token}/messages", None, {"body": "hi"}, "body"),
        ("post", "/api/v1/tickets", agent, {"customer_id": customer, "subject": "s", "description": "d"},
         "description"),
        ("patch", f"/api/v1/tickets/{number}", agent, {"version": version, "tags": ["ok", "x"]}, "tags.1"),
        ("post", f"/api/v1/tickets/{number}/transitions", agent,
         {"action": "confirm", "version": version, "department": "logistics", "reason": "r"}, "reason"),
        ("post", f"/api/v1/tickets/{number}/messages", agent, {"body": "b"}, "body"),
        ("post", "/api/v1/customers", admin, {"name": "n"}, "name"),
        ("patch", f"/api/v1/customers/{customer}", admin, {"name": "n"}, "name"),
        ("post", "/api/v1/categories", admin, {"code": "c1", "name": "n"}, "name"),
        ("post", "/api/v1/staff", admin, {"email": "x@kefu.test", "name": "n", "role": "agent"}, "name"),
        ("put", f"/api/v1/customers/{customer}/tier", supervisor, {"tier": "vip", "reason": "r"}, "reason"),
    ]
    before = {t: count(t) for t in ("tickets", "messages", "customers", "categories", "staff", "ticket_events")}
    for method, path, headers, body, field in cases:
        response = getattr(client, method)(path, data=_json_with(body, field), content_type="application/json",
                                           headers=headers or {})
        error = assert_error(response, 422, "validation_failed", [field])
        assert "Unicode" in error["fields"][field][0], (path, error)
    assert {t: count(t) for t in before} == before


def test_a_lone_surrogate_in_a_key_or_query_is_refused_too(client, agent):
    response = client.post("/api/v1/public/tickets", content_type="application/json",
                           data='{"subject\\udc00": "x"}')
    assert response.status_code == 422
    assert count("tickets") == 0


# --- 6: text of only white space --------------------------------------------------------------------

@pytest.mark.parametrize("field", ["name", "subject", "description"])
def test_public_text_of_only_spaces_is_refused(client, field):
    error = assert_error(client.post("/api/v1/public/tickets", json={**PUBLIC_BODY, field: " \t\n "}),
                         422, "validation_failed", [field])
    assert error["fields"][field] == ["must not be blank"]
    assert count("tickets") == 0 and count("customers") == 0


def test_staff_text_of_only_spaces_is_refused(client, agent, admin, file_ticket):
    number = file_ticket()["number"]
    assert_error(client.post("/api/v1/customers", headers=admin, json={"name": "   "}),
                 422, "validation_failed", ["name"])
    assert_error(client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "   "}),
                 422, "validation_failed", ["body"])
    assert_error(client.post("/api/v1/tickets", headers=agent,
                             json={"contact": {"name": "  "}, "subject": "s", "description": "d"}),
                 422, "validation_failed", ["contact.name"])
    assert count("customers") == 1 and count("messages") == 0


# --- 7: job ids ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("job_id", ["%C3%A9", "a%20b", "x" * 200, "a.b"])
def test_a_malformed_job_id_is_422_naming_it(client, admin, jobs, job_id):
    assert_error(client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin), 422, "validation_failed",
                 ["job_id"])


def test_a_well_formed_unknown_job_id_is_still_404(client, admin, jobs):
    assert_error(client.post("/api/v1/admin/jobs/kefu-0123abcd/retry", headers=admin), 404, "not_found")


# --- 8: deleting a customer while their tier override is cleared ----------------------------------------

def test_deleting_a_customer_while_their_override_is_cleared_answers_409_or_404(app, client, admin, supervisor):
    """Both requests at once, many times: each answers as if it came first or
    second (204/200, or 404/409 for the loser), never a 500 or a deadlock."""
    outcomes = set()
    for i in range(12):
        customer = client.post("/api/v1/customers", headers=admin, json={"name": f"Key account {i}"}).json["id"]
        pinned = client.put(f"/api/v1/customers/{customer}/tier", headers=supervisor,
                            json={"tier": "vip", "reason": "key account"})
        assert pinned.status_code == 200, pinned.json
        db.session.remove()
        barrier = threading.Barrier(2)

        def run(which):
            c = app.test_client()
            barrier.wait(timeout=30)
            if which == "delete":
                return c.delete(f"/api/v1/customers/{customer}", headers=admin)
            return c.delete(f"/api/v1/customers/{customer}/tier", headers=supervisor)

        with ThreadPoolExecutor(2) as pool:
            deleted, cleared = [f.result(timeout=120) for f in
                                [pool.submit(run, "delete"), pool.submit(run, "clear")]]
        assert deleted.status_code in (204, 409), deleted.json
        assert cleared.status_code in (200, 404, 409), cleared.json
        if cleared.status_code != 200:
            assert_error(cleared, cleared.status_code, cleared.json["error"]["code"])
        outcomes.add((deleted.status_code, cleared.status_code))
        db.session.remove()
        left = db.session.execute(sa.text("SELECT count(*) FROM customer_tiers WHERE customer_id = :c"),
                                  {"c": customer}).scalar()
        gone = client.get(f"/api/v1/customers/{customer}", headers=admin).status_code == 404
        assert gone == (deleted.status_code == 204) and (left == 0 or not gone)


def test_clearing_the_override_of_a_deleted_customer_is_404(client, admin, supervisor):
    customer = client.post("/api/v1/customers", headers=admin, json={"name": "Gone"}).json["id"]
    assert client.put(f"/api/v1/customers/{customer}/tier", headers=supervisor,
                      json={"tier": "vip", "reason": "key account"}).status_code == 200
    assert client.delete(f"/api/v1/customers/{customer}", headers=admin).status_code == 204
    assert_error(client.delete(f"/api/v1/customers/{customer}/tier", headers=supervisor), 404, "not_found")


# --- 11: answers addressed by a token are never cached ------------------------------------------------------

def test_token_addressed_answers_and_pages_are_no_store(client, file_ticket):
    token = file_ticket()["token"]
    for path in (f"/api/v1/public/tickets/{token}", "/api/v1/public/tickets/not-a-token",
                 "/api/v1/public/surveys/not-a-token", "/survey/not-a-token", "/"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    posted = client.post(f"/api/v1/public/tickets/{token}/messages", json={"body": "Any news?"})
    assert posted.status_code == 201 and posted.headers["Cache-Control"] == "no-store"
    # Static files may be cached: they hold nothing private.
    assert client.get("/static/kefu.css").headers.get("Cache-Control") != "no-store"


# --- 14: the OpenAPI document declares each operation's error answers ------------------------------------

def test_every_operation_declares_its_error_answers(client):
    spec = client.get("/api/v1/openapi.json").json
    seen = {"staff": 0, "public": 0}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            declared = set(operation["responses"])
            public = operation.get("security") == []
            expected = {"400", "422"} | ({"429"} if public else {"401", "403"})
            if "{" in path:
                expected.add("404")
            if method != "get":
                expected.add("409")
            if method in ("post", "put", "patch"):
                expected.add("413")
            assert expected <= declared, (method, path, sorted(expected - declared))
            seen["public" if public else "staff"] += 1
    assert seen["staff"] > 50 and seen["public"] >= 5, seen
    limited = spec["components"]["responses"]["RATE_LIMITED"]
    assert "Retry-After" in limited["headers"]


def test_plugins_refuse_blank_text_too(client, admin, supervisor):
    """The builtin plugins' text fields use sdk.filled: blank is refused, naming the field."""
    customer = client.post("/api/v1/customers", headers=admin, json={"name": "Acme"}).json["id"]
    assert_error(client.put(f"/api/v1/customers/{customer}/tier", headers=supervisor,
                            json={"tier": "vip", "reason": "  "}), 422, "validation_failed", ["reason"])
    assert_error(client.post("/api/v1/transactions", headers=supervisor, json={"transactions": [
        {"customer_id": customer, "reference": "   ", "amount": "10.00", "occurred_on": "2026-11-01"}]}),
        422, "validation_failed", ["transactions.0.reference"])
    assert count("customer_tier_changes") == 0 and count("tier_transactions") == 0
