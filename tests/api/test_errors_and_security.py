"""Errors answer in one shape with the right status; staff endpoints need a
token and the right role; customers' tracking tokens open exactly their own
ticket and show nothing private; secrets are stored hashed; a refused request
writes nothing.

Every error is ``{"error": {"code", "message", "fields"}}`` (plus
``current_status``/``allowed_actions`` or ``current_version`` on some 409s).
"""
from __future__ import annotations

import hashlib
import json
import re

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from service.usecases.auth import revoke_token
from service.extensions import db
from service.usecases.tracking import SALT

PUBLIC_BODY = {"name": "Wang Fang", "email": "wang@example.test", "kind": "complaint",
               "subject": "Washing machine not delivered", "description": "Ordered two weeks ago."}


def assert_error(response, status, code, fields=()):
    """The response is ``status`` in the one error shape, naming ``fields``; returns the error."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    assert all(isinstance(v, list) and all(isinstance(r, str) for r in v) for v in error["fields"].values())
    for field in fields:
        assert field in error["fields"], (field, error)
    return error


def bearer(headers) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def rows(table: str) -> list[dict]:
    db.session.rollback()  # see what other connections committed
    return [dict(r._mapping) for r in db.session.execute(sa.text(f"SELECT * FROM {table}"))]


def count(table: str) -> int:
    return len(rows(table))


# --- 400, 404, 405, 413 -----------------------------------------------------------------------

def test_malformed_json_is_400(client, agent):
    response = client.post("/api/v1/tickets", headers=agent, data='{"subject": "x",',
                           content_type="application/json")
    error = assert_error(response, 400, "bad_request")
    assert "malformed" in error["message"]
    public = client.post("/api/v1/public/tickets", data="not json", content_type="application/json")
    assert_error(public, 400, "bad_request")


def test_unknown_things_are_404(client, agent, file_ticket):
    number = file_ticket()["number"]
    assert "KF-999999" in assert_error(client.get("/api/v1/tickets/KF-999999", headers=agent),
                                       404, "not_found")["message"]
    assert_error(client.get("/api/v1/customers/999", headers=agent), 404, "not_found")
    assert_error(client.get(f"/api/v1/tickets/{number}/attachments/999", headers=agent), 404, "not_found")
    assert_error(client.get("/api/v1/no-such-thing", headers=agent), 404, "not_found")
    # Ids beyond the id columns' range are simply not found (not a database overflow).
    assert_error(client.get(f"/api/v1/customers/{2**63}", headers=agent), 404, "not_found")


def test_wrong_method_is_405_in_the_error_shape(client, agent):
    assert_error(client.delete("/api/v1/me", headers=agent), 405, "method_not_allowed")


@pytest.mark.parametrize("overrides", [{"MAX_CONTENT_LENGTH": 2048}], ids=["max-2KiB"])
def test_body_larger_than_max_content_length_is_413(client, agent):
    small = client.post("/api/v1/public/tickets", json={**PUBLIC_BODY, "description": "x" * 1000})
    assert small.status_code == 201, small.json
    big = client.post("/api/v1/public/tickets", json={**PUBLIC_BODY, "description": "x" * 3000})
    assert_error(big, 413, "too_large")
    staff = client.post("/api/v1/tickets", headers=agent,
                        json={"contact": {"email": "a@b.test"}, "subject": "s", "description": "y" * 5000})
    assert_error(staff, 413, "too_large")
    assert count("tickets") == 1


# --- 401 and 403 -------------------------------------------------------------------------------

def test_missing_bad_and_revoked_tokens_are_401(client, make_staff):
    _, headers = make_staff("agent")
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    assert "Bearer" in assert_error(client.get("/api/v1/me"), 401, "unauthorized")["message"]
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}),
                 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer kefu_not-a-real-token"}),
                 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": headers["Authorization"] + "x"}),
                 401, "unauthorized")

    assert revoke_token(bearer(headers)) is True
    assert "revoked" in assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")["message"]
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")


def test_agent_is_403_on_admin_only_endpoints(client, agent, supervisor, admin):
    assert_error(client.get("/api/v1/plugins", headers=agent), 403, "forbidden")
    assert_error(client.get("/api/v1/plugins", headers=supervisor), 403, "forbidden")
    assert client.get("/api/v1/plugins", headers=admin).status_code == 200

    new_staff = {"email": "new@kefu.test", "name": "New", "role": "admin"}
    assert "admin" in assert_error(client.post("/api/v1/staff", headers=agent, json=new_staff),
                                   403, "forbidden")["message"]
    assert_error(client.post("/api/v1/staff", headers=supervisor, json=new_staff), 403, "forbidden")
    assert not [s for s in rows("staff") if s["email"] == "new@kefu.test"]
    assert client.post("/api/v1/staff", headers=admin, json=new_staff).status_code == 201


def test_agent_cannot_cancel_the_workflow_answers_409_with_what_the_agent_may_do(
        client, agent, supervisor, file_ticket):
    """Roles are part of the transition table, so an agent's cancel is an illegal
    transition for them (409), not a 403: the answer says what they may do instead."""
    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert "cancel" not in ticket["allowed_actions"]
    refused = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                          json={"action": "cancel", "version": ticket["version"], "reason": "spam"})
    error = assert_error(refused, 409, "illegal_transition", fields=["action"])
    assert error["current_status"] == "new"
    assert error["allowed_actions"] == ["confirm"]
    assert "cancel" in error["message"]
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["status"] == "new"

    assert "cancel" in client.get(f"/api/v1/tickets/{number}", headers=supervisor).json["allowed_actions"]
    done = client.post(f"/api/v1/tickets/{number}/transitions", headers=supervisor,
                       json={"action": "cancel", "version": ticket["version"], "reason": "spam"})
    assert done.status_code == 200 and done.json["status"] == "cancelled"


def _staff_routes(app):
    """(rule, method, url) for every staff endpoint under /api/v1/ (not public, not the docs)."""
    out = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/public"):
            continue
        if rule.endpoint.startswith(("api-docs.", "api_docs.")) or path in ("/api/v1/openapi.json", "/api/v1/docs"):
            continue
        url = re.sub(r"<int(\([^)]*\))?:[^>]+>", "1", path)
        url = re.sub(r"<[^>]+>", "KF-000001", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method, url))
    return out


def test_every_staff_endpoint_needs_a_token(app, client, file_ticket):
    """A meta-test over the URL map: endpoints added later are covered too."""
    file_ticket()  # so that KF-000001 exists: a 401 must not depend on a 404
    routes = _staff_routes(app)
    assert len(routes) >= 20  # the map was read (tickets, customers, reference data, staff)
    for rule, method, url in routes:
        for headers in ({}, {"Authorization": "Bearer kefu_wrong"}):
            response = client.open(url, method=method, headers=headers, json={})
            assert_error(response, 401, "unauthorized")


ROLE_ORDER = ["agent", "supervisor", "admin"]


def test_every_staff_endpoint_declares_a_role_and_refuses_lower_roles(app, client, make_staff, file_ticket):
    """Each staff view is wrapped by ``require_role``; roles below it answer 403."""
    file_ticket()
    headers = {role: make_staff(role)[1] for role in ROLE_ORDER + ["finance"]}
    seen_roles, finance_reads = set(), 0
    for rule, method, url in _staff_routes(app):
        view = app.view_functions[rule.endpoint]
        handler = getattr(view.view_class, method.lower()) if hasattr(view, "view_class") else view
        min_role = getattr(handler, "kefu_min_role", None)
        assert min_role in ROLE_ORDER, f"{method} {rule.rule} is not wrapped by require_role"
        seen_roles.add(min_role)
        for role in ROLE_ORDER[:ROLE_ORDER.index(min_role)]:
            response = client.open(url, method=method, headers=headers[role], json={})
            assert_error(response, 403, "forbidden")
            assert min_role in response.json["error"]["message"]
        # finance is beside the ladder: refused wherever the view does not name it
        if "finance" in getattr(handler, "kefu_also_roles", ()):
            finance_reads += 1
        else:
            response = client.open(url, method=method, headers=headers["finance"], json={})
            assert_error(response, 403, "forbidden")
    assert seen_roles == set(ROLE_ORDER)
    assert finance_reads >= 10  # tickets, customers, reference data, credit


# --- 409 ------------------------------------------------------------------------------------------

def test_illegal_transition_names_current_status_and_allowed_actions(client, admin, file_ticket):
    number = file_ticket()["number"]
    response = client.post(f"/api/v1/tickets/{number}/transitions", headers=admin,
                           json={"action": "resolve", "version": 1, "resolution": "done"})
    error = assert_error(response, 409, "illegal_transition", fields=["action"])
    assert error["current_status"] == "new"
    assert error["allowed_actions"] == ["confirm", "cancel"]
    assert "resolve" in error["message"] and "new" in error["message"]


def test_stale_version_is_409_with_the_current_version(client, agent, file_ticket):
    number = file_ticket()["number"]
    first = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": 1, "priority": "high"})
    assert first.status_code == 200 and first.json["version"] == 2
    stale = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": 1, "priority": "low"})
    error = assert_error(stale, 409, "stale_version", fields=["version"])
    assert error["current_version"] == 2
    moved = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                        json={"action": "confirm", "version": 1, "department": "sales"})
    assert assert_error(moved, 409, "stale_version")["current_version"] == 2
    after = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (after["priority"], after["status"], after["version"]) == ("high", "new", 2)


# --- 422 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field", [
    ({"priority": "urgent"}, "priority"),                          # unknown field (public side has none)
    ({"kind": "rant"}, "kind"),                                    # not one of the kinds
    ({"email": "not-an-address"}, "email"),
    ({"subject": None}, "subject"),                                # missing
    ({"remedy": {"amount": "120.00"}}, "remedy.currency"),         # an amount needs its currency
    ({"remedy": {"amount": "12", "currency": "yuan"}}, "remedy.currency"),
    ({"email": None, "phone": None}, "email"),                     # no way to reach the customer
    ({"category": "no-such-category"}, "category"),               # a code that is not in the table
], ids=["unknown-field", "bad-enum", "bad-email", "missing-subject", "amount-without-currency",
        "bad-currency", "no-contact", "unknown-category"])
def test_public_filing_422_names_the_field_and_writes_nothing(client, change, field):
    body = {**PUBLIC_BODY, **change}
    body = {k: v for k, v in body.items() if not (v is None and k == "subject")}
    assert_error(client.post("/api/v1/public/tickets", json=body), 422, "validation_failed", fields=[field])
    assert (count("tickets"), count("customers"), count("ticket_events")) == (0, 0, 0)


@pytest.mark.parametrize("change, field", [
    ({"colour": "red"}, "colour"),
    ({"priority": "asap"}, "priority"),
    ({"contact": {"email": "nope"}}, "contact.email"),
    ({"subject": ""}, "subject"),
    ({"remedy": {"amount": 10}}, "remedy.currency"),
    ({"category": "nonsense"}, "category"),
    ({"department": "nonsense"}, "department"),
    ({"customer_id": 12345, "contact": None}, "customer_id"),
    ({"customer_id": 2**40, "contact": None}, "customer_id"),
], ids=["unknown-field", "bad-enum", "bad-email", "empty-subject", "amount-without-currency",
        "unknown-category", "unknown-department", "unknown-customer", "huge-customer-id"])
def test_staff_ticket_creation_422_names_the_field_and_writes_nothing(client, agent, change, field):
    """The customer of a contact is found or created before the codes are checked:
    a refused ticket must roll that customer back too."""
    body = {"contact": {"name": "Zhao Lei", "email": "zhao@example.test"}, "subject": "Broken screen",
            "description": "Cracked on arrival.", **change}
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(client.post("/api/v1/tickets", headers=agent, json=body), 422, "validation_failed",
                 fields=[field])
    assert (count("tickets"), count("customers"), count("ticket_events")) == (0, 0, 0)


def test_nul_characters_are_422_on_every_database(client, agent, file_ticket):
    """PostgreSQL cannot store NUL in text; it is refused up front, naming the field, not a 500."""
    number = file_ticket()["number"]
    assert_error(client.get("/api/v1/tickets?q=a%00b", headers=agent), 422, "validation_failed", ["q"])
    assert_error(client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "a\x00b"}),
                 422, "validation_failed", ["body"])
    assert_error(client.post("/api/v1/public/tickets", json={**PUBLIC_BODY, "name": "Wang\x00"}),
                 422, "validation_failed", ["name"])
    assert_error(client.get("/api/v1/tickets/KF%00", headers=agent), 422, "validation_failed", ["number"])
    assert count("tickets") == 1 and count("messages") == 0


# --- 429 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [{"PUBLIC_RATE_LIMIT": "3 per minute"}], ids=["3-per-minute"])
def test_fourth_public_post_in_a_minute_is_429(client, agent):
    for i in range(3):
        assert client.post("/api/v1/public/tickets", json={**PUBLIC_BODY, "subject": f"try {i}"}).status_code == 201
    error = assert_error(client.post("/api/v1/public/tickets", json=PUBLIC_BODY), 429, "rate_limited")
    assert "3 per 1 minute" in error["message"]
    assert count("tickets") == 3
    # Staff endpoints are not limited by the public limit.
    for _ in range(5):
        assert client.get("/api/v1/tickets", headers=agent).status_code == 200


# --- tracking tokens --------------------------------------------------------------------------------

def test_a_tracking_token_opens_only_its_own_ticket(app, client, file_ticket):
    first = file_ticket(subject="First complaint")
    second = file_ticket(subject="Second complaint", email="other@example.test")
    for filed in (first, second):
        view = client.get(f"/api/v1/public/tickets/{filed['token']}")
        assert view.status_code == 200 and view.json["number"] == filed["number"]
    assert client.get(f"/api/v1/public/tickets/{first['token']}").json["subject"] == "First complaint"

    # A ticket number, a validly signed but unknown secret, a changed signature: not found.
    assert_error(client.get(f"/api/v1/public/tickets/{second['number']}"), 404, "not_found")
    serializer = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT)
    secret = serializer.loads(first["token"])
    forged_other = serializer.dumps(secret[:-1] + ("A" if secret[-1] != "A" else "B"))  # signed, unknown secret
    assert_error(client.get(f"/api/v1/public/tickets/{forged_other}"), 404, "not_found")
    wrong_key = URLSafeSerializer("someone-elses-key", salt=SALT).dumps(secret)
    assert_error(client.get(f"/api/v1/public/tickets/{wrong_key}"), 404, "not_found")
    payload, signature = first["token"].rsplit(".", 1)
    tampered = f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"  # first 6 bits differ
    assert_error(client.get(f"/api/v1/public/tickets/{tampered}"), 404, "not_found")
    assert_error(client.post(f"/api/v1/public/tickets/{tampered}/messages", json={"body": "hi"}),
                 404, "not_found")
    assert_error(client.post(f"/api/v1/public/tickets/{forged_other}/resolution", json={"accepted": True}),
                 404, "not_found")
    assert count("messages") == 0


def test_the_public_view_shows_nothing_private(client, make_staff, file_ticket, act):
    agent_staff, agent = make_staff("agent")
    filed = file_ticket(email="private.person@example.test", phone="+86 138 0000 0000")
    number, token = filed["number"], filed["token"]
    assert client.patch(f"/api/v1/tickets/{number}", headers=agent,
                        json={"version": 1, "assignee": agent_staff.id}).status_code == 200
    act(agent, number, "confirm", department="logistics")
    act(agent, number, "start")
    note = "INTERNAL: customer is on the watch list"
    assert client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": note, "internal": True}).status_code == 201
    assert client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": "We are on it."}).status_code == 201
    act(agent, number, "resolve", resolution="Delivered today.")

    view = client.get(f"/api/v1/public/tickets/{token}")
    text = view.get_data(as_text=True)
    for secret in (note, "watch list", agent_staff.email, agent_staff.name, "private.person@example.test",
                   "138 0000", "Wang Fang"):
        assert secret not in text, secret
    assert [m["author"] for m in view.json["messages"]] == ["staff"]
    assert view.json["resolution"] == "Delivered today."
    assert set(view.json) == {"number", "kind", "category", "subject", "status", "step", "resolution", "reply_by",
                              "can_answer_resolution", "can_reply", "created_at", "resolved_at", "closed_at",
                              "messages", "timeline", "panels"}
    assert [(e["kind"], e["author"], e["body"]) for e in view.json["timeline"]] == [
        ("message", "staff", "We are on it.")]  # no note; the current resolution is shown on its own
    assert view.json["panels"] == []  # no builtin plugin shows a customer panel for this ticket
    # The staff side does see the note, so the check above is not vacuous.
    assert note in client.get(f"/api/v1/tickets/{number}/messages", headers=agent).get_data(as_text=True)


def _all_text(tables=("staff", "api_tokens", "tickets", "customers", "ticket_events", "messages")) -> str:
    return json.dumps({t: rows(t) for t in tables}, default=str)


def test_tokens_and_passwords_are_stored_hashed(client, admin, file_ticket, app):
    created = client.post("/api/v1/staff", headers=admin,
                          json={"email": "liu@kefu.test", "name": "Liu", "role": "agent",
                                "password": "correct horse battery"})
    assert created.status_code == 201
    staff_token = created.json["token"]
    assert "password" not in created.json
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {staff_token}"}).json["email"] == "liu@kefu.test"
    filed = file_ticket()

    stored = _all_text()
    assert staff_token not in stored and "correct horse battery" not in stored
    assert bearer(admin) not in stored and filed["token"] not in stored
    secret = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).loads(filed["token"])
    assert secret not in stored

    token_rows = {r["token_hash"] for r in rows("api_tokens")}
    assert hashlib.sha256(staff_token.encode()).hexdigest() in token_rows
    liu = next(r for r in rows("staff") if r["email"] == "liu@kefu.test")
    assert liu["password_hash"].startswith("$argon2id$")
    ticket = next(r for r in rows("tickets") if f"KF-{r['id']:06d}" == filed["number"])
    assert ticket["tracking_hash"] == hashlib.sha256(secret.encode()).hexdigest()
