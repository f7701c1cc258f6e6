"""Helpers for the survey tests: resolve a ticket, find its survey link the way
the customer does (the tracking panel and the mail), read the dev mail log."""
from __future__ import annotations

import email
from email import policy
from pathlib import Path

import sqlalchemy as sa

from plugins.satisfaction_survey.models import Survey
from service.extensions import db
from service.models import Department, Ticket


def give_supervisor(make_staff, code="after_sales"):
    """A supervisor for department ``code``; returns (staff, headers)."""
    staff, headers = make_staff("supervisor", code)
    dept = db.session.scalar(sa.select(Department).where(Department.code == code))
    dept.supervisor_id = staff.id
    db.session.commit()
    return staff, headers


def resolve(act, agent, number, first=True):
    """Confirm (first time), start and resolve ticket ``number``."""
    if first:
        act(agent, number, "confirm", department="after_sales")
        act(agent, number, "start")
    return act(agent, number, "resolve", resolution="We replaced the motor.")


def panel_link(client, tracking_token):
    """The survey link on the customer's tracking view, or None."""
    shown = client.get(f"/api/v1/public/tickets/{tracking_token}").json
    panels = [p for p in shown["panels"] if p["key"] == "satisfaction_survey"]
    return panels[0]["url"] if panels else None


def token_of(url: str) -> str:
    """The survey token inside a survey page address."""
    return url.rstrip("/").rsplit("/survey/", 1)[1]


def surveys_of(number):
    """The ticket's surveys as committed, read on a connection of its own."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(Survey.__table__).join(Ticket, Ticket.id == Survey.ticket_id)
                            .where(Ticket.number == number).order_by(Survey.round)).mappings().all()


def stored_status(number):
    with db.engine.connect() as conn:
        return conn.execute(sa.select(Ticket.status).where(Ticket.number == number)).scalar_one()


def mails(app, subject_contains=""):
    """Every mail in the dev mail log whose subject contains the text, oldest first."""
    folder = Path(app.config["MAIL_LOG_DIR"])
    out = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if subject_contains in message["Subject"]:
            out.append(message)
    return out


def body(message) -> str:
    return message.get_body(("plain",)).get_content()
