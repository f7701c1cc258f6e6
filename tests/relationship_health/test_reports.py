"""The health report (``GET /api/v1/reports/health`` and its CSV), pinned
on the hand-worked data of tests/healthdata.py: customers and revenue by
level and tier, the at-risk list in order of value, the moves between
levels per month, the CSV's cells, roles and refused periods. Real SQLite
or PostgreSQL."""
from __future__ import annotations

import csv
import io

import pytest
from healthdata import seed

URL = "/api/v1/reports/health"
SPRING = {"from": "2026-03-01", "to": "2026-05-31"}


@pytest.fixture
def data(app):
    return seed()


def _report(client, headers, **query):
    response = client.get(URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_customers_and_revenue_by_level_and_tier(client, supervisor, data):
    body = _report(client, supervisor, **SPRING)
    got = [(r["level"], r["tier"], r["customers"], r["revenue"]) for r in body["levels"]]
    # Most urgent level first, tiers top first; Fuzhou (merged) nowhere; Emei
    # (no tier row) in the lowest tier with no value, Dalian's negative value as 0.
    assert got == [("at_risk", "vip", 1, "5000.00"), ("at_risk", "major", 1, "2000.00"), ("at_risk", "small", 1, "0.00"),
                   ("watch", "vip", 1, "3000.00"), ("healthy", "small", 1, "0.00"), (None, "ordinary", 1, "100.00")]
    assert [(r["level_label"], r["tier_label"]) for r in body["levels"]][:1] == [("At risk", "VIP")]
    assert body["levels"][-1]["level_label"] == "Not computed"
    assert body["currency"] == "CNY"
    assert body["at_risk_totals"] == {"customers": 3, "value": "7000.00", "value_minor": 700_000}


def test_the_at_risk_list_most_value_first_with_reasons(client, supervisor, data):
    body = _report(client, supervisor, **SPRING)
    rows = body["at_risk"]
    assert [r["name"] for r in rows] == ["Anhui", "Beijing", "Emei"]
    assert [r["value"] for r in rows] == ["5000.00", "2000.00", "0.00"]
    assert [r["score"] for r in rows] == [70, 55, 55]
    assert [r["since"][:16] for r in rows] == ["2026-04-05T12:00", "2026-04-20T12:00", "2026-05-15T12:00"]
    # The signals that scored, most points first (ties by name), by label.
    assert rows[0]["reasons"] == ["Silence since the last purchase", "Complaints rising",
                                  "Complaining, lost or not solved"]
    assert rows[1]["reasons"] == ["Silence since the last purchase", "Returns, exchanges and cancellations"]
    assert rows[0]["tier_label"] == "VIP" and rows[2]["tier"] == "small"
    limited = _report(client, supervisor, limit=1, **SPRING)
    assert [r["name"] for r in limited["at_risk"]] == ["Anhui"]
    assert limited["at_risk_totals"] == {"customers": 3, "value": "7000.00", "value_minor": 700_000}


def test_movements_between_levels_per_month(client, supervisor, data):
    body = _report(client, supervisor, **SPRING)
    got = [(m["month"], m["from_level"], m["to_level"], m["customers"]) for m in body["movements"]]
    # Fuzhou's April move is left out: it was merged away.
    assert got == [("2026-03", None, "at_risk", 1), ("2026-03", None, "watch", 1),
                   ("2026-04", "watch", "at_risk", 1), ("2026-04", None, "at_risk", 1),
                   ("2026-05", "at_risk", "watch", 1), ("2026-05", None, "at_risk", 1)]
    assert body["movements"][0]["from_label"] == "Not computed"
    assert body["movements"][2]["from_label"] == "Watch" and body["movements"][2]["to_label"] == "At risk"
    april = _report(client, supervisor, **{"from": "2026-04-01", "to": "2026-04-30"})
    assert [(m["month"], m["customers"]) for m in april["movements"]] == [("2026-04", 1), ("2026-04", 1)]
    assert april["period"] == {"from": "2026-04-01", "to": "2026-04-30"}


def test_labels_in_chinese(client, supervisor, data):
    body = _report(client, {**supervisor, "Accept-Language": "zh-CN"}, **SPRING)
    assert body["levels"][0]["level_label"] == "有流失风险" and body["levels"][0]["tier_label"] == "贵宾客户"
    assert body["at_risk"][0]["reasons"][0] == "距上次购买的沉默期"


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff") and "\r\n" in text
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_tables(client, supervisor, data):
    levels = _csv(client.get(URL + "/csv", headers=supervisor, query_string={**SPRING, "table": "levels"}))
    assert levels[0] == ["Health level", "Tier", "Customers", "Value (CNY)"]
    assert levels[1:] == [["At risk", "VIP", "1", "5000"], ["At risk", "Major", "1", "2000"],
                          ["At risk", "Small", "1", "0"], ["Watch", "VIP", "1", "3000"],
                          ["Healthy", "Small", "1", "0"], ["Not computed", "Ordinary", "1", "100"]]
    at_risk = _csv(client.get(URL + "/csv", headers=supervisor, query_string={**SPRING, "table": "at_risk"}))
    assert at_risk[0][:5] == ["Customer", "External reference", "Tier", "Value (CNY)", "Score"]
    assert [r[0] for r in at_risk[1:]] == ["Anhui", "Beijing", "Emei"]
    assert at_risk[1][5:] == ["2026-04-05 12:00", "Silence since the last purchase; Complaints rising; "
                                                  "Complaining, lost or not solved"]
    moves = _csv(client.get(URL + "/csv", headers=supervisor, query_string={**SPRING, "table": "movements"}))
    assert moves[0] == ["Month", "From", "To", "Customers"]
    assert moves[1] == ["2026-03", "Not computed", "At risk", "1"] and len(moves) == 7
    zh = _csv(client.get(URL + "/csv", headers={**supervisor, "Accept-Language": "zh-CN"},
                         query_string={**SPRING, "table": "levels"}))
    assert zh[1][:2] == ["有流失风险", "贵宾客户"] and zh[0][0] == "健康等级"


def test_csv_cells_are_guarded_against_formulas(client, supervisor, data):
    from service.extensions import db
    from service.models import Customer

    db.session.get(Customer, data.ids["Anhui"]).name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    rows = _csv(client.get(URL + "/csv", headers=supervisor, query_string={"table": "at_risk"}))
    assert rows[1][0] == "'=HYPERLINK(\"http://evil\")"


def test_supervisors_and_admins_only(client, agent, supervisor, admin, data):
    assert client.get(URL).status_code == 401
    assert client.get(URL + "/csv").status_code == 401
    assert client.get(URL, headers=agent).status_code == 403
    assert client.get(URL + "/csv", headers=agent).status_code == 403
    assert client.get(URL, headers=admin).status_code == 200


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "1999-12-31"}, "from"),
    ({"from": "2026-05-01", "to": "2026-04-30"}, "to"), ({"from": "2000-01-01", "to": "2026-05-01"}, "to"),
    ({"limit": "0"}, "limit"), ({"table": "secrets"}, "table"),
])
def test_bad_periods_and_arguments_are_refused_naming_the_field(client, supervisor, data, query, field):
    path = URL + "/csv" if "table" in query else URL
    response = client.get(path, headers=supervisor, query_string=query)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["error"]["fields"], response.json


def test_the_report_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/reports/health", "/api/v1/reports/health/csv"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/v1/reports/health"]["get"]["parameters"]}
    assert {"from", "to", "limit"} <= params
