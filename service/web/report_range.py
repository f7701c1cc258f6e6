"""The dashboard's date range: read from the address (``from``, ``to`` or a
``preset``), checked, and turned into a ``ReportPeriod``.

Days are UTC days, ``to`` included. Without a range the dashboard shows the
last 26 ISO weeks (this week and the 25 before it), so half a year of
history is 26 weekly points.
"""
from __future__ import annotations

from datetime import date, timedelta

from service.hooks.types import ReportPeriod
from service.models.base import utcnow
from service.translate import lazy_gettext as _l

MAX_DAYS = 731  # two years: longer ranges would be slow and unreadable as weeks
PRESETS = {"7d": _l("Last 7 days"), "30d": _l("Last 30 days"), "90d": _l("Last 90 days"),
           "26w": _l("Last 26 weeks")}
DEFAULT_PRESET = "26w"


def today() -> date:
    """Today's UTC date (the kefu clock)."""
    return utcnow().date()


def preset(name: str, on: date | None = None) -> ReportPeriod:
    """The period of preset ``name`` ending ``on`` (default today): the last
    7, 30 or 90 days, or the last 26 ISO weeks (from the Monday 25 weeks
    before this week's)."""
    end = on or today()
    if name == "26w":
        return ReportPeriod(ReportPeriod.week_of(end) - timedelta(weeks=25), end)
    return ReportPeriod(end - timedelta(days=int(name[:-1]) - 1), end)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse(args) -> tuple[ReportPeriod, dict[str, list[str]], dict]:
    """The period the address asks for, the problems by field, and the form's
    values to show again.

    ``preset`` wins when it is one of ``PRESETS``; else ``from`` and ``to``
    (ISO dates, ``from`` <= ``to``, at most ``MAX_DAYS`` days, ``from`` not
    before 2000); else the default preset. With problems the default period
    is returned (so the page still shows something) with the messages.
    """
    form = {"from": (args.get("from") or "").strip()[:20], "to": (args.get("to") or "").strip()[:20],
            "preset": args.get("preset") or ""}
    if form["preset"] in PRESETS:
        period = preset(form["preset"])
        return period, {}, {**form, "from": period.start.isoformat(), "to": period.end.isoformat()}
    if not form["from"] and not form["to"]:
        period = preset(DEFAULT_PRESET)
        return period, {}, {"from": period.start.isoformat(), "to": period.end.isoformat(), "preset": DEFAULT_PRESET}
    errors: dict[str, list[str]] = {}
    start, end = _date(form["from"]), _date(form["to"])
    for field, value in (("from", start), ("to", end)):
        if not form[field]:
            errors[field] = [str(_l("Give a date."))]
        elif value is None:
            errors[field] = [str(_l("Not a date: use year-month-day, e.g. 2026-11-30."))]
        elif value.year < 2000 or value > today() + timedelta(days=366):
            errors[field] = [str(_l("Pick a date between 2000 and next year."))]
    if not errors and start > end:
        errors["to"] = [str(_l("The end must not be before the start."))]
    if not errors and (end - start).days + 1 > MAX_DAYS:
        errors["to"] = [str(_l("Pick at most two years."))]
    if errors:
        return preset(DEFAULT_PRESET), errors, form
    return ReportPeriod(start, end), {}, form


def query(period: ReportPeriod) -> dict:
    """The address arguments that ask for ``period`` again (for links: CSV, tabs)."""
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}
