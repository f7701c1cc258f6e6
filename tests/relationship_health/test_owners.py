"""The account-owner API (roles, 404, 422 naming staff_id), the notices
(only the owner's, read marks), the owner row in the ticket panel, a
complaint from an at-risk key customer opening at a raised priority, and
one open care ticket under a second level change. SQLite and PostgreSQL."""
from __future__ import annotations

from careparts import care_tickets
from healthparts import customer, recompute, sale, sales, ticket

from plugins.relationship_health.care import care_job
from service.extensions import db


def test_owner_api_roles_and_errors(client, make_staff):
    cid = customer("Big Buyer", email="big@example.test")
    agent, agent_headers = make_staff("agent")
    sup, supervisor = make_staff("supervisor")
    _admin, admin_headers = make_staff("admin")
    finance, _ = make_staff("finance")
    url = f"/api/v1/customers/{cid}/owner"

    assert client.get(url).status_code == 401
    assert client.put(url, json={"staff_id": agent.id}).status_code == 401
    assert client.put(url, headers=agent_headers, json={"staff_id": agent.id}).status_code == 403
    assert client.get(url, headers=agent_headers).json == {"customer_id": cid, "owner": None, "assigned_at": None}

    made = client.put(url, headers=supervisor, json={"staff_id": agent.id})
    assert made.status_code == 200 and made.json["owner"]["id"] == agent.id
    assert client.get(url, headers=agent_headers).json["owner"]["name"] == agent.name
    # A supervisor can own too; an admin (or finance) is not a customer's owner.
    assert client.put(url, headers=admin_headers, json={"staff_id": sup.id}).json["owner"]["id"] == sup.id
    for staff_id, reason in ((finance.id, "not a finance"), (999_999, "no active staff")):
        refused = client.put(url, headers=supervisor, json={"staff_id": staff_id})
        assert refused.status_code == 422 and reason in str(refused.json["error"]["fields"]["staff_id"])
    agent.active = False
    db.session.commit()
    refused = client.put(url, headers=supervisor, json={"staff_id": agent.id})
    assert refused.status_code == 422 and "staff_id" in refused.json["error"]["fields"]
    for body in ({}, {"staff_id": "seven"}, {"staff_id": 0}):
        bad = client.put(url, headers=supervisor, json=body)
        assert bad.status_code == 422 and "staff_id" in str(bad.json["error"]["fields"]), body
    assert client.put("/api/v1/customers/999999/owner", headers=supervisor, json={"staff_id": sup.id}).status_code \
        == 404
    assert client.get("/api/v1/customers/999999/owner", headers=supervisor).status_code == 404
    cleared = client.put(url, headers=supervisor, json={"staff_id": None})
    assert cleared.status_code == 200 and cleared.json["owner"] is None


def test_owners_hear_of_new_tickets_in_their_language_and_only_theirs(client, kefu_mail, make_staff, file_ticket):
    owner, owner_headers = make_staff("agent")
    other, other_headers = make_staff("agent")
    _s, supervisor = make_staff("supervisor")
    owner.language = "zh_CN"
    db.session.commit()
    filed = file_ticket(email="wang@example.test")
    cid = client.get(f"/api/v1/tickets/{filed['number']}", headers=supervisor).json["customer"]["id"]
    assert client.put(f"/api/v1/customers/{cid}/owner", headers=supervisor,
                      json={"staff_id": owner.id}).status_code == 200
    second = file_ticket(email="wang@example.test", subject="Still not delivered")

    [notice] = client.get("/api/v1/account-notices", headers=owner_headers).json["items"]
    assert notice["kind"] == "ticket_created" and notice["ticket"] == second["number"]
    assert "Still not delivered" in notice["text"] and notice["read_at"] is None
    zh = client.get("/api/v1/account-notices", headers={**owner_headers, "Accept-Language": "zh-CN"}).json
    assert zh["items"][0]["text"] != notice["text"] and "Still not delivered" in zh["items"][0]["text"]
    [mail] = kefu_mail.find(to=owner.email, notice="account_notice")
    assert mail.ticket == second["number"] and "您好" in mail.text  # the owner's language
    # Nobody else sees it or marks it.
    assert client.get("/api/v1/account-notices", headers=other_headers).json["items"] == []
    assert client.post(f"/api/v1/account-notices/{notice['id']}/read", headers=other_headers).status_code == 404
    read = client.post(f"/api/v1/account-notices/{notice['id']}/read", headers=owner_headers)
    assert read.status_code == 200 and read.json["read_at"]
    assert client.get("/api/v1/account-notices", headers=owner_headers,
                      query_string={"unread": "true"}).json["items"] == []
    # The ticket page's panel shows the owner.
    panels = client.get(f"/api/v1/tickets/{second['number']}", headers=owner_headers,
                        query_string={"panels": "true"}).json["panels"]
    [panel] = [p for p in panels if p["key"] == "account_owner"]
    assert panel["rows"][0]["value"] == owner.name


def _lapsed_key_customer(client, supervisor, email="key@example.test") -> int:
    cid = customer("Key Account", email=email)
    sales(cid, [150 + 30 * i for i in range(7)])  # recency 5 -> 30, revenue fell 100 % -> 20: at risk
    override = client.put(f"/api/v1/customers/{cid}/tier", headers=supervisor,
                          json={"tier": "vip", "reason": "Strategic account"})
    assert override.status_code == 200, override.json
    return cid


def test_a_complaint_from_an_at_risk_key_customer_opens_urgent_saying_why(client, make_staff, file_ticket):
    _s, supervisor = make_staff("supervisor")
    cid = _lapsed_key_customer(client, supervisor)
    plain = customer("Small Shop", email="small@example.test")
    sales(plain, [150 + 30 * i for i in range(7)])  # as much at risk, but no key account
    recompute()

    raised = file_ticket(email="key@example.test")
    shown = client.get(f"/api/v1/tickets/{raised['number']}", headers=supervisor).json
    assert shown["customer"]["id"] == cid and shown["priority"] == "urgent"
    notes = client.get(f"/api/v1/tickets/{raised['number']}/messages", headers=supervisor).json
    bodies = [m["body"] for m in (notes["items"] if isinstance(notes, dict) else notes)]
    assert any("Priority raised to Urgent" in b and "tier vip" in b and "score 50" in b for b in bodies), bodies
    assert file_ticket(email="small@example.test")["number"]
    small = client.get("/api/v1/tickets", headers=supervisor, query_string={"customer": plain}).json["items"]
    assert [t["priority"] for t in small] == ["normal"]
    # An inquiry is not raised.
    inquiry = file_ticket(email="key@example.test", kind="inquiry")
    assert client.get(f"/api/v1/tickets/{inquiry['number']}", headers=supervisor).json["priority"] == "normal"


def test_one_open_care_ticket_under_a_second_change_to_at_risk(client, kefu_jobs, make_staff):
    _s, supervisor = make_staff("supervisor")
    cid = _lapsed_key_customer(client, supervisor)
    recompute()  # healthy -> at risk
    kefu_jobs.drain()
    [care] = care_tickets(cid)
    assert care.assignee_id is None and care.department.code == "after_sales"  # no owner: the queue

    sale(cid, 0)  # bought again today: healthy
    recompute()
    # Returns, two complaints, both past their SLA: at risk again (15 + 20 + 15).
    sale(cid, 0, type_="return")
    ticket(cid, days_ago=1, resolution_due_days=-1)
    ticket(cid, days_ago=2, resolution_due_days=-1)
    recompute()
    from healthparts import changes

    assert [c[2] for c in changes(cid)] == ["at_risk", "healthy", "at_risk"]
    kefu_jobs.drain()
    assert [t.id for t in care_tickets(cid)] == [care.id]
    assert care_job(cid) == "a care ticket is open"


def test_care_tickets_are_for_key_customers_only(client, kefu_jobs, make_staff):
    cid = customer("Small Shop", email="small@example.test")
    sales(cid, [150 + 30 * i for i in range(7)])
    recompute()
    kefu_jobs.drain()
    assert care_tickets(cid) == []
    assert care_job(cid) == "not a key customer"
