"""POST /api/v1/tickets/bulk: one action for many tickets, each through its
own use case (version, workflow, guards); a 207 with each ticket's result."""
from __future__ import annotations

from service import hookimpl


class HoldOne:
    def __init__(self, number):
        self.number = number

    @hookimpl
    def guard_ticket_change(self, ticket, change, actor):
        if ticket.number == self.number:
            return {"code": "audit_hold", "message": "Frozen for the audit."}
        return None


def test_bulk_answers_each_tickets_result(kefu_plugins, client, agent, make_staff, file_ticket):
    a, b, c, d = (file_ticket()["number"] for _ in range(4))
    kefu_plugins.register(HoldOne(b), name="audit_hold")
    client.patch(f"/api/v1/tickets/{c}", headers=agent, json={"priority": "high", "version": 1})
    response = client.post("/api/v1/tickets/bulk", headers=agent, json={
        "action": "confirm", "department": "logistics",
        "tickets": [{"number": n, "version": 1} for n in (a, b, c, "KF-999999")]})
    assert response.status_code == 207
    body = response.json
    assert (body["done"], body["refused"]) == (1, 3)
    results = {r["number"]: r for r in body["results"]}
    assert results[a]["ok"] and results[a]["status"] == 200 and results[a]["error"] is None
    assert results[b]["status"] == 409 and results[b]["error"]["code"] == "audit_hold"
    assert results[b]["error"]["plugin"] == "audit_hold"
    assert results[c]["status"] == 409 and results[c]["error"]["code"] == "stale_version"
    assert results["KF-999999"]["status"] == 404
    assert client.get(f"/api/v1/tickets/{a}", headers=agent).json["status"] == "confirmed"
    assert client.get(f"/api/v1/tickets/{d}", headers=agent).json["status"] == "new"

    # Illegal for one (already confirmed), fine for the other.
    again = client.post("/api/v1/tickets/bulk", headers=agent, json={
        "action": "confirm", "department": "logistics",
        "tickets": [{"number": a, "version": 2}, {"number": d, "version": 1}]}).json
    assert [r["status"] for r in again["results"]] == [409, 200]
    assert again["results"][0]["error"]["code"] == "illegal_transition"

    # The edit's own field is required; an unknown action or no tickets is 422, nothing changes.
    for bad, field in (({"action": "priority", "tickets": [{"number": d, "version": 2}]}, "priority"),
                       ({"action": "explode", "tickets": [{"number": d, "version": 2}]}, "action"),
                       ({"action": "assignee", "assignee": None, "tickets": []}, "tickets")):
        refused = client.post("/api/v1/tickets/bulk", headers=agent, json=bad)
        assert refused.status_code == 422 and field in refused.json["error"]["fields"], refused.json
    unassigned = client.post("/api/v1/tickets/bulk", headers=agent, json={
        "action": "assignee", "assignee": None, "tickets": [{"number": d, "version": 2}]})
    assert unassigned.status_code == 207 and unassigned.json["done"] == 1
    # Finance reads tickets but takes no action; without a token, nobody does.
    body = {"action": "start", "tickets": [{"number": d, "version": 3}]}
    assert client.post("/api/v1/tickets/bulk", headers=make_staff("finance")[1], json=body).status_code == 403
    assert client.post("/api/v1/tickets/bulk", json=body).status_code == 401
