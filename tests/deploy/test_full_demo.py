"""``kefu demo``: half a year of history built through the real use cases
with the clock moved, so every dashboard chart has a weekly trend and every
queue has work. (``kefu demo --small``, the quick one, is what the other
demo tests load.) About 40 s on SQLite on an idle machine, so one test
builds it and checks everything on it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from plugins.credit_check.models import CreditRating
from plugins.satisfaction_survey.classes import CLASSES, satisfaction_class
from plugins.satisfaction_survey.models import Survey
from plugins.satisfaction_survey.settings import survey_settings
from plugins.tier_sla.models import CustomerTier
from plugins.tier_sla.settings import tier_settings
from plugins.tier_sla.sla_report import compliance
from service.cli import main as kefu_cli
from service.clock import is_moved
from service.sdk import ticket_channels, ticket_kinds
from service.domain.workflow import STATUSES
from service.extensions import db
from service.models import (
    CHANNELS,
    KINDS,
    PRIORITIES,
    Category,
    Customer,
    Department,
    OutboxJob,
    Staff,
    Ticket,
)
from service.models.base import utcnow
from service.web.queues import queue_counts

GRADES = ("AAA", "AA", "A", "B", "C")


def _weeks(column) -> set[str]:
    return {at.strftime("%G-W%V") for at in db.session.scalars(select(column).where(column.is_not(None)))}


def _distinct(column) -> set:
    return set(db.session.scalars(select(column).distinct()))


@pytest.mark.slow
def test_the_full_demo_has_half_a_year_of_every_kind_of_work(app):
    out = app.test_cli_runner().invoke(kefu_cli, ["demo"])
    assert out.exit_code == 0, out.output
    assert "demo data loaded" in out.output and "kefu_demo_agent_token" in out.output  # the logins are printed
    # The clock is the real time again, and nothing of the history waits to run.
    assert not is_moved() and abs((utcnow() - datetime.now(timezone.utc)).total_seconds()) < 5
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)) == 0
    assert not db.session.scalar(select(func.count()).select_from(Survey).where(Survey.status == "scheduled"))
    due = select(func.count()).select_from(Survey).where(  # what the reminder job would mail now
        Survey.status == "sent", Survey.reminded_at.is_(None), Survey.expires_at > utcnow(),
        Survey.sent_at <= utcnow() - timedelta(days=survey_settings().reminder_days))
    assert db.session.scalar(due) == 0
    overdue = select(func.count()).select_from(Ticket).where(  # what the auto-close job would close now
        Ticket.status == "resolved", Ticket.resolved_at <= utcnow() - timedelta(days=app.config["AUTO_CLOSE_DAYS"]))
    assert db.session.scalar(overdue) == 0

    # Persons and companies, Chinese and English, reached by e-mail or phone.
    customers = db.session.execute(select(Customer.kind, Customer.language, Customer.email, Customer.phone)).all()
    assert len(customers) >= 200
    assert {c.kind for c in customers} == {"person", "company"} and {c.language for c in customers} == {"zh_CN", "en"}
    assert any(c.email and not c.phone for c in customers) and any(c.phone and not c.email for c in customers)

    # A couple of thousand tickets over at least 20 ISO weeks, opened and resolved.
    assert db.session.scalar(select(func.count()).select_from(Ticket)) >= 1500
    assert len(_weeks(Ticket.created_at)) >= 20 and len(_weeks(Ticket.resolved_at)) >= 20
    first = db.session.scalar(select(func.min(Ticket.created_at)))
    assert (utcnow() - first).days >= 150
    # Every status, channel, kind, priority, category and department has tickets.
    assert _distinct(Ticket.status) == set(STATUSES)
    # (The plugins' too: relationship_health's care tickets are of kind care, channel outbound.)
    assert _distinct(Ticket.channel) == set(ticket_channels()) > set(CHANNELS)
    assert _distinct(Ticket.kind) == set(ticket_kinds()) > set(KINDS)
    assert _distinct(Ticket.priority) == set(PRIORITIES)
    assert set(db.session.scalars(select(Category.code).join(Ticket, Ticket.category_id == Category.id))) == \
        set(db.session.scalars(select(Category.code)))
    assert set(db.session.scalars(select(Department.code).join(Ticket, Ticket.department_id == Department.id))) == \
        set(db.session.scalars(select(Department.code)))
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.reopen_count > 0))

    # Histories at their times: first responses and resolutions after the opening.
    row = db.session.execute(select(Ticket.created_at, Ticket.confirmed_at, Ticket.resolved_at)
                             .where(Ticket.resolved_at.is_not(None)).order_by(Ticket.id).limit(1)).one()
    assert row.created_at < row.confirmed_at < row.resolved_at < utcnow()

    # SLA targets met and missed.
    groups = compliance("week", None, None, utcnow())
    met = sum(g["first_response_met"] + g["resolution_met"] for g in groups)
    missed = sum(g["first_response_missed"] + g["resolution_missed"] for g in groups)
    assert met > missed > 0
    assert len([g for g in groups if g["compliance"] is not None]) >= 20

    # Every tier of the pyramid, every satisfaction class, every credit grade.
    assert set(db.session.scalars(select(CustomerTier.computed_tier).distinct())) == set(tier_settings().tiers)
    classes = {satisfaction_class(customer_id) for customer_id in db.session.scalars(select(Customer.id))}
    assert set(CLASSES) <= classes
    assert set(db.session.scalars(select(CreditRating.grade).where(CreditRating.grade.is_not(None)).distinct())) == \
        set(GRADES)

    # Remedies wait for a supervisor and for finance; every queue has work.
    waiting = set(db.session.scalars(select(Ticket.remedy_approver).where(Ticket.remedy_decision == "needs_approval")))
    assert waiting == {"supervisor", "finance"}
    assert _distinct(Ticket.remedy_decision) >= {"approved", "refused", "needs_approval"}
    agent = db.session.scalar(select(Staff).where(Staff.email == "agent@kefu.demo"))
    supervisor = db.session.scalar(select(Staff).where(Staff.email == "supervisor@kefu.demo"))
    counts = queue_counts(supervisor)
    assert all(counts[name] > 0 for name in counts), counts
    assert queue_counts(agent)["mine"] > 0
    _check_dashboard(app)


def _dashboard_after_the_demo(app) -> list[dict]:
    """The dashboard's charts over its default range, as the demo supervisor sees them."""
    from service.web.dashboard import _charts
    from service.web.report_range import DEFAULT_PRESET, preset

    supervisor = db.session.scalar(select(Staff).where(Staff.email == "supervisor@kefu.demo"))
    with app.test_request_context("/console/dashboard"):
        return _charts(supervisor, preset(DEFAULT_PRESET))


def _check_dashboard(app) -> None:
    """Issue 20's "after make run": every chart of the dashboard has data, and
    every weekly trend at least 20 weeks of it, over the default range."""
    charts = _dashboard_after_the_demo(app)
    assert not [c for c in charts if c.get("failed")]
    # Tickets by week, first responses and resolutions on time by week, CSAT by week.
    assert {"tickets_by_week", "csat_trend"} <= {c["key"] for c in charts if c["kind"] == "line"}
    assert len([c for c in charts if c["kind"] == "line"]) >= 4
    for chart in charts:
        current = chart["series"][0]["values"]
        assert any(v for v in current), f"{chart['key']} has no data"
        if chart["kind"] == "line":
            assert sum(v is not None for v in current) >= 20, (chart["key"], current)
