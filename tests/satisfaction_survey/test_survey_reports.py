"""Survey reports on a fixed data set whose figures are worked out by hand below."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from plugins.satisfaction_survey import tokens
from plugins.satisfaction_survey.models import Survey
from service.extensions import db
from service.models import Category, Department, Ticket

W45 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)   # Monday of ISO week 2026-W45
W46 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)  # Tuesday of ISO week 2026-W46

# (agent, department, category, tier, sla_met, delivered, status, solved, rating, nps)
DATA = [
    ("A", "after_sales", "slow_delivery", "vip", True, W45, "answered", True, 5, 10),   # 1
    ("A", "after_sales", "billing", "vip", True, W45, "answered", True, 4, 8),          # 2
    ("A", "logistics", "slow_delivery", "small", False, W45, "answered", False, 2, 3),  # 3
    ("B", "logistics", "slow_delivery", "small", False, W46, "answered", True, 3, 9),   # 4
    ("B", "after_sales", "billing", None, True, W46, "sent", None, None, None),         # 5
    ("B", "logistics", "slow_delivery", "small", None, W46, "sent", None, None, None),  # 6
    ("A", "after_sales", "billing", "vip", True, W46, "withdrawn", None, None, None),   # 7: not counted
    ("B", "after_sales", "billing", "vip", True, None, "scheduled", None, None, None),  # 8: not counted
]


def _row(group, sent, answered, rr, avg, csat, solved, nps):
    return {"group": group, "sent": sent, "answered": answered, "response_rate": rr, "avg_rating": avg,
            "csat": csat, "solved_rate": solved, "nps": nps}


# Worked out by hand from DATA (surveys 1-6 count; 7 was withdrawn, 8 never delivered).
# csat = answers rating 4-5 / answers; nps = (promoters 9-10 - detractors 0-6) / NPS answers * 100.
EXPECTED = {
    # 6 sent, 4 answered; ratings 5,4,2,3 -> avg 14/4 = 3.5, csat 2/4, solved 3/4;
    # nps 10,8,3,9 -> promoters 2 (10, 9), detractors 1 (3): (2-1)/4 = 25.0
    "all": [_row("all", 6, 4, 0.6667, 3.5, 0.5, 0.75, 25.0)],
    "agent": [
        # A: 1,2,3 -> ratings 5,4,2: avg 11/3, csat 2/3, solved 2/3; nps 10,8,3 -> (1-1)/3 = 0
        _row("A", 3, 3, 1.0, 3.6667, 0.6667, 0.6667, 0.0),
        # B: 4,5,6 -> one answer: rating 3, solved, nps 9 -> 100
        _row("B", 3, 1, 0.3333, 3.0, 0.0, 1.0, 100.0)],
    "department": [
        # after_sales: 1,2,5 -> ratings 5,4; nps 10,8 -> (1-0)/2 = 50
        _row("after_sales", 3, 2, 0.6667, 4.5, 1.0, 1.0, 50.0),
        # logistics: 3,4,6 -> ratings 2,3; solved 1/2; nps 3,9 -> (1-1)/2 = 0
        _row("logistics", 3, 2, 0.6667, 2.5, 0.0, 0.5, 0.0)],
    "category": [
        # billing: 2,5 -> rating 4; nps 8 -> 0 promoters, 0 detractors = 0
        _row("billing", 2, 1, 0.5, 4.0, 1.0, 1.0, 0.0),
        # slow_delivery: 1,3,4,6 -> ratings 5,2,3: avg 10/3, csat 1/3, solved 2/3; nps 10,3,9 -> (2-1)/3 = 33.3
        _row("slow_delivery", 4, 3, 0.75, 3.3333, 0.3333, 0.6667, 33.3)],
    "tier": [
        # small: 3,4,6; vip: 1,2; none: 5 (sent, unanswered)
        _row("small", 3, 2, 0.6667, 2.5, 0.0, 0.5, 0.0),
        _row("vip", 2, 2, 1.0, 4.5, 1.0, 1.0, 50.0),
        _row(None, 1, 0, 0.0, None, None, None, None)],
    "sla": [
        # met: 1,2,5; missed: 3,4; no SLA target: 6
        _row("met", 3, 2, 0.6667, 4.5, 1.0, 1.0, 50.0),
        _row("missed", 2, 2, 1.0, 2.5, 0.0, 0.5, 0.0),
        _row(None, 1, 0, 0.0, None, None, None, None)],
    "week": [
        _row("2026-W45", 3, 3, 1.0, 3.6667, 0.6667, 0.6667, 0.0),
        _row("2026-W46", 3, 1, 0.3333, 3.0, 0.0, 1.0, 100.0)],
}


@pytest.fixture
def dataset(app, make_staff, file_ticket):
    """The surveys of DATA, on one ticket (one round each), as committed rows;
    returns the agents' e-mails by their letter (the agent report's groups)."""
    staff = {"A": make_staff("agent")[0], "B": make_staff("agent")[0]}
    number = file_ticket()["number"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    depts = {d.code: d.id for d in db.session.scalars(sa.select(Department))}
    cats = {c.code: c.id for c in db.session.scalars(sa.select(Category))}
    for i, (agent, dept, cat, tier, sla, sent, status, solved, rating, nps) in enumerate(DATA):
        survey = Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, round=i, status=status, language="en",
                        created_at=W45, resolved_at=W45, send_after=W45, sent_at=sent, agent_id=staff[agent].id,
                        department_id=depts[dept], category_id=cats[cat], tier=tier, sla_met=sla, solved=solved,
                        rating=rating, nps=nps, answered_at=sent if status == "answered" else None)
        tokens.seal(survey)
        db.session.add(survey)
    db.session.commit()
    return {letter: s.email for letter, s in staff.items()}


@pytest.mark.parametrize("by", list(EXPECTED))
def test_report_figures(client, supervisor, dataset, by):
    response = client.get(f"/api/v1/reports/surveys?by={by}", headers=supervisor)
    assert response.status_code == 200
    expected = [{**row, "group": dataset[row["group"]]} if by == "agent" else row for row in EXPECTED[by]]
    assert response.json == expected


def test_report_over_a_period(client, supervisor, dataset):
    response = client.get("/api/v1/reports/surveys?by=all&since=2026-11-09T00:00:00Z&until=2026-11-16T00:00:00Z",
                          headers=supervisor)
    assert response.json == [_row("all", 3, 1, 0.3333, 3.0, 0.0, 1.0, 100.0)]
    assert client.get("/api/v1/reports/surveys?until=2026-11-01T00:00:00Z", headers=supervisor).json == []


def test_csv_export_has_the_same_figures(client, supervisor, dataset):
    response = client.get("/api/v1/reports/surveys/csv?by=tier", headers=supervisor)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="survey-report-tier.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode())))
    assert rows == [["group", "sent", "answered", "response_rate", "avg_rating", "csat", "solved_rate", "nps"],
                    ["small", "3", "2", "0.6667", "2.5", "0.0", "0.5", "0.0"],
                    ["vip", "2", "2", "1.0", "4.5", "1.0", "1.0", "50.0"],
                    ["", "1", "0", "0.0", "", "", "", ""]]


def test_reports_need_a_supervisor_and_a_known_grouping(client, agent, supervisor, dataset):
    assert client.get("/api/v1/reports/surveys").status_code == 401
    assert client.get("/api/v1/reports/surveys", headers=agent).status_code == 403
    assert client.get("/api/v1/reports/surveys/csv", headers=agent).status_code == 403
    bad = client.get("/api/v1/reports/surveys?by=mood", headers=supervisor)
    assert bad.status_code == 422 and list(bad.json["error"]["fields"]) == ["by"]
    bad = client.get("/api/v1/reports/surveys?since=yesterday", headers=supervisor)
    assert bad.status_code == 422 and list(bad.json["error"]["fields"]) == ["since"]


def test_the_dashboard_chart_shows_csat_and_response_rate_by_week(app, dataset):
    from plugins.satisfaction_survey.dashboard import charts

    [chart] = charts(now=datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert chart["key"] == "csat_trend" and chart["kind"] == "line" and chart["unit"] == "%"
    assert chart["labels"] == ["2026-W45", "2026-W46"]
    # W45: surveys 1-3, all answered, ratings 5, 4, 2: CSAT 2/3, response 3/3.
    # W46: surveys 4-6, one answered (rating 3): CSAT 0/1, response 1/3.
    assert [(s["name"], s["values"]) for s in chart["series"]] == [
        ("CSAT", [66.7, 0.0]), ("Response rate", [100.0, 33.3])]
    # The chart shows half a year: twelve weeks later both weeks are still on it, 26 weeks later gone.
    assert charts(now=datetime(2027, 2, 20, tzinfo=timezone.utc))[0]["labels"] == ["2026-W45", "2026-W46"]
    assert charts(now=datetime(2027, 5, 25, tzinfo=timezone.utc))[0]["labels"] == []
