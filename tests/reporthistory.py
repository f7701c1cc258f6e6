"""A small known history of tickets for the dashboard's tests (web and
browser), built through the API with the process clock moved."""
from __future__ import annotations


def build(kefu_clock, client, file_ticket, act, make_staff, now: str, tick: bool = False) -> dict:
    """Tickets filed, handled and resolved on known days:

    * 2026-10-12 (previous period): a complaint about slow delivery, resolved
      on 10-14 by agent A (logistics), and an inquiry (still new);
    * 2026-11-03 (week 11-02): two slow-delivery complaints and one
      product-complexity complaint; the first slow-delivery one is resolved
      by A on 11-05, reopened on 11-06 and resolved again on 11-10;
    * 2026-11-17 (week 11-16): a product-complexity complaint resolved by
      agent B (technical) on 11-18, and an inquiry.

    Then the clock is at ``now`` (running on with ``tick``). Returns the
    two agents (``a``, ``b``) and the tickets' numbers.
    """
    a, a_headers = make_staff("agent", department="logistics")
    b, b_headers = make_staff("agent", department="technical")

    def at(when):
        kefu_clock.move_to(when, tick=False)

    def new(kind="complaint", category="slow_delivery"):
        return file_ticket(kind=kind, category=category)["number"]

    def resolve(headers, staff, number, department):
        act(headers, number, "confirm", department=department)
        version = client.get(f"/api/v1/tickets/{number}", headers=headers).json["version"]
        assert client.patch(f"/api/v1/tickets/{number}", headers=headers,
                            json={"version": version, "assignee": staff.id}).status_code == 200
        act(headers, number, "start")
        act(headers, number, "resolve", resolution="Done.")

    at("2026-10-12T09:00:00")
    old = new()
    new(kind="inquiry", category="other")
    at("2026-10-14T09:00:00")
    resolve(a_headers, a, old, "logistics")
    at("2026-11-03T09:00:00")
    first, second = new(), new()
    third = new(category="product_complexity")
    at("2026-11-05T09:00:00")
    resolve(a_headers, a, first, "logistics")
    at("2026-11-06T09:00:00")
    act(a_headers, first, "reopen", reason="Still not delivered.")
    at("2026-11-10T09:00:00")
    act(a_headers, first, "resolve", resolution="Delivered now.")
    at("2026-11-17T09:00:00")
    fourth = new(category="product_complexity")
    fifth = new(kind="inquiry", category="other")
    at("2026-11-18T09:00:00")
    resolve(b_headers, b, fourth, "technical")
    kefu_clock.move_to(now, tick=tick)
    return {"a": a, "b": b, "old": old, "first": first, "second": second, "third": third, "fourth": fourth,
            "fifth": fifth}
