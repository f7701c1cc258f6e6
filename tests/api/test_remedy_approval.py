"""People approve or refuse a remedy that waits for approval
(POST /api/v1/tickets/{number}/remedy), and the finance role."""
from __future__ import annotations

import pytest

from service import hookimpl


class RoutingDecider:
    """Sends a remedy to the approver named in its text ("finance", "supervisor"), approves "ok"."""

    @hookimpl(tryfirst=True)
    def remedy_approval(self, ticket):
        if ticket.remedy_text == "ok":
            return {"decision": "approved", "reason": "fine"}
        return {"decision": "needs_approval", "reason": "ask", "approver": ticket.remedy_text}


@pytest.fixture
def routed(kefu_plugins, file_ticket):
    kefu_plugins.register(RoutingDecider(), name="routing")

    def file(approver):
        return file_ticket(remedy={"text": approver, "amount": "100.00", "currency": "CNY"})["number"]
    return file


@pytest.fixture
def finance(make_staff):
    return make_staff("finance", "finance")


def _decide(client, headers, number, decision="approved", reason="goodwill for a loyal customer", version=None):
    if version is None:
        version = client.get(f"/api/v1/tickets/{number}", headers=headers).json["version"]
    return client.post(f"/api/v1/tickets/{number}/remedy", headers=headers,
                       json={"decision": decision, "reason": reason, "version": version})


def test_a_supervisor_approves_and_the_history_says_who_and_why(client, make_staff, agent, routed):
    number = routed("supervisor")
    sup, headers = make_staff("supervisor")
    before = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (before["remedy"]["decision"], before["remedy"]["approver"]) == ("needs_approval", "supervisor")
    response = _decide(client, headers, number)
    assert response.status_code == 200, response.json
    assert response.json["remedy"]["decision"] == "approved"
    assert response.json["remedy"]["reason"] == "goodwill for a loyal customer"
    assert response.json["version"] == before["version"] + 1
    events = client.get(f"/api/v1/tickets/{number}/history", headers=agent).json
    approved = [e for e in events if e["action"] == "remedy_approved"]
    assert [(e["actor"]["type"], e["actor"]["id"], e["details"]) for e in approved] == [
        ("staff", sup.id, {"decision": "approved", "reason": "goodwill for a loyal customer",
                           "approver": "supervisor"})]


def test_finance_decides_what_is_routed_to_finance(client, finance, supervisor, admin, routed, agent):
    number = routed("finance")
    wrong = _decide(client, supervisor, number)
    assert wrong.status_code == 403 and "finance approval" in wrong.json["error"]["message"]
    assert wrong.json["error"]["fields"] == {"decision": ["needs the finance role"]}
    staff, headers = finance
    refused = _decide(client, headers, number, "refused", "no prepayment received")
    assert refused.status_code == 200 and refused.json["remedy"]["decision"] == "refused"
    event = client.get(f"/api/v1/tickets/{number}/history", headers=agent).json[-1]
    assert (event["action"], event["actor"]["id"], event["details"]["reason"]) == \
        ("remedy_refused", staff.id, "no prepayment received")
    # an admin may decide either kind
    assert _decide(client, admin, routed("finance")).status_code == 200
    assert _decide(client, admin, routed("supervisor")).status_code == 200


def test_role_checks(client, agent, finance, routed):
    number = routed("supervisor")
    assert _decide(client, agent, number).status_code == 403           # agents never decide
    denied = _decide(client, finance[1], number)                        # finance does not take supervisors' calls
    assert denied.status_code == 403 and "supervisor approval" in denied.json["error"]["message"]
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["remedy"]["decision"] == "needs_approval"


def test_409_when_nothing_waits_or_stale(client, supervisor, routed, file_ticket):
    approved = routed("ok")
    conflict = _decide(client, supervisor, approved)
    assert conflict.status_code == 409 and "not waiting for approval" in conflict.json["error"]["message"]
    plain = file_ticket()["number"]
    assert _decide(client, supervisor, plain).status_code == 409
    number = routed("supervisor")
    stale = _decide(client, supervisor, number, version=99)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "stale_version"
    assert _decide(client, supervisor, number).status_code == 200
    again = _decide(client, supervisor, number, "refused", "changed my mind")
    assert again.status_code == 409  # decided once; nothing waits any more


@pytest.mark.parametrize("body, field", [
    ({"decision": "maybe", "reason": "x", "version": 1}, "decision"),
    ({"decision": "approved", "reason": "", "version": 1}, "reason"),
    ({"decision": "approved", "version": 1}, "reason"),
    ({"decision": "approved", "reason": "x"}, "version"),
])
def test_bad_input_is_422_naming_the_field(client, supervisor, routed, body, field):
    number = routed("supervisor")
    response = client.post(f"/api/v1/tickets/{number}/remedy", headers=supervisor, json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_a_blank_reason_is_refused(client, supervisor, routed):
    response = _decide(client, supervisor, routed("supervisor"), reason="   ")
    assert response.status_code == 422 and response.json["error"]["fields"] == {"reason": ["must not be blank"]}


def test_a_decider_naming_an_unknown_approver_falls_back(client, agent, file_ticket, kefu_plugins):
    class Bad:
        @hookimpl(tryfirst=True)
        def remedy_approval(self):
            return {"decision": "needs_approval", "reason": "?", "approver": "ceo"}

    kefu_plugins.register(Bad(), name="bad")
    number = file_ticket(remedy={"text": "refund", "amount": "1.00", "currency": "CNY"})["number"]
    events = client.get(f"/api/v1/tickets/{number}/history", headers=agent).json
    assert any(e["action"] == "plugin_error" and "approver" in e["details"]["error"] for e in events)


def test_finance_reads_but_takes_no_workflow_action(client, finance, agent, file_ticket):
    staff, headers = finance
    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=headers)
    assert ticket.status_code == 200 and ticket.json["allowed_actions"] == []
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert client.get(f"/api/v1/tickets/{number}/history", headers=headers).status_code == 200
    assert client.get(f"/api/v1/customers/{ticket.json['customer']['id']}", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).json["role"] == "finance"
    for method, path, body in (
        ("post", f"/api/v1/tickets/{number}/transitions", {"action": "confirm", "version": 1, "department": "sales"}),
        ("patch", f"/api/v1/tickets/{number}", {"version": 1, "priority": "high"}),
        ("post", f"/api/v1/tickets/{number}/messages", {"body": "hello"}),
        ("post", "/api/v1/tickets", {"subject": "s", "description": "d", "contact": {"email": "a@b.test"}}),
        ("get", "/api/v1/staff", None),
    ):
        response = getattr(client, method)(path, headers=headers, json=body)
        assert response.status_code == 403, (path, response.json)
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["status"] == "new"


def test_has_role_semantics(make_staff):
    roles = {role: make_staff(role)[0] for role in ("agent", "supervisor", "admin", "finance")}
    table = {name: [staff.has_role(r) for r in ("agent", "supervisor", "admin", "finance")]
             for name, staff in roles.items()}
    assert table == {"agent": [True, False, False, False], "supervisor": [True, True, False, False],
                     "admin": [True, True, True, True], "finance": [False, False, False, True]}
