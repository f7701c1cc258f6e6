"""satisfaction_survey's part of the demo."""
from sqlalchemy import select

from plugins.satisfaction_survey.models import Recovery, Survey
from service.demo import load_demo
from service.extensions import db
from service.models import OutboxJob, Ticket


def test_demo_has_answered_and_open_surveys_and_a_recovery(app, client):
    lines = load_demo()
    assert "satisfaction_survey: 2 answered surveys (one 'not solved': reopened, marked for recovery), " \
           "1 open on the tracking page" in lines
    rows = db.session.execute(select(Ticket.subject, Ticket.status, Survey.status, Survey.rating, Survey.outcome)
                              .join(Survey, Survey.ticket_id == Ticket.id).order_by(Survey.id)).all()
    assert [tuple(r) for r in rows] == [
        ("售后响应太慢", "resolved", "sent", None, None),
        ("请安排上门取件", "closed", "answered", 5, "none"),
        ("冰箱噪音大", "in_progress", "withdrawn", None, None),  # reopened by the core's demo
        ("冰箱噪音大", "in_progress", "answered", 2, "reopened"),
    ]
    [recovery] = db.session.scalars(select(Recovery)).all()
    assert recovery.ticket.subject == "冰箱噪音大" and recovery.recovered_at is None
    assert db.session.scalar(select(OutboxJob.id)) is None  # no demo mail
    report = client.get("/api/v1/reports/surveys", headers={"Authorization": "Bearer kefu_demo_supervisor_token"})
    assert report.json == [{"group": "all", "sent": 3, "answered": 2, "response_rate": 0.6667, "avg_rating": 3.5,
                            "csat": 0.5, "solved_rate": 0.5, "nps": None}]
