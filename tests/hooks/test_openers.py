"""Openers (``opening_ticket``): asked before a new ticket's first save; their
changes and notes are in place before the SLA, the first history event and
the first notifications."""
from __future__ import annotations

from datetime import datetime

import pytest

from service import hookimpl


class VipToUrgent:
    """Raises gold customers' tickets to urgent, tags them and leaves a note."""

    def __init__(self):
        self.drafts = []

    @hookimpl
    def opening_ticket(self, draft, actor):
        self.drafts.append((draft.priority, draft.category, draft.customer_tier, draft.customer.email,
                            draft.channel, actor.type))
        if draft.customer_tier == "gold":
            return {"changes": {"priority": "urgent", "tags": ["vip"]},
                    "notes": ["VIP customer: raised to urgent by the VIP rule."]}
        return None


class Gold:
    @hookimpl
    def customer_tier(self, customer):
        return "gold" if customer.email.endswith("@vip.test") else None


class Seen:
    def __init__(self):
        self.created = []

    @hookimpl
    def ticket_created(self, ticket):
        self.created.append((ticket.priority, list(ticket.tags or [])))


def events(client, headers, number):
    return client.get(f"/api/v1/tickets/{number}/history", headers=headers).json


@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["tier_sla"]}])  # the core's SLA: urgent is 1 h / 8 h
def test_hook_opening_ticket(app, kefu_plugins, client, agent, file_ticket):
    opener, seen = VipToUrgent(), Seen()
    kefu_plugins.register(Gold(), name="gold")
    kefu_plugins.register(opener, name="vip_rule")
    kefu_plugins.register(seen, name="seen")

    filed = file_ticket(email="li@vip.test")
    number = filed["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["priority"] == "urgent" and ticket["tags"] == ["vip"]
    # The opener saw the tier the decider gave, and the draft as filed.
    assert opener.drafts == [("normal", "other", "gold", "li@vip.test", "web", "customer")]
    # The SLA targets are urgent's (core default: 60 and 480 minutes from creation).
    created = datetime.fromisoformat(ticket["created_at"])
    urgent = app.config["DEFAULT_SLA_MINUTES"]["urgent"]
    assert (datetime.fromisoformat(ticket["sla"]["first_response_due"]) - created).total_seconds() == \
        urgent["first_response"] * 60
    assert (datetime.fromisoformat(ticket["sla"]["resolution_due"]) - created).total_seconds() == \
        urgent["resolution"] * 60
    assert ticket["sla"]["policy"] == "default:urgent"
    # The first history event already shows urgent; the change is the plugin's.
    history = events(client, agent, number)
    assert history[0]["action"] == "created" and history[0]["details"]["priority"] == "urgent"
    changed = next(e for e in history if e["action"] == "opening_changes")
    assert changed["actor"]["name"] == "vip_rule"
    assert changed["details"]["changes"] == {"priority": ["normal", "urgent"], "tags": [[], ["vip"]]}
    assert [e["action"] for e in history].index("opening_changes") < [e["action"] for e in history].index(
        "sla_applied")
    # The note is an internal note by the plugin, never shown to the customer.
    notes = client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json
    assert [(m["author_type"], m["author_name"], m["internal"], m["body"]) for m in notes] == [
        ("plugin", "vip_rule", True, "VIP customer: raised to urgent by the VIP rule.")]
    public = client.get(f"/api/v1/public/tickets/{filed['token']}").json
    assert public["messages"] == []
    # The first notification saw the shaped ticket.
    assert seen.created == [("urgent", ["vip"])]

    # Others are untouched.
    other = file_ticket(email="zhang@example.test")["number"]
    assert client.get(f"/api/v1/tickets/{other}", headers=agent).json["priority"] == "normal"


def test_openers_are_asked_in_order_each_seeing_the_last(kefu_plugins, client, agent, file_ticket):
    class First:
        @hookimpl
        def opening_ticket(self, draft):
            return {"changes": {"category": "slow_delivery", "department": "logistics"}}

    class Second:
        seen = []

        @hookimpl
        def opening_ticket(self, draft):
            self.seen.append((draft.category, draft.department))
            return {"changes": {"priority": "high"}}

    kefu_plugins.register(Second(), name="second")
    kefu_plugins.register(First(), name="first")  # pluggy asks the last registered first
    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (ticket["category"], ticket["department"], ticket["priority"]) == ("slow_delivery", "logistics", "high")
    assert Second.seen == [("slow_delivery", "logistics")]


@pytest.mark.parametrize("answer, error", [
    ({"changes": {"category": "no_such_category"}}, "unknown category"),
    ({"changes": {"priority": "asap"}}, "OpeningChanges"),
    ({"notes": ["   "]}, "notes must be non-blank text"),
    ("urgent", "must be a dict"),
])
def test_a_malformed_opening_is_recorded_and_changes_nothing(kefu_plugins, client, agent, file_ticket, answer, error):
    class Malformed:
        @hookimpl
        def opening_ticket(self):
            return answer

    kefu_plugins.register(Malformed(), name="malformed")
    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (ticket["category"], ticket["priority"], ticket["tags"]) == ("other", "normal", [])
    [failure] = [e for e in events(client, agent, number) if e["action"] == "plugin_error"]
    assert failure["actor"]["name"] == "malformed" and failure["details"]["hook"] == "opening_ticket"
    assert error in failure["details"]["error"]


def test_an_opener_that_raises_never_loses_the_ticket(kefu_plugins, client, agent, file_ticket):
    class Broken:
        @hookimpl
        def opening_ticket(self):
            raise RuntimeError("CRM lookup timed out")

    kefu_plugins.register(Broken(), name="crm")
    kefu_plugins.register(VipToUrgent(), name="vip_rule")
    kefu_plugins.register(Gold(), name="gold")
    number = file_ticket(email="li@vip.test")["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["status"] == "new" and ticket["priority"] == "urgent"  # the other opener still applied
    [failure] = [e for e in events(client, agent, number) if e["action"] == "plugin_error"]
    assert (failure["actor"]["name"], failure["details"]["error"]) == ("crm", "RuntimeError: CRM lookup timed out")
