"""Tests of kefu-acme-vip on kefu's pytest fixtures, one per step of the
tutorial in kefu's docs/plugins.md. (kefu's own suite also installs this
package and checks that a broken hook costs no ticket and no page:
tests/outside/test_outside_plugin.py.)"""
import pytest

from kefu_acme_vip.audit import lines
from service import sdk


def make_vip(client, staff, customer):
    """A supervisor's tier override (the builtin tier_sla plugin's API): the customer is VIP."""
    answer = client.put(f"/api/v1/customers/{customer.id}/tier", headers=staff.headers("supervisor"),
                        json={"tier": "vip", "reason": "key account"})
    assert answer.status_code == 200, answer.json


def resolve(client, headers, number):
    """Resolve through the staff API, at the ticket's current version."""
    return client.post(f"/api/v1/tickets/{number}/transitions", headers=headers, json={
        "action": "resolve", "version": sdk.get_ticket(number).version, "resolution": "A technician fixed it."})


def test_a_vip_customers_ticket_opens_as_urgent_with_a_note(kefu_client, kefu_staff, kefu_tickets):
    vip = kefu_tickets.customer(kind="company", name="Li Na")
    make_vip(kefu_client, kefu_staff, vip)
    ticket = kefu_tickets.ticket(customer=vip)
    assert (ticket.priority, ticket.tags, ticket.customer_tier) == ("urgent", ["vip"], "vip")
    agent = kefu_staff.headers("agent")
    notes = kefu_client.get(f"/api/v1/tickets/{ticket.number}/messages", headers=agent).json
    assert [(n["internal"], n["author_name"]) for n in notes] == [(True, "acme_vip")]
    assert "opened as urgent by the acme VIP rule" in notes[0]["body"]
    history = kefu_client.get(f"/api/v1/tickets/{ticket.number}/history", headers=agent).json
    [changed] = [e for e in history if e["action"] == "opening_changes"]
    assert changed["actor"]["name"] == "acme_vip" and changed["details"]["changes"]["priority"] == ["normal", "urgent"]

    other = kefu_tickets.ticket()  # not VIP: as filed
    assert other.priority == "normal" and not other.tags


@pytest.mark.kefu_settings(ACME_VIP_TIERS=["gold"])
def test_the_vip_tiers_are_a_setting(kefu_client, kefu_staff, kefu_tickets):
    vip = kefu_tickets.customer()
    make_vip(kefu_client, kefu_staff, vip)
    assert kefu_tickets.ticket(customer=vip).priority == "normal"


def test_no_resolve_before_a_public_reply(kefu_client, kefu_staff, kefu_tickets):
    number = kefu_tickets.ticket(status="in_progress").number
    agent = kefu_staff.headers("agent")
    refused = resolve(kefu_client, agent, number)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "no_public_reply" and refused.json["error"]["plugin"] == "acme_vip"

    kefu_tickets.message(sdk.get_ticket(number), "Checked with the warehouse.", internal=True, by="agent")
    assert resolve(kefu_client, agent, number).status_code == 409  # a note is not a reply
    assert sdk.get_ticket(number).status == "in_progress"

    kefu_tickets.message(sdk.get_ticket(number), "A technician comes today.", by="agent")
    done = resolve(kefu_client, agent, number)
    assert done.status_code == 200 and done.json["status"] == "resolved"


def test_every_step_is_audited_and_shown_in_a_panel(kefu_client, kefu_staff, kefu_tickets):
    ticket = kefu_tickets.ticket(status="resolved")
    steps = [(line.action, line.from_status, line.to_status, line.actor) for line in lines(ticket.id)]
    assert steps == [("confirm", "new", "confirmed", "staff:Test Agent"),
                     ("start", "confirmed", "in_progress", "staff:Test Agent"),
                     ("resolve", "in_progress", "resolved", "staff:Test Agent")]

    shown = kefu_client.get(f"/api/v1/tickets/{ticket.number}?panels=true", headers=kefu_staff.headers("agent")).json
    [audit] = [p for p in shown["panels"] if p["plugin"] == "acme_vip"]
    assert audit["title"] == "Audit trail" and audit["failed"] is False
    assert audit["rows"][0]["value"] == 3
    assert [r["label"] for r in audit["rows"][1:]] == ["New → Confirmed", "Confirmed → In progress",
                                                        "In progress → Resolved"]
    page = kefu_staff.console("agent").get(f"/console/tickets/{ticket.number}")
    assert page.status_code == 200 and "Audit trail" in page.text and "In progress → Resolved" in page.text
