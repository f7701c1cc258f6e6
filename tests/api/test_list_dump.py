"""Lists read plain rows and dump them with ``FastDump``; both must give exactly
what marshmallow's own dump of the ORM ticket gives, for every kind of ticket."""
from __future__ import annotations

import marshmallow as ma
import pytest
from sqlalchemy import select

from service.api.schemas import CustomerOut, EventOut, PanelOut, TicketOut, TicketPage
from service.domain.workflow import allowed_actions
from service.extensions import db
from service.models import Customer, Ticket, TicketEvent


def marshmallow_dump(schema, obj):
    """``schema``'s dump by marshmallow's own field-by-field path (not FastDump's)."""
    return ma.Schema._serialize(schema, obj)


@pytest.fixture
def varied(client, make_staff, file_ticket, act):
    """Tickets in many shapes: every step, assigned or not, with a remedy,
    tags, a parent, no department; returns their numbers."""
    _, agent = make_staff("agent")
    supervisor_staff, supervisor = make_staff("supervisor")
    numbers = [file_ticket(subject="Plain new ticket")["number"],
               file_ticket(subject="With remedy", remedy={"text": "refund", "amount": "19.90",
                                                          "currency": "CNY"})["number"],
               file_ticket(subject="Inquiry", kind="inquiry", email="li@example.test")["number"]]
    steps = [("confirm", {"department": "logistics"}), ("start", {}),
             ("resolve", {"resolution": "Replaced the part."}), ("close", {})]
    for stop in range(1, len(steps) + 1):
        number = file_ticket(subject=f"Walked {stop} steps")["number"]
        for action, fields in steps[:stop]:
            act(agent, number, action, **fields)
        numbers.append(number)
    cancelled = file_ticket(subject="Cancelled one")["number"]
    act(supervisor, cancelled, "cancel", reason="Customer withdrew it.")
    numbers.append(cancelled)
    assigned = numbers[4]
    version = client.get(f"/api/v1/tickets/{assigned}", headers=agent).json["version"]
    response = client.patch(f"/api/v1/tickets/{assigned}", headers=agent,
                            json={"version": version, "assignee": supervisor_staff.id, "tags": ["vip", "回访"]})
    assert response.status_code == 200, response.json
    child = db.session.scalar(select(Ticket).where(Ticket.number == numbers[0]))
    child.parent_id = db.session.scalar(select(Ticket.id).where(Ticket.number == numbers[-1]))
    db.session.commit()
    return numbers, agent


def test_a_listed_ticket_dumps_as_marshmallow_dumps_the_orm_ticket(client, varied):
    numbers, agent = varied
    response = client.get("/api/v1/tickets", headers=agent, query_string={"limit": 100})
    assert response.status_code == 200
    listed = {item["number"]: item for item in response.json["items"]}
    assert set(numbers) <= set(listed)
    db.session.expire_all()
    schema = TicketOut()
    shapes = set()
    for number in numbers:
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        ticket.allowed_actions = allowed_actions(ticket.status, "staff", "agent")
        expected = marshmallow_dump(schema, ticket)
        assert listed[number] == expected, number
        assert schema.dump(ticket) == expected, number
        shapes.add((ticket.status, ticket.assignee is None, ticket.remedy_text is None,
                    ticket.parent_id is None, bool(ticket.tags), ticket.department is None))
    # Not vacuous: assigned and not, with and without remedy, parent, tags, department.
    for position in range(1, 6):
        assert {shape[position] for shape in shapes} == {True, False}, position
    assert len({shape[0] for shape in shapes}) >= 6


def test_a_single_ticket_reads_as_it_lists(client, varied):
    numbers, agent = varied
    listed = {item["number"]: item for item in
              client.get("/api/v1/tickets", headers=agent, query_string={"limit": 100}).json["items"]}
    for number in numbers:
        shown = client.get(f"/api/v1/tickets/{number}", headers=agent).json
        assert shown == listed[number], number


def test_other_output_schemas_dump_as_marshmallow_does(client, varied):
    numbers, agent = varied
    customers = db.session.scalars(select(Customer)).all()
    events = db.session.scalars(select(TicketEvent)).all()
    assert customers and len(events) > len(numbers)
    for customer in customers:
        customer.tier, customer.satisfaction_class = "gold", None
        assert CustomerOut().dump(customer) == marshmallow_dump(CustomerOut(), customer)
    for event in events:
        assert EventOut().dump(event) == marshmallow_dump(EventOut(), event)
    # A dict (a page), and the missing-key rule: marshmallow leaves a key out
    # when neither the dict nor its attributes have it.
    page = {"items": [], "next_cursor": None}
    assert TicketPage().dump(page) == marshmallow_dump(TicketPage(), page) == {"items": [], "next_cursor": None}
    assert CustomerOut(only=("id", "name")).dump({"id": 3}) == marshmallow_dump(CustomerOut(only=("id", "name")),
                                                                                 {"id": 3}) == {"id": 3}
    # ... and reads a key the dict lacks as the dict's attribute.
    holder = type("Holder", (dict,), {"name": "from the attribute"})(id=3)
    assert CustomerOut(only=("id", "name")).dump(holder) == marshmallow_dump(CustomerOut(only=("id", "name")),
                                                                              holder) == {"id": 3,
                                                                                          "name": "from the attribute"}
    # Nested FastDump schemas are dumped by the nested schema directly: a
    # None item stays None, and a nested schema's own nested lists (a
    # panel's rows) follow the same rules.
    assert TicketPage().dump({"items": [None], "next_cursor": "x"}) == marshmallow_dump(
        TicketPage(), {"items": [None], "next_cursor": "x"}) == {"items": [None], "next_cursor": "x"}
    panel = {"key": "sla", "plugin": "tier_sla", "title": "SLA", "data": {"a": 1}, "failed": False,
             "rows": [{"label": "Due", "value": 3, "kind": "time", "url": None, "items": ["x", "y"]}, None,
                      {"label": "Tier", "value": None, "kind": "badge", "items": []}]}
    assert PanelOut().dump(panel) == marshmallow_dump(PanelOut(), panel)
    assert PanelOut().dump(panel)["rows"][1] is None and PanelOut().dump({**panel, "rows": None})["rows"] is None
