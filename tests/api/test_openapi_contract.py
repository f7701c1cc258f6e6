"""The API keeps the promises of its own OpenAPI document.

schemathesis generates requests (valid and invalid) for every operation in
``/api/v1/openapi.json`` and sends them in-process to an app on a fresh test
database, authenticated as an admin, with seeded departments, a customer,
tickets in several statuses, a note and an attachment per ticket. Path parameters are
drawn either freely or from the seeded rows, so that requests reach real
tickets, customers, tokens and attachments, not only 404s.

Every response must be free of server errors (no 5xx), use a documented
status code and content type, match the documented response schema, and
not be a 429: the rate limits are lifted (``RATELIMIT_ENABLED``), so the
public operations' logic is reached.
This is what ``make test`` runs as the API contract test.
"""
from __future__ import annotations

import io
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from service import create_app
from service.extensions import db
from service.models import Ticket

load_all_checks()
from schemathesis.checks import not_a_server_error  # noqa: E402  (registered by load_all_checks)


@schemathesis.check
def reaches_the_logic(ctx, response, case):
    """A 429 means the request never reached the operation's logic: with the
    limits lifted (``RATELIMIT_ENABLED`` off below) there must be none."""
    if response.status_code == 429:
        raise AssertionError(f"rate limited: {case.method} {case.path}")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, reaches_the_logic]


@pytest.fixture
def overrides():
    """Every rate limit lifted, so that the public operations' logic is
    exercised rather than their limiter (a setting, as a deployment has)."""
    return {"RATELIMIT_ENABLED": False}


def _load_schema():
    """The OpenAPI document, read from an app that is never given a real database."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_app = create_app({"TESTING": True, "SECRET_KEY": "spec-only",
                               "DATABASE_URL": f"sqlite:///{tmp}/spec.db", "INSTANCE_PATH": f"{tmp}/instance"})
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", spec_app)
        with spec_app.app_context():
            db.engine.dispose()
    schema.app = None  # every test calls its own app, on its own database
    return schema


schema = _load_schema()

# Seeded rows the generated path parameters may be replaced with: one dict per
# seeded ticket (number, token, one of its attachments, a customer id, the
# resolved ticket's open survey link). Filled
# by the ``seeded`` fixture before each test, read when a case is drawn.
SEED: list[dict] = []
SEEDED_NAMES = {"number", "token", "attachment_id", "customer_id", "survey_token", "macro_id"}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated path parameters, or swap in a seeded row's (chosen by the draw)."""
    names = {p.name for p in context.operation.path_parameters} & SEEDED_NAMES
    if not names:
        return st.just(path_parameters)

    def use_seeded(pick):
        params = dict(path_parameters or {})
        if SEED:
            row = SEED[pick % len(SEED)]
            params.update({name: row[name] for name in names})
        return params

    return st.one_of(st.just(path_parameters), st.integers(0, 50).map(use_seeded))


# Known-good values for body fields that name rows; see ``flatmap_case``.
KNOWN = {"department": "logistics", "category": "other"}


@schema.hook
def flatmap_case(context, case):
    """Sometimes send a seeded ticket's current ``version`` and known codes and
    staff ids, so that edits and transitions get past the stale-version and
    unknown-code checks and answer 200 as well."""
    number = (case.path_parameters or {}).get("number")
    if not (isinstance(case.body, dict) and "version" in case.body and isinstance(number, str)):
        return st.just(case)

    def with_current_version(_):
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is not None:
            body = {**case.body, "version": ticket.version}
            body.update({k: v for k, v in KNOWN.items() if isinstance(body.get(k), str)})
            if isinstance(body.get("assignee"), int) and SEED:
                body["assignee"] = SEED[0]["staff_id"]
            case.body = body
        return case

    return st.one_of(st.just(case), st.just(None).map(with_current_version))


@pytest.fixture
def seeded(app, client, admin, make_staff, file_ticket, act):
    """Rows for the generated requests to find; fills ``SEED``."""
    agent_staff, agent = make_staff("agent")
    created = client.post("/api/v1/customers", headers=admin,
                          json={"name": "Acme Ltd", "kind": "company", "email": "buyer@acme.test",
                                "external_ref": "ACME-1"})
    assert created.status_code == 201, created.json
    spare = client.post("/api/v1/customers", headers=admin, json={"name": "No Tickets Yet"})
    assert spare.status_code == 201, spare.json
    tickets = [file_ticket(subject=f"Seeded complaint {i}", remedy={"text": "refund", "amount": "19.90",
                                                                      "currency": "CNY"} if i == 0 else None)
               for i in range(5)]
    numbers = [t["number"] for t in tickets]
    for number in numbers[1:]:
        act(agent, number, "confirm", department="logistics")
    for number in numbers[2:]:
        act(agent, number, "start")
    act(agent, numbers[3], "resolve", resolution="Replaced the part.")
    act(agent, numbers[4], "wait")
    note = client.post(f"/api/v1/tickets/{numbers[2]}/messages", headers=agent,
                       json={"body": "internal: check stock", "internal": True})
    assert note.status_code == 201, note.json
    # The resolved ticket's survey (satisfaction_survey), opened now rather than
    # after SURVEY_DELAY, so that survey requests reach a real survey too.
    from plugins.satisfaction_survey import tokens
    from plugins.satisfaction_survey.models import Survey
    from plugins.satisfaction_survey.surveys import open_now

    survey_id = db.session.scalar(select(Survey.id))
    assert open_now(survey_id)
    survey_token = tokens.token_for(db.session.get(Survey, survey_id))
    # A canned reply shared by everyone (the admin's), with a next step, for the macro operations.
    macro = client.post("/api/v1/macros", headers=admin, json={
        "name": "Seeded reply", "body_en": "Hello {customer_name}, about {ticket_number}.", "scope": "all",
        "set_status": "wait"})
    assert macro.status_code == 201, macro.json
    customer_ids = [created.json["id"], spare.json["id"],
                    client.get(f"/api/v1/tickets/{numbers[0]}", headers=agent).json["customer"]["id"]]
    for i, (number, ticket) in enumerate(zip(numbers, tickets)):
        upload = client.post(f"/api/v1/tickets/{number}/attachments", headers=agent,
                             data={"file": (io.BytesIO(b"receipt %d" % i), f"receipt-{i}.txt", "text/plain")},
                             content_type="multipart/form-data")
        assert upload.status_code == 201, upload.json
        SEED.append({"number": number, "token": ticket["token"], "attachment_id": upload.json["id"],
                     "customer_id": customer_ids[i % len(customer_ids)], "staff_id": agent_staff.id,
                     "survey_token": survey_token, "macro_id": macro.json["id"]})
    yield
    SEED.clear()


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_openapi_document(case, app, admin, seeded):
    case.call_and_validate(app=app, headers=admin, checks=CHECKS)
