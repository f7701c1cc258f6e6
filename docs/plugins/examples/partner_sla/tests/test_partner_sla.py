"""Tests of partner_sla on kefu's pytest fixtures: tickets filed through the
real use cases, read back through the staff API."""
from datetime import datetime, timedelta

import pytest

from service import sdk


def sla(client, staff, ticket):
    """The ticket's SLA as the staff API shows it: policy, and the due times
    as durations from its creation."""
    shown = client.get(f"/api/v1/tickets/{ticket.number}", headers=staff.headers("agent")).json
    created = datetime.fromisoformat(shown["created_at"])
    return (shown["sla"]["policy"], datetime.fromisoformat(shown["sla"]["first_response_due"]) - created,
            datetime.fromisoformat(shown["sla"]["resolution_due"]) - created)


def test_a_partners_ticket_gets_the_partner_targets(kefu_client, kefu_staff, kefu_tickets):
    partner = kefu_tickets.customer(kind="company", name="Hua Tong Appliances", external_ref="P-0042")
    ticket = kefu_tickets.ticket(customer=partner, priority="high")
    assert sla(kefu_client, kefu_staff, ticket) == ("partner:high", timedelta(minutes=30), timedelta(minutes=240))
    history = kefu_client.get(f"/api/v1/tickets/{ticket.number}/history", headers=kefu_staff.headers("agent")).json
    [applied] = [e for e in history if e["action"] == "sla_applied"]
    assert applied["actor"]["name"] == "partner_sla"

    # Workflow steps keep the targets (an SLA plugin may ask again as its clock pauses and resumes).
    for action, values in (("confirm", {"department": "after_sales"}), ("start", {}), ("wait", {})):
        moved = kefu_client.post(f"/api/v1/tickets/{ticket.number}/transitions", headers=kefu_staff.headers("agent"),
                                 json={"action": action, "version": sdk.get_ticket(ticket.number).version, **values})
        assert moved.status_code == 200, moved.json
    assert sla(kefu_client, kefu_staff, ticket) == ("partner:high", timedelta(minutes=30), timedelta(minutes=240))


def test_other_customers_get_what_kefu_decides_without_the_plugin(kefu_client, kefu_staff, kefu_tickets,
                                                                  kefu_plugins):
    others = [kefu_tickets.customer(kind="company", external_ref="C-0042"), kefu_tickets.customer()]
    decided = {sla(kefu_client, kefu_staff, kefu_tickets.ticket(customer=c, priority="high"))[0] for c in others}
    partner = kefu_tickets.customer(kind="company", external_ref="P-0042")
    kefu_plugins.unregister("partner_sla")
    without = sla(kefu_client, kefu_staff, kefu_tickets.ticket(customer=partner, priority="high"))[0]
    assert decided == {without} and not without.startswith("partner:")


def test_a_new_priority_gets_the_partner_targets_of_that_priority(kefu_client, kefu_staff, kefu_tickets):
    ticket = kefu_tickets.ticket(customer=kefu_tickets.customer(external_ref="P-7"))
    assert sla(kefu_client, kefu_staff, ticket)[0] == "partner:normal"
    changed = kefu_client.patch(f"/api/v1/tickets/{ticket.number}", headers=kefu_staff.headers("agent"),
                                json={"priority": "urgent", "version": sdk.get_ticket(ticket.number).version})
    assert changed.status_code == 200, changed.json
    assert sla(kefu_client, kefu_staff, ticket) == ("partner:urgent", timedelta(minutes=15), timedelta(hours=2))


@pytest.mark.kefu_settings(PARTNER_SLA_PREFIXES=["ACME-"], PARTNER_SLA_MINUTES={"normal": [10, 100]})
def test_partners_and_targets_are_settings(kefu_client, kefu_staff, kefu_tickets):
    acme = kefu_tickets.customer(external_ref="ACME-1")
    assert sla(kefu_client, kefu_staff, kefu_tickets.ticket(customer=acme)) == (
        "partner:normal", timedelta(minutes=10), timedelta(minutes=100))
    assert not sla(kefu_client, kefu_staff, kefu_tickets.ticket(customer=acme, priority="low"))[0].startswith("partner")
    old = kefu_tickets.customer(external_ref="P-1")
    assert not sla(kefu_client, kefu_staff, kefu_tickets.ticket(customer=old))[0].startswith("partner")
