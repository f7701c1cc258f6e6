"""What the survey plugin adds to the customer's and the agent's view of a ticket."""
from __future__ import annotations

from sqlalchemy import select

from service.extensions import db

from .models import Recovery
from .surveys import open_survey, survey_url, ticket_surveys
from .texts import text


def tracking_panel(ticket) -> dict | None:
    """The open survey on the customer's tracking view, with its link; None
    when there is none (not delivered yet, answered, expired, withdrawn)."""
    survey = open_survey(ticket.id)
    if survey is None:
        return None
    t = text(survey.language)
    return {"key": "satisfaction_survey", "title": t["panel_title"], "text": t["panel_text"],
            "url": survey_url(survey), "url_label": t["panel_link"]}


def staff_panel(ticket) -> dict | None:
    """The ticket's surveys and answers, and its recovery mark, for staff."""
    surveys = ticket_surveys(ticket.id)
    recovery = db.session.scalar(select(Recovery).where(Recovery.ticket_id == ticket.id)
                                 .order_by(Recovery.id.desc()).limit(1))
    if not surveys and recovery is None:
        return None
    # Flat rows (one per survey, then the recovery mark): the console shows
    # each as a label/value list.
    rows = [{"round": s.round, "status": s.status, "solved": s.solved, "rating": s.rating,
             "reasons": ", ".join(s.reasons or []) or None, "comment": s.comment, "outcome": s.outcome,
             "sent_at": s.sent_at.isoformat() if s.sent_at else None,
             "answered_at": s.answered_at.isoformat() if s.answered_at else None} for s in surveys]
    if recovery is not None:
        rows.append({"recovery": "open" if recovery.recovered_at is None else "done", "reason": recovery.reason,
                     "since": recovery.created_at.isoformat(),
                     "followup": recovery.followup.number if recovery.followup else None,
                     "recovered_at": recovery.recovered_at.isoformat() if recovery.recovered_at else None})
    return {"key": "satisfaction_survey", "title": "Satisfaction survey", "data": rows}
