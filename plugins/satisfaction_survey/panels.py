"""What the survey plugin adds to the customer's and the agent's view of a ticket
(the ``tracking_panels`` and ``ticket_panels`` read collectors: they only read)."""
from __future__ import annotations

from sqlalchemy import select

from service import sdk

from .models import Recovery
from .questions import REASONS
from .surveys import open_survey, survey_url, ticket_surveys
from .texts import staff_language, staff_text, text

# A survey's outcome badge: a bad answer reopened the ticket or opened a
# follow-up; a good one closed it.
OUTCOME_TONES = {"reopened": "bad", "followup": "bad", "closed": "ok", "none": "neutral"}


def tracking_panel(ticket) -> dict | None:
    """The open survey on the customer's tracking view, with its link; None
    when there is none (not delivered yet, answered, expired, withdrawn)."""
    survey = open_survey(ticket.id)
    if survey is None:
        return None
    t = text(staff_language())  # the page's language: the panel sits among its texts
    return {"key": "satisfaction_survey", "title": t["panel_title"], "text": t["panel_text"],
            "url": survey_url(survey), "url_label": t["panel_link"]}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _survey_rows(survey, t: dict, lang: str) -> list[dict]:
    """One survey as typed rows: its status under a heading naming the
    resolution, then what is known of its answer."""
    reasons = {r["code"]: r["labels"][lang] for r in REASONS}
    labels = [reasons.get(code, code) for code in survey.reasons or []]
    rows = [
        {"label": t["survey"].format(n=survey.round + 1), "value": t["status"].get(survey.status, survey.status),
         "kind": "badge", "tone": "neutral"},
        {"label": t["solved"], "value": None if survey.solved is None else t["yes" if survey.solved else "no"],
         "kind": "text"},
        {"label": t["rating"], "value": None if survey.rating is None else f"{survey.rating}/5", "kind": "text"},
        {"label": t["reasons"], "value": ", ".join(labels) or None, "kind": "list", "items": labels},
        {"label": t["comment"], "value": survey.comment, "kind": "text"},
        {"label": t["outcome"], "value": t["outcomes"].get(survey.outcome, survey.outcome) if survey.outcome else None,
         "kind": "badge", "tone": OUTCOME_TONES.get(survey.outcome, "neutral")},
        {"label": t["sent_at"], "value": _iso(survey.sent_at), "kind": "time"},
        {"label": t["answered_at"], "value": _iso(survey.answered_at), "kind": "time"},
    ]
    return [row for row in rows if row["value"] is not None]


def _recovery_rows(recovery, t: dict) -> list[dict]:
    """The ticket's recovery mark as typed rows."""
    rows = [
        {"label": t["recovery"], "value": t["recovery_state"]["open" if recovery.recovered_at is None else "done"],
         "kind": "badge", "tone": "warn" if recovery.recovered_at is None else "ok"},
        {"label": t["recovery_reason"], "value": t["recovery_reasons"].get(recovery.reason, recovery.reason),
         "kind": "text"},
        {"label": t["recovery_since"], "value": _iso(recovery.created_at), "kind": "time"},
        {"label": t["recovery_followup"], "value": recovery.followup.number if recovery.followup else None,
         "kind": "text"},
        {"label": t["recovered_at"], "value": _iso(recovery.recovered_at), "kind": "time"},
    ]
    return [row for row in rows if row["value"] is not None]


def staff_panel(ticket) -> dict | None:
    """The ticket's surveys and answers, and its recovery mark, for staff:
    typed rows in the page's language (a survey's rows under its status, one
    survey after the other, then the recovery mark). None when the ticket
    has neither."""
    surveys = ticket_surveys(ticket.id)
    recovery = sdk.db.session.scalar(select(Recovery).where(Recovery.ticket_id == ticket.id)
                                     .order_by(Recovery.id.desc()).limit(1))
    if not surveys and recovery is None:
        return None
    lang, t = staff_language(), staff_text()
    rows = [row for survey in surveys for row in _survey_rows(survey, t, lang)]
    if recovery is not None:
        rows += _recovery_rows(recovery, t)
    return {"key": "satisfaction_survey", "title": t["title"], "rows": rows}
