"""Tests of remedy_guard on kefu's pytest fixtures, through the API as staff
and customers use it.

Every ticket filed here with ``REMEDY`` starts with it waiting for a
supervisor's approval: for a customer nobody rated, the builtin
``credit_check`` leaves the ``remedy_approval`` answer to the core default,
which asks a supervisor for any amount above ``DEFAULT_REMEDY_AUTO_APPROVE``
(0 by default). The tests check it rather than assume it.
"""
import pytest

import kefu_remedy_guard
from service import sdk

REMEDY = {"text": "Refund of the delivery fee", "amount_minor": 12000, "currency": "CNY"}


def step(client, headers, number, action, **values):
    """A workflow step through the staff API, at the ticket's current version."""
    return client.post(f"/api/v1/tickets/{number}/transitions", headers=headers,
                       json={"action": action, "version": sdk.get_ticket(number).version, **values})


def decide(client, headers, number, decision):
    """Approve or refuse the ticket's remedy through the staff API."""
    return client.post(f"/api/v1/tickets/{number}/remedy", headers=headers, json={
        "decision": decision, "reason": "Delivery was late.", "version": sdk.get_ticket(number).version})


def replied(tickets, status="in_progress"):
    """A ticket with a pending remedy, in ``status``, answered publicly (as
    agents do before resolving; some plugins insist on it)."""
    ticket = tickets.ticket(status=status, remedy=REMEDY)
    tickets.message(ticket, "We will refund the delivery fee.", by="agent")
    return ticket.number


def test_resolving_waits_for_the_remedys_decision(kefu_client, kefu_staff, kefu_tickets):
    number = replied(kefu_tickets)
    assert sdk.get_ticket(number).remedy_decision == "needs_approval"
    agent = kefu_staff.headers("agent")

    refused = step(kefu_client, agent, number, "resolve", resolution="Refunded the delivery fee.")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "remedy_pending" and refused.json["error"]["plugin"] == "remedy_guard"
    assert "waits for supervisor approval" in refused.json["error"]["message"]
    assert sdk.get_ticket(number).status == "in_progress"
    history = kefu_client.get(f"/api/v1/tickets/{number}/history", headers=agent).json
    assert [(e["actor"]["name"], e["details"]["code"]) for e in history if e["action"] == "change_refused"] == [
        ("remedy_guard", "remedy_pending")]

    assert decide(kefu_client, kefu_staff.headers("supervisor"), number, "approved").status_code == 200
    done = step(kefu_client, agent, number, "resolve", resolution="Refunded the delivery fee.")
    assert done.status_code == 200 and done.json["status"] == "resolved"


def test_a_refused_remedy_is_decided_too(kefu_client, kefu_staff, kefu_tickets):
    number = replied(kefu_tickets)
    assert decide(kefu_client, kefu_staff.headers("supervisor"), number, "refused").status_code == 200
    done = step(kefu_client, kefu_staff.headers("agent"), number, "resolve", resolution="No refund, sorry.")
    assert done.status_code == 200 and done.json["status"] == "resolved"


def test_tickets_without_a_remedy_and_other_steps_are_not_held(kefu_client, kefu_staff, kefu_tickets):
    plain = kefu_tickets.ticket(status="resolved")  # every step through the use cases: none refused
    assert sdk.get_ticket(plain.number).status == "resolved"
    number = replied(kefu_tickets, status="confirmed")
    assert step(kefu_client, kefu_staff.headers("agent"), number, "start").status_code == 200
    cancelled = step(kefu_client, kefu_staff.headers("supervisor"), number, "cancel", reason="Filed twice.")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"


def test_closing_waits_too_also_for_the_customers_accept(kefu_client, kefu_staff, kefu_tickets, kefu_plugins):
    # A ticket resolved while the plugin was switched off (before it was installed, say).
    number = replied(kefu_tickets)
    kefu_plugins.unregister("remedy_guard")
    assert step(kefu_client, kefu_staff.headers("agent"), number, "resolve", resolution="Refund on its way.") \
        .status_code == 200
    kefu_plugins.register(kefu_remedy_guard, "remedy_guard")

    closed = step(kefu_client, kefu_staff.headers("agent"), number, "close")
    assert closed.status_code == 409 and closed.json["error"]["code"] == "remedy_pending"
    token = kefu_tickets.token(sdk.get_ticket(number))
    accepted = kefu_client.post(f"/api/v1/public/tickets/{token}/resolution", json={"accepted": True})
    assert accepted.status_code == 409 and accepted.json["error"]["code"] == "remedy_pending"
    assert sdk.get_ticket(number).status == "resolved"

    assert decide(kefu_client, kefu_staff.headers("supervisor"), number, "approved").status_code == 200
    accepted = kefu_client.post(f"/api/v1/public/tickets/{token}/resolution", json={"accepted": True})
    assert accepted.status_code == 200 and accepted.json["status"] == "closed"


@pytest.mark.kefu_settings(REMEDY_GUARD_ACTIONS=["close"])
def test_the_steps_held_are_a_setting(kefu_client, kefu_staff, kefu_tickets):
    number = replied(kefu_tickets)
    done = step(kefu_client, kefu_staff.headers("agent"), number, "resolve", resolution="Refund on its way.")
    assert done.status_code == 200
    closed = step(kefu_client, kefu_staff.headers("agent"), number, "close")
    assert closed.status_code == 409 and closed.json["error"]["code"] == "remedy_pending"


def test_the_refusal_speaks_the_readers_language(kefu_client, kefu_staff, kefu_tickets):
    number = replied(kefu_tickets)
    refused = step(kefu_client, {**kefu_staff.headers("agent"), "Accept-Language": "zh-CN"}, number, "resolve",
                   resolution="已退款。")
    assert refused.status_code == 409 and "主管审批" in refused.json["error"]["message"]
