"""The webhooks admin API keeps its OpenAPI document's promises on real rows.

tests/api/test_openapi_contract.py covers every operation, but draws
``endpoint_id`` and ``delivery_id`` freely, so nearly all of its requests
here answer 404. This run swaps in seeded endpoints and deliveries (pending,
delivered with attempts, failed) so that the 200/202/204/409 answers are
checked against the document too.
"""
from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import load_all_checks

from service import create_app
from service.extensions import db

load_all_checks()
from schemathesis.checks import not_a_server_error  # noqa: E402  (registered by load_all_checks)
from schemathesis.specs.openapi.checks import (content_type_conformance,  # noqa: E402
                                               response_schema_conformance, status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _load_schema():
    with tempfile.TemporaryDirectory() as tmp:
        spec_app = create_app({"TESTING": True, "SECRET_KEY": "spec-only",
                               "DATABASE_URL": f"sqlite:///{tmp}/spec.db", "INSTANCE_PATH": f"{tmp}/instance"})
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", spec_app)
        with spec_app.app_context():
            db.engine.dispose()
    schema.app = None
    return schema.include(path_regex="^/api/v1/admin/webhooks")


schema = _load_schema()
SEED: dict[str, list[int]] = {"endpoint_id": [], "delivery_id": []}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated ids, or use a seeded row's."""
    names = {p.name for p in context.operation.path_parameters} & set(SEED)
    if not names:
        return st.just(path_parameters)

    def use_seeded(pick):
        params = dict(path_parameters or {})
        params.update({name: SEED[name][pick % len(SEED[name])] for name in names if SEED[name]})
        return params

    return st.one_of(st.just(path_parameters), st.integers(0, 50).map(use_seeded))


@schema.hook
def flatmap_case(context, case):
    """Sometimes send a valid URL and events, so that creates and edits also
    answer 201/200 (random strings are rarely http(s) URLs or event names)."""
    if not (isinstance(case.body, dict) and {"url", "events"} & set(case.body)):
        return st.just(case)

    def valid(_):
        body = dict(case.body)
        if "url" in body:
            body["url"] = "http://127.0.0.1:9/kefu"
        if "events" in body:
            body["events"] = ["ticket.created", "sla.breached"]
        case.body = body
        return case

    return st.one_of(st.just(case), st.just(None).map(valid))


@pytest.fixture
def seeded(app, jobs, receiver, dead_url, register, file_ticket, deliveries):
    """Endpoints and deliveries in every status for the generated requests; fills ``SEED``."""
    good = register(receiver.url, ["ticket.created", "ticket.transitioned"])
    dead = register(dead_url, ["ticket.created"])
    receiver.answers = [500]
    app.config["JOB_RETRIES"] = 0  # a failed attempt fails the delivery at once
    file_ticket()
    file_ticket()
    jobs.drain()
    file_ticket()  # left pending
    rows = deliveries()
    assert {d.status for d in rows} == {"pending", "delivered", "failed"}
    SEED["endpoint_id"][:] = [good["id"], dead["id"]]
    SEED["delivery_id"][:] = [d.id for d in rows]
    yield
    for ids in SEED.values():
        ids.clear()


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_admin_api_conforms_on_seeded_rows(case, app, admin, seeded):
    case.call_and_validate(app=app, headers=admin, checks=CHECKS)
