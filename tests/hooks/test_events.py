"""``event_published``: kefu's event vocabulary (what webhooks deliver), the
core's events and those plugins publish through a unit of work."""
from __future__ import annotations

from datetime import datetime

from service import hookimpl, sdk


class Events:
    def __init__(self):
        self.seen = []

    @hookimpl
    def event_published(self, event, ticket, data, occurred_at):
        assert isinstance(occurred_at, datetime) and occurred_at.tzinfo is not None
        self.seen.append((event, ticket.number, ticket.status, data))


def test_hook_event_published(kefu_plugins, client, agent, act, file_ticket):
    listener = Events()
    kefu_plugins.register(listener, name="listener")
    filed = file_ticket()
    number = filed["number"]
    act(agent, number, "confirm", department="logistics")
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": version, "priority": "high"})
    client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "On its way.", "internal": False})
    client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "Check stock.", "internal": True})
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="Delivered.")
    client.post(f"/api/v1/public/tickets/{filed['token']}/resolution", json={"accepted": True})

    names = [e[0] for e in listener.seen]
    assert names == ["ticket.created", "ticket.transitioned", "ticket.updated", "message.added",
                     "ticket.transitioned", "ticket.transitioned", "ticket.transitioned", "resolution.answered"]
    assert listener.seen[1][3] == {"action": "confirm", "from": "new", "to": "confirmed"}
    assert listener.seen[2][3] == {"changes": {"priority": ["normal", "high"]}}
    message = listener.seen[3][3]["message"]
    assert message["body"] == "On its way." and message["author_type"] == "staff"  # internal notes never
    assert listener.seen[-1][2] == "closed"
    assert listener.seen[-1][3] == {"accepted": True, "reason": None, "followup": None}

    # A plugin publishes its own event, after its unit of work commits.
    listener.seen.clear()
    ticket = sdk.get_ticket(number)
    with sdk.UnitOfWork() as uow:
        uow.publish("parcel.returned", ticket, {"parcel": "SF123"})
        assert listener.seen == []
        uow.commit()
    assert listener.seen == [("parcel.returned", number, "closed", {"parcel": "SF123"})]

    # A rolled-back change publishes nothing.
    listener.seen.clear()
    with sdk.UnitOfWork() as uow:
        uow.publish("parcel.returned", ticket, {"parcel": "SF124"})
    assert listener.seen == []
