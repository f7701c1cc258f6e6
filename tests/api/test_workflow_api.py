"""The complaint journey through the API: listen -> confirm -> handle -> feed back."""


def test_public_complaint_goes_to_closed_with_a_rejected_first_resolution(client, agent, act, file_ticket):
    filed = file_ticket(remedy={"text": "replace it", "amount": "120.00", "currency": "CNY"})
    number, token = filed["number"], filed["token"]
    assert filed["status"] == "new"

    act(agent, number, "confirm", department="logistics")
    assert client.get(f"/api/v1/public/tickets/{token}").json["step"] == "confirm"
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="We delivered it today.")
    view = client.get(f"/api/v1/public/tickets/{token}").json
    assert view["status"] == "resolved" and view["resolution"] == "We delivered it today."
    assert view["can_answer_resolution"] is True

    rejected = client.post(f"/api/v1/public/tickets/{token}/resolution",
                           json={"accepted": False, "reason": "It arrived broken."})
    assert rejected.status_code == 200 and rejected.json["status"] == "in_progress"
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["reopen_count"] == 1 and ticket["reason"] == "It arrived broken."

    act(agent, number, "resolve", resolution="We replaced the machine.")
    accepted = client.post(f"/api/v1/public/tickets/{token}/resolution", json={"accepted": True})
    assert accepted.json["status"] == "closed"

    history = client.get(f"/api/v1/tickets/{number}/history", headers=agent).json
    steps = [(e["action"], e["from_status"], e["to_status"]) for e in history if e["to_status"]]
    assert steps == [
        ("created", None, "new"), ("confirm", "new", "confirmed"), ("start", "confirmed", "in_progress"),
        ("resolve", "in_progress", "resolved"), ("reopen", "resolved", "in_progress"),
        ("resolve", "in_progress", "resolved"), ("close", "resolved", "closed"),
    ]
    reopen = next(e for e in history if e["action"] == "reopen")
    assert reopen["actor"]["type"] == "customer" and reopen["details"]["reason"] == "It arrived broken."
    assert {"sla_applied", "remedy_decided"} <= {e["action"] for e in history}


def test_leaving_waiting_on_customer_clears_waiting_since(client, agent, act, file_ticket):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="quality")
    act(agent, number, "start")
    waiting = act(agent, number, "wait")
    assert waiting["waiting_since"] is not None
    resolved = act(agent, number, "resolve", resolution="Answered by phone.")
    assert resolved["status"] == "resolved" and resolved["waiting_since"] is None


def test_the_tracking_url_opens_the_ticket(client, file_ticket):
    filed = file_ticket()
    assert filed["tracking_url"].startswith("http://localhost/")
    path = filed["tracking_url"].removeprefix("http://localhost")
    # The link opens the customer's web tracking page for this ticket.
    assert path == f"/track/{filed['token']}"
    view = client.get(path)
    assert view.status_code == 200 and filed["number"] in view.text
