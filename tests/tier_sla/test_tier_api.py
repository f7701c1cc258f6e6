"""The tier API, the customer_tier decider on real tickets, and the commands
``kefu transactions import``, ``kefu tiers recompute`` and ``kefu tiers show``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask.cli import ScriptInfo
from test_tiers import TODAY, add_customers, add_spend, changes

from plugins.tier_sla import tiers
from plugins.tier_sla.models import Transaction
from service.cli import main
from service.extensions import db


@pytest.fixture
def cli(app):
    """``cli(*args)`` runs a ``kefu`` command against the test app; returns click's Result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], obj=ScriptInfo(create_app=lambda: app))


def stored_transactions() -> list[tuple]:
    db.session.rollback()
    return db.session.execute(sa.select(Transaction.customer_id, Transaction.occurred_on, Transaction.amount_minor,
                                        Transaction.margin_minor, Transaction.reference)
                              .order_by(Transaction.id)).all()


def fields_of(response) -> dict:
    return response.json["error"]["fields"]


# --------------------------------------------------------------------------- permissions

def test_roles(client, agent, supervisor, admin):
    cid = add_customers(1)[0]
    body = {"transactions": [{"customer_id": cid, "date": str(TODAY), "amount": "1.00", "currency": "CNY",
                              "reference": "R1"}]}
    assert client.get(f"/api/v1/customers/{cid}/tier").status_code == 401
    assert client.get(f"/api/v1/customers/{cid}/tier", headers=agent).status_code == 200
    for method, url, json in (("post", "/api/v1/transactions", body),
                              ("put", f"/api/v1/customers/{cid}/tier", {"tier": "vip", "reason": "x"}),
                              ("delete", f"/api/v1/customers/{cid}/tier", None),
                              ("get", "/api/v1/reports/tiers", None), ("post", "/api/v1/tiers/recompute", None)):
        response = getattr(client, method)(url, headers=agent, json=json)
        assert response.status_code == 403, (method, url)
        assert response.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/tiers/recompute", headers=supervisor).status_code == 403
    assert client.get("/api/v1/reports/tiers", headers=supervisor).status_code == 200
    assert client.post("/api/v1/tiers/recompute", headers=admin).status_code == 200
    assert client.get("/api/v1/customers/999999/tier", headers=agent).status_code == 404


# --------------------------------------------------------------------------- transactions by API

def test_post_transactions_validates_by_field_and_skips_repeats(client, supervisor):
    a, _ = add_customers(2)
    good = [{"customer_id": a, "date": "2026-03-01", "amount": "1234.5", "margin": "-0.07", "currency": "CNY",
             "reference": "INV-1"},
            {"customer_ref": "C2", "date": "2026-03-02", "amount": "-20", "currency": "CNY", "reference": " CN-7 "}]
    response = client.post("/api/v1/transactions", headers=supervisor, json={"transactions": good})
    assert response.status_code == 200 and response.json == {"created": 2, "skipped": 0}
    assert [t[2:] for t in stored_transactions()] == [(123450, -7, "INV-1"), (-2000, None, "CN-7")]
    again = client.post("/api/v1/transactions", headers=supervisor, json={"transactions": good + good})
    assert again.json == {"created": 0, "skipped": 4}

    base = {"customer_id": a, "date": "2026-03-01", "amount": "1.00", "currency": "CNY", "reference": "X"}
    for change, field in (({"amount": "12.345"}, "amount"), ({"amount": "1e5"}, "amount"),
                          ({"margin": "abc"}, "margin"), ({"date": "2026-02-30"}, "date"),
                          ({"currency": "cny"}, "currency"), ({"currency": "USD"}, "currency"),
                          ({"reference": "   "}, "reference"), ({"customer_ref": "C2"}, "customer_id"),
                          ({"customer_id": 999_999}, "customer_id"), ({"customer_id": 2**31}, "customer_id"),
                          ({"customer_id": None, "customer_ref": "NOPE"}, "customer_ref"), ({"vip": 1}, "vip")):
        items = [dict(base, reference="OK"), {**base, **change}]
        response = client.post("/api/v1/transactions", headers=supervisor, json={"transactions": items})
        assert response.status_code == 422, (change, response.json)
        assert f"transactions.1.{field}" in fields_of(response), (change, response.json)
    for body in ({"transactions": []}, {}, {"transactions": [base] * 1001}):
        assert client.post("/api/v1/transactions", headers=supervisor, json=body).status_code == 422
    assert len(stored_transactions()) == 2  # all or nothing: no "OK" row went in


# --------------------------------------------------------------------------- tier, override, decider

def test_tier_override_and_the_decider_on_a_new_ticket(client, agent, supervisor):
    ids = add_customers(100)
    add_spend([(cid, 1_000 + i) for i, cid in enumerate(ids)])
    tiers.recompute()
    cid = ids[0]
    shown = client.get(f"/api/v1/customers/{cid}/tier", headers=agent).json
    assert {k: shown[k] for k in ("tier", "source", "computed_tier", "value", "value_minor", "rank", "override",
                                  "method", "measure", "currency")} == {
        "tier": "small", "source": "computed", "computed_tier": "small", "value": "10.00", "value_minor": 1000,
        "rank": 100, "override": None, "method": "pyramid", "measure": "spend", "currency": "CNY"}
    assert [(h["from_tier"], h["to_tier"]) for h in shown["history"]] == [(None, "small")]

    url = f"/api/v1/customers/{cid}/tier"
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    for body, field in (({"tier": "gold", "reason": "x"}, "tier"), ({"tier": "A", "reason": "x"}, "tier"),
                        ({"tier": "vip", "reason": "   "}, "reason"), ({"tier": "vip"}, "reason"),
                        ({"tier": "vip", "reason": "x", "until": past}, "until"),
                        ({"tier": "vip", "reason": "x", "until": "2999-01-01T00:00:00Z"}, "until"),
                        ({"tier": "vip", "reason": "x", "until": "tomorrow"}, "until")):
        response = client.put(url, headers=supervisor, json=body)
        assert response.status_code == 422 and field in fields_of(response), (body, response.json)
    assert client.put("/api/v1/customers/999999/tier", headers=supervisor,
                      json={"tier": "vip", "reason": "x"}).status_code == 404

    until = (datetime.now(timezone.utc) + timedelta(days=90)).replace(microsecond=0)
    put = client.put(url, headers=supervisor, json={"tier": "vip", "reason": "key account", "until": until.isoformat()})
    assert put.status_code == 200, put.json
    assert (put.json["tier"], put.json["source"], put.json["computed_tier"]) == ("vip", "override", "small")
    assert put.json["override"]["reason"] == "key account" and put.json["override"]["active"] is True
    assert datetime.fromisoformat(put.json["override"]["until"]) == until
    assert put.json["history"][0]["from_tier"] == "small" and put.json["history"][0]["to_tier"] == "vip"

    # A new ticket for this customer stores the effective tier, decided by tier_sla.
    opened = client.post("/api/v1/tickets", headers=agent, json={"customer_id": cid, "subject": "Broken",
                                                                "description": "It broke."})
    assert opened.status_code == 201 and opened.json["customer_tier"] == "vip"
    history = client.get(f"/api/v1/tickets/{opened.json['number']}/history", headers=agent).json
    decided = next(e for e in history if e["action"] == "tier_decided")
    assert decided["actor"]["name"] == "tier_sla" and decided["details"] == {"tier": "vip"}
    assert client.get(f"/api/v1/customers/{cid}", headers=agent).json["tier"] == "vip"
    listed = client.get("/api/v1/customers?limit=100", headers=agent).json["items"]
    assert {c["id"]: c["tier"] for c in listed}[ids[-1]] == "vip"

    removed = client.delete(url, headers=supervisor)
    assert removed.status_code == 200 and (removed.json["tier"], removed.json["source"]) == ("small", "computed")
    assert removed.json["history"][0]["reason"].startswith("override removed by")
    other = client.post("/api/v1/tickets", headers=agent, json={"customer_id": cid, "subject": "Again",
                                                               "description": "Still broken."})
    assert other.json["customer_tier"] == "small"


def test_recompute_endpoint_answers_counts(client, admin):
    add_spend([(cid, 100) for cid in add_customers(3)])
    response = client.post("/api/v1/tiers/recompute", headers=admin)
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("customers", "changed", "overrides_expired", "method", "period_to")} == {
        "customers": 3, "changed": 3, "overrides_expired": 0, "method": "pyramid", "period_to": str(TODAY)}
    assert client.post("/api/v1/tiers/recompute", headers=admin).json["changed"] == 0


# --------------------------------------------------------------------------- the Pareto report

@pytest.mark.parametrize("overrides", [{"TIER_METHOD": "abc"}])
def test_pareto_report_on_a_small_data_set(client, supervisor):
    ids = add_customers(20)  # ABC of 20: A = rank 1, B = ranks 2-4, C = ranks 5-20
    spend = [500_000, 200_000, 150_000, 50_000] + [10_000] * 12 + [0, 0, 0, -5_000]
    add_spend([(cid, amount) for cid, amount in zip(ids, spend) if amount])
    before = client.get("/api/v1/reports/tiers", headers=supervisor).json
    assert before["computed_at"] is None and before["totals"]["customers"] == 20
    tiers.recompute()
    report = client.get("/api/v1/reports/tiers", headers=supervisor).json
    # By hand: revenue counts positive values only: 5000 + 4000 + 1200 = 10200 yuan.
    assert report["totals"] == {"customers": 20, "revenue": "10200.00", "revenue_minor": 1_020_000}
    assert [(t["tier"], t["customers"], t["revenue"], t["customer_share"], t["revenue_share"],
             t["cumulative_customer_share"], t["cumulative_revenue_share"]) for t in report["tiers"]] == [
        ("A", 1, "5000.00", 0.05, 0.4902, 0.05, 0.4902),
        ("B", 3, "4000.00", 0.15, 0.3922, 0.2, 0.8824),
        ("C", 16, "1200.00", 0.8, 0.1176, 1.0, 1.0)]
    assert (report["method"], report["measure"], report["currency"]) == ("abc", "spend", "CNY")
    assert report["period"] == {"from": str(TODAY - timedelta(days=364)), "to": str(TODAY), "days": 365}
    assert report["active_overrides"] == 0 and report["computed_at"]


# --------------------------------------------------------------------------- commands

HEADER = "customer_ref,date,amount,currency,reference\n"


def test_transactions_import_reports_bad_rows_by_line_and_skips_repeats(cli, tmp_path):
    a, b = add_customers(2)
    csv_file = tmp_path / "tx.csv"
    csv_file.write_text(
        HEADER
        + "C1,2026-01-05,100.50,CNY,INV-1\n"      # 2 good
        + "C9,2026-01-05,10,CNY,INV-2\n"          # 3 unknown customer
        + "C1,05/01/2026,10,CNY,INV-3\n"          # 4 bad date
        + "C1,2026-01-05,ten,CNY,INV-4\n"         # 5 bad amount
        + "C1,2026-01-05,10.001,CNY,INV-5\n"      # 6 too many decimals
        + "C1,2026-01-05,10,RMB,INV-6\n"          # 7 not TIER_CURRENCY
        + "C1,2026-01-05,10,cn,INV-7\n"           # 8 not a currency code
        + "C2,2026-01-06,-3,CNY,CN-1\n"           # 9 good (credit note)
        + "C1,2026-01-05,100.50,CNY,INV-1\n"      # 10 repeats line 2: skipped
        + ",2026-01-05,1,CNY,INV-8\n"             # 11 no customer_ref
        + "C2,2026-01-06,1,CNY,\n"                # 12 no reference
        + "C2,2026-01-06,1,CNY,X,extra\n",        # 13 extra field
        encoding="utf-8")
    result = cli("transactions", "import", csv_file)
    assert result.exit_code == 1, result.output
    reported = {int(line.split(":")[0].removeprefix("line ")): line for line in result.output.splitlines()
                if line.startswith("line ")}
    for line, words in {3: "'C9' is not a known customer", 4: "date '05/01/2026'", 5: "amount 'ten'",
                        6: "amount '10.001'", 7: "currency RMB is not CNY", 8: "currency 'cn'",
                        11: "customer_ref is empty", 12: "reference is empty", 13: "more field"}.items():
        assert words in reported.pop(line), (line, result.output)
    assert reported == {}
    assert result.output.splitlines()[-1] == "2 imported, 1 skipped as already imported, 9 rejected"
    assert [(t[0], t[2], t[4]) for t in stored_transactions()] == [(a, 10050, "INV-1"), (b, -300, "CN-1")]

    again = cli("transactions", "import", csv_file)
    assert again.output.splitlines()[-1] == "0 imported, 3 skipped as already imported, 9 rejected"
    assert len(stored_transactions()) == 2


def test_transactions_import_good_file_with_margin_and_bom(cli, tmp_path):
    add_customers(2)
    csv_file = tmp_path / "good.csv"
    csv_file.write_bytes(("\ufeffcustomer_ref,date,amount,currency,reference,margin\n"
                          "C1,2026-01-05,99,CNY,A-1,12.5\nC2,2026-01-05,1,CNY,A-2,\n").encode())
    result = cli("transactions", "import", csv_file)
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "2 imported, 0 skipped as already imported, 0 rejected"
    assert [t[3] for t in stored_transactions()] == [1250, None]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("ref,date\nC1,2026-01-01\n")
    bad = cli("transactions", "import", wrong)
    assert bad.exit_code == 1 and "line 1: header lacks column(s): customer_ref, amount, currency, reference" in bad.output


def test_tiers_recompute_and_show_commands(cli, make_staff):
    supervisor, _ = make_staff("supervisor")
    ids = add_customers(100)
    add_spend([(cid, 1_000 + i) for i, cid in enumerate(ids)])
    result = cli("tiers", "recompute")
    assert result.exit_code == 0, result.output
    assert "100 customers ranked by spend" in result.output and "100 changed tier" in result.output
    assert "0 changed tier" in cli("tiers", "recompute").output

    tiers.set_override(ids[0], "major", "pilot customer", None, supervisor)
    shown = cli("tiers", "show", "C1")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"customer C1 (id {ids[0]}): major (override)"
    assert lines[1].startswith("computed: small, spend 10.00 CNY, rank 100 (pyramid, at ")
    assert lines[2] == f"override: major by staff {supervisor.id}, until removed: pilot customer"
    assert "small -> major: override by" in lines[3] and "- -> small: recompute" in lines[4]
    assert len(changes()) == 101
    missing = cli("tiers", "show", "NOPE")
    assert missing.exit_code == 1 and "no customer with external_ref 'NOPE'" in missing.output


def test_transaction_types_in_the_csv_and_the_api_default_to_sale(cli, client, tmp_path, make_staff):
    a, _ = add_customers(2)
    csv_file = tmp_path / "typed.csv"
    csv_file.write_text("customer_ref,date,amount,currency,reference,type\n"
                        "C1,2026-01-05,99,CNY,S-1,\nC1,2026-01-06,20,CNY,R-1,Return\n"
                        "C1,2026-01-07,5,CNY,X-1,refund\n")
    result = cli("transactions", "import", csv_file)
    assert result.exit_code == 1 and "line 4: type 'refund' is not one of sale, return, exchange, cancellation" \
        in result.output
    db.session.rollback()
    assert sorted(db.session.execute(sa.select(Transaction.reference, Transaction.type)).all()) == [
        ("R-1", "return"), ("S-1", "sale")]
    headers = make_staff("supervisor")[1]
    item = {"customer_id": a, "date": "2026-01-08", "amount": "10", "currency": "CNY"}
    made = client.post("/api/v1/transactions", headers=headers, json={"transactions": [
        {**item, "reference": "API-1"}, {**item, "reference": "API-2", "type": "cancellation"}]})
    assert made.status_code == 200 and made.json == {"created": 2, "skipped": 0}
    refused = client.post("/api/v1/transactions", headers=headers, json={"transactions": [
        {**item, "reference": "API-3", "type": "gift"}]})
    assert refused.status_code == 422 and "transactions.0.type" in fields_of(refused), refused.json
    db.session.rollback()
    assert dict(db.session.execute(sa.select(Transaction.reference, Transaction.type)
                                   .where(Transaction.reference.like("API-%"))).all()) == {
        "API-1": "sale", "API-2": "cancellation"}
