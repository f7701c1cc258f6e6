"""Fuzzing the JSON and form entry points with hostile payloads (issue
"Hardening"): Hypothesis builds bodies that nest far too deep, hold text
no database can store (NUL, lone surrogates), run far past every length
limit, are not UTF-8 or not JSON at all, and sends each to an entry point
the customers, agents, admins or a plugin's clients use.

Every payload is one kefu must refuse: the answer is a 4xx (never a 500)
and no table gains, loses or changes a row count.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webpages import csrf_of

from service.extensions import db
from tests.api.test_errors_and_security import PUBLIC_BODY

SURROGATE_MARK = "\x01SURROGATE\x01"  # replaced in the JSON text by a lone surrogate escape
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


def _counts() -> dict[str, int]:
    """Row count of every table (read in a fresh transaction)."""
    db.session.rollback()
    tables = sa.inspect(db.engine).get_table_names()
    return {t: db.session.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


# ---------------------------------------------------------------- hostile values and bodies

def _deep(depth: int, kind: str) -> str:
    """JSON text nesting ``depth`` levels (past every limit kefu has)."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


unstorable_text = st.one_of(
    st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=20), st.text(max_size=20)),
    st.builds(lambda a, b: f"{a}{SURROGATE_MARK}{b}", st.text(max_size=20), st.text(max_size=20)),
)
too_long_text = st.builds(lambda n, ch: ch * n, st.integers(20_001, 300_000), st.sampled_from(["x", "字", " a"]))
hostile_value = st.one_of(
    unstorable_text.map(lambda v: ("value", v)),
    too_long_text.map(lambda v: ("value", v)),
    st.tuples(st.integers(65, 5_000), st.sampled_from(["list", "dict"])).map(lambda d: ("raw", _deep(*d))),
)


def _json_text(body: dict, field: str, hostile) -> str:
    """``body`` as JSON text with ``field`` replaced by the hostile value."""
    kind, value = hostile
    marker = "\x02RAW\x02"
    body = {**body, field: marker if kind == "raw" else value}
    text = json.dumps(body)
    if kind == "raw":
        text = text.replace(json.dumps(marker), value)
    return text.replace(json.dumps(SURROGATE_MARK)[1:-1], "\\ud800")


broken_json = st.one_of(
    st.binary(min_size=1, max_size=200).map(lambda b: b"\xff\xfe\xfa" + b),  # not UTF-8
    st.sampled_from([b'{"subject": "x",', b"{", b"[1, 2", b'{"a": tru}', b"NaN-ish", b'"\\ud800', b"\x00"]),
    st.tuples(st.integers(65, 5_000), st.sampled_from(["list", "dict"])).map(lambda d: _deep(*d).encode()),
)


# ---------------------------------------------------------------- the JSON entry points

@pytest.fixture
def entry_points(client, agent, admin, supervisor, make_staff, file_ticket):
    """``[(method, path, headers, a valid body)]`` over the public, staff,
    admin and plugin APIs, on seeded rows."""
    filed = file_ticket()
    number, token = filed["number"], filed["token"]
    customer = client.post("/api/v1/customers", headers=admin, json={"name": "Acme"}).json["id"]
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    _, finance = make_staff("finance", "finance")
    return [
        ("post", "/api/v1/public/tickets", {}, PUBLIC_BODY),
        ("post", f"/api/v1/public/tickets/{token}/messages", {}, {"body": "Any news?"}),
        ("post", f"/api/v1/public/tickets/{token}/resolution", {}, {"accepted": False, "reason": "No."}),
        ("post", "/api/v1/public/surveys/not-a-token", {}, {"solved": True, "rating": 5, "comment": "ok"}),
        ("post", "/api/v1/tickets", agent, {"customer_id": customer, "subject": "s", "description": "d"}),
        ("patch", f"/api/v1/tickets/{number}", agent, {"version": version, "category": "other"}),
        ("post", f"/api/v1/tickets/{number}/transitions", agent,
         {"action": "confirm", "version": version, "department": "logistics"}),
        ("post", f"/api/v1/tickets/{number}/messages", agent, {"body": "Checking."}),
        ("post", "/api/v1/customers", admin, {"name": "Beta Ltd"}),
        ("patch", f"/api/v1/customers/{customer}", admin, {"name": "Acme Ltd"}),
        ("post", "/api/v1/categories", admin, {"code": "fuzz", "name": "Fuzz"}),
        ("post", "/api/v1/staff", admin, {"email": "new@kefu.test", "name": "New", "role": "agent"}),
        ("put", f"/api/v1/customers/{customer}/tier", supervisor, {"tier": "vip", "reason": "key account"}),
        ("put", f"/api/v1/customers/{customer}/credit/figures/2026Q3", finance, {"figures": {"current_ratio": 1}}),
        ("post", "/api/v1/admin/webhooks", admin, {"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]}),
    ]


@SETTINGS
@given(data=st.data())
def test_hostile_json_is_refused_and_writes_nothing(client, entry_points, data):
    method, path, headers, body = data.draw(st.sampled_from(entry_points), label="entry point")
    if data.draw(st.booleans(), label="broken body"):
        payload = data.draw(broken_json, label="body")
    else:
        field = data.draw(st.sampled_from(sorted(body)), label="field")
        payload = _json_text(body, field, data.draw(hostile_value, label="value")).encode("utf-8")
    before = _counts()
    response = getattr(client, method)(path, data=payload, content_type="application/json", headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json and set(response.json) == {"error"}
    assert _counts() == before


# ---------------------------------------------------------------- the form entry points

@pytest.fixture
def forms(client, app, file_on_form, staff_login):
    """``[(path, a valid form)]`` for the customer's form and tracking page
    and a signed-in agent's ticket page (CSRF tokens included)."""
    number, tracking = file_on_form()
    customer_form = {"kind": "complaint", "category": "other", "subject": "Late", "description": "Waiting.",
                     "name": "Wang Fang", "email": "wang@example.test"}
    token = csrf_of(client.get("/").text)
    staff_login("agent")
    page = client.get(f"/console/tickets/{number}")
    assert page.status_code == 200
    staff_token = csrf_of(page.text)
    return [
        ("/", {**customer_form, "csrf_token": token}),
        (f"{tracking}/reply", {"body": "Any news?", "csrf_token": token}),
        (f"/console/tickets/{number}/messages", {"body": "Checking.", "internal": "1", "csrf_token": staff_token}),
        ("/console/tickets/new", {"channel": "phone", "subject": "Called in", "description": "Fridge hums.",
                                  "name": "Zhao Min", "phone": "+86 139 0000 1234", "remedy_text": "A visit",
                                  "note": "Calm.", "csrf_token": staff_token}),
    ]


def _form_body(form: dict, field: str, value: bytes) -> bytes:
    """``form`` URL-encoded, with ``field``'s value the raw bytes ``value``
    (percent-encoded as a browser would send them)."""
    from urllib.parse import quote_from_bytes, urlencode

    rest = urlencode({k: v for k, v in form.items() if k != field})
    return f"{rest}&{field}={quote_from_bytes(value)}".encode()


hostile_form_value = st.one_of(
    unstorable_text.filter(lambda v: SURROGATE_MARK not in v).map(lambda v: v.encode()),
    too_long_text.map(lambda v: v.encode()),
    # Not UTF-8 at all, in a field no such text can satisfy.
    st.binary(min_size=1, max_size=50).map(lambda b: b"\xff" + b + b"\x00"),
)


@SETTINGS
@given(data=st.data())
def test_hostile_forms_are_refused_and_write_nothing(client, forms, data):
    path, form = data.draw(st.sampled_from(forms), label="form")
    field = data.draw(st.sampled_from(sorted(k for k in form if k != "csrf_token")), label="field")
    body = _form_body(form, field, data.draw(hostile_form_value, label="value"))
    before = _counts()
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    # A console form answers by a redirect to the ticket with the error flashed.
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.status_code >= 400 or "/console/tickets/" in response.headers.get("Location", "")
    assert _counts() == before
