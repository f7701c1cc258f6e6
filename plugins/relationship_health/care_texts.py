"""The visible texts of account owners and proactive care, in English with
their Chinese in kefu's catalog. Lazy: translated when shown, in the
reader's language (``team_language`` for texts written into a ticket)."""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app
from flask_babel import force_locale

from service import sdk
from service.sdk import lazy_gettext as _l

OWNER_LABEL = _l("Account owner")
CARE_KIND = _l("Customer care")
OUTBOUND_CHANNEL = _l("Outbound")
# The SLA policy a care ticket's targets come from (``care.POLICY`` in the history).
CARE_POLICY_LABEL = _l("Customer care targets (relationship health settings)")

# Notice kind -> text; the parameters are the notice's ``params``.
NOTICE_TEXTS = {
    "ticket_created": _l("%(customer)s filed a new ticket %(number)s: %(subject)s"),
    "sla_breached": _l("Ticket %(number)s of %(customer)s missed its SLA (%(target)s)"),
    "survey_bad": _l("%(customer)s answered the survey of %(number)s badly (solved: %(solved)s, rating %(rating)s)"),
    "health_changed": _l("The relationship health of %(customer)s changed from %(from)s to %(to)s (score %(score)s)"),
    "care_opened": _l("Care ticket %(number)s was opened for %(customer)s, who is at risk"),
}
NOTICE_SUBJECTS = {
    "ticket_created": _l("New ticket from your customer"),
    "sla_breached": _l("SLA breach on your customer's ticket"),
    "survey_bad": _l("Bad survey answer from your customer"),
    "health_changed": _l("Your customer's health changed"),
    "care_opened": _l("Care ticket for your customer"),
}
PRIORITY_TEXTS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
TARGETS = {"first_response": _l("first response"), "resolution": _l("resolution")}
YES, NO = _l("yes"), _l("no")

CARE_SUBJECT = _l("Customer care: %(customer)s is at risk")
CARE_DESCRIPTION = _l("%(customer)s, a key customer (tier %(tier)s), reached the level \"at risk\" (score "
                      "%(score)s). Contact them, find out what is wrong and agree what to do.")
CARE_NOTE_HEAD = _l("The signals that put the customer at risk:")
CARE_NOTE_LINE = _l("%(label)s: %(value)s, %(points)s points. %(explanation)s")
COMPLAINT_RAISED = _l("Priority raised to %(priority)s: a key customer (tier %(tier)s) at risk of churn complains "
                      "(health score %(score)s).")


def team_language() -> str:
    """The language of texts written into a ticket for the whole team: ``DEFAULT_LANGUAGE``."""
    return current_app.config["DEFAULT_LANGUAGE"]


@contextmanager
def speaking(language: str | None):
    """Translate in ``language`` (a staff member's tag, e.g. ``zh_CN``) inside the block."""
    with force_locale("zh_CN" if sdk.mail_language(language) == "zh" else "en"):
        yield


def notice_text(kind: str, params: dict) -> str:
    """A notice's text in the current language (its parameters translated where they are codes)."""
    from .texts import level_label

    shown = dict(params)
    for key in ("from", "to"):
        if key in shown:
            # A customer's first recompute counts them as having been healthy (recompute).
            shown[key] = level_label(shown[key] or "healthy")
    if "target" in shown:
        shown["target"] = str(TARGETS.get(shown["target"], shown["target"]))
    if "solved" in shown:
        shown["solved"] = str(YES if shown["solved"] else NO)
    try:
        return str(NOTICE_TEXTS[kind]) % shown
    except (KeyError, ValueError, TypeError):  # a notice of an older version: show what it holds
        return f"{kind}: {params}"
