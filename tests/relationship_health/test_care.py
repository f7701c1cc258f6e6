"""Proactive care, end to end with real parts: customers imported with the
``kefu customers import`` command, their sales through tier_sla's
transactions API, tiers and health recomputed, a care ticket for the
lapsed key customer's owner, the owner's notice and mail, the event at a
webhook receiver on loopback, then no second care ticket, and the cool-down
after the care ticket is closed. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

from careparts import care_tickets

from plugins.relationship_health.care import care_job
from service import sdk
from service.cli import main as kefu_cli
from service.extensions import db
from service.models import Customer


def _import_customers(app, tmp_path) -> dict[str, int]:
    rows = ["external_ref,name,kind,email,phone,language",
            "KEY-1,Lapsed Industries,company,buyer@lapsed.test,,en"]
    rows += [f"C-{n},Customer {n},person,c{n}@example.test,,en" for n in range(2, 21)]
    csv = tmp_path / "customers.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(kefu_cli, ["customers", "import", str(csv)])
    assert result.exit_code == 0, result.output
    assert "20 created" in result.output
    return {c.external_ref: c.id for c in db.session.scalars(db.select(Customer))}


def test_a_lapsed_key_customer_gets_one_care_ticket_for_their_owner(app, client, kefu_jobs, kefu_mail, tmp_path,
                                                                    make_staff, hook_receiver):
    owner, owner_headers = make_staff("agent")
    _sup, supervisor = make_staff("supervisor")
    _adm, admin = make_staff("admin")
    ids = _import_customers(app, tmp_path)
    key = ids["KEY-1"]

    hook = client.post("/api/v1/admin/webhooks", headers=admin,
                       json={"url": hook_receiver.url, "events": ["customer.health_changed"]})
    assert hook.status_code == 201, hook.json

    # A customer who bought every 30 days, big, and stopped 150 days ago;
    # a few small buyers who bought lately.
    today = date.today()
    sales = [{"customer_ref": "KEY-1", "date": (today - timedelta(days=150 + 30 * i)).isoformat(),
              "amount": "50000.00", "currency": "CNY", "reference": f"K-{i}"} for i in range(7)]
    sales += [{"customer_ref": f"C-{n}", "date": (today - timedelta(days=10)).isoformat(), "amount": "100.00",
               "currency": "CNY", "reference": f"S-{n}"} for n in range(2, 6)]
    added = client.post("/api/v1/transactions", headers=supervisor, json={"transactions": sales})
    assert added.status_code == 200 and added.json["created"] == 11, added.json
    assert client.post("/api/v1/tiers/recompute", headers=admin).status_code == 200
    # 20 customers: the biggest is in the top 5 % (major in the pyramid), a key account.
    assert client.get(f"/api/v1/customers/{key}/tier", headers=supervisor).json["tier"] == "major"

    named = client.put(f"/api/v1/customers/{key}/owner", headers=supervisor, json={"staff_id": owner.id})
    assert named.status_code == 200 and named.json["owner"]["id"] == owner.id

    recomputed = client.post("/api/v1/health/recompute", headers=admin)
    assert recomputed.status_code == 200 and recomputed.json["changed"] >= 1, recomputed.json
    health = client.get(f"/api/v1/customers/{key}/health", headers=owner_headers).json
    assert health["level"] == "at_risk" and health["score"] == 50
    recency = next(s for s in health["signals"] if s["name"] == "recency")
    # Silence 150 days over a usual interval of 30: 5.
    assert recency["value"] == 5 and recency["points"] == 30
    assert recency["label"] == "Silence since the last purchase" and ": 5 (scores from 2.5" in recency["explanation"]

    kefu_jobs.drain()  # the care job, the mails, the webhook deliveries
    [care] = care_tickets(key)
    assert (care.kind, care.channel, care.assignee_id, care.status) == ("care", "outbound", owner.id, "new")
    assert care.department.code == "after_sales" and care.priority == "high"
    assert care.sla_policy == "relationship_health:care" and care.first_response_due > care.created_at
    [note] = [m for m in sdk.ticket_messages(care) if m.internal]
    assert note.author_type == "plugin" and "Silence since the last purchase: 5, 30 points." in note.body
    assert "Revenue falling: 100, 20 points." in note.body and "recency" not in note.body
    shown = client.get(f"/api/v1/tickets/{care.number}", headers=owner_headers).json
    assert shown["kind"] == "care" and shown["channel"] == "outbound"

    # The owner's notices: the level change and the care ticket; a mail for each.
    notices = client.get("/api/v1/account-notices", headers=owner_headers).json["items"]
    assert [n["kind"] for n in notices] == ["care_opened", "health_changed"]
    assert notices[0]["ticket"] == care.number and "Lapsed Industries" in notices[0]["text"]
    assert "from Healthy to At risk" in notices[1]["text"]
    mails = kefu_mail.find(to=owner.email, notice="account_notice")
    assert len(mails) == 2 and {m.ticket for m in mails} == {care.number, None}
    assert any("Care ticket " + care.number in m.text for m in mails)
    # The customer was not mailed a receipt for a call we make.
    assert kefu_mail.find(to="buyer@lapsed.test") == []

    # The webhook receiver got the level change.
    [event] = [b for b in hook_receiver.bodies if b["data"].get("customer_id") == key]
    assert event["event"] == "customer.health_changed" and event["data"]["to"] == "at_risk"
    assert event["data"]["signals"] == {"recency": 30, "revenue_trend": 20}

    # The next recompute changes nothing: no second care ticket, no new notice.
    again = client.post("/api/v1/health/recompute", headers=admin)
    assert again.status_code == 200 and again.json["changed"] == 0, again.json
    kefu_jobs.drain()
    assert len(care_tickets(key)) == 1
    assert len(client.get("/api/v1/account-notices", headers=owner_headers).json["items"]) == 2
    # Even asked again directly, the job sees the open care ticket.
    assert care_job(key) == "a care ticket is open"

    # The owner calls, resolves and closes it: the cool-down starts.
    number = care.number
    for action, fields in (("confirm", {"department": "after_sales"}), ("start", {}),
                           ("resolve", {"resolution": "Called them: a new buyer; orders resume next month."}),
                           ("close", {})):
        version = client.get(f"/api/v1/tickets/{number}", headers=owner_headers).json["version"]
        done = client.post(f"/api/v1/tickets/{number}/transitions", headers=owner_headers,
                           json={"action": action, "version": version, **fields})
        assert done.status_code == 200, done.json
    assert care_job(key) == "cooling down"
    assert len(care_tickets(key)) == 1
    # After the cool-down (here: none), a customer still at risk gets a new one.
    app.config["HEALTH_CARE_COOLDOWN_DAYS"] = 0
    assert care_job(key).startswith("opened ")
    assert len(care_tickets(key)) == 2
