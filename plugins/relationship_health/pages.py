"""relationship_health on the console's customer and ticket pages:

* ``section`` (``customer_sections``): the profile's health section - the
  level as a badge, the score, each signal that scores with its label,
  value, threshold, points and explanation, and the latest level changes;
* ``panel`` (``ticket_panels``): a compact panel beside a ticket - the
  customer's level and the signal that weighs most (none before the first
  recompute);
* ``list_columns`` (``customer_list_columns``): the "Health level" column
  and filter of the customer list, so "at risk" is one click
  (``/console/customers?relationship_health.level=at_risk``).

Every view runs these, so each reads with at most two statements built once
(bound parameters), over the primary key of ``customer_health`` and the
(customer, id) index of ``customer_health_changes``. Everything shown is
in the reader's language: labels, never codes.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

from sqlalchemy import bindparam, func, select

from service import sdk
from service.sdk import gettext as _

from . import catalog
from .detail import signal_rows
from .models import LEVELS, CustomerHealth, HealthChange
from .report import level_name
from .settings import settings
from .texts import level_label

CHANGES_SHOWN = 5  # level changes on the profile, newest first
LIST_KEY = "relationship_health.level"


@functools.cache
def _health_statement():
    h = CustomerHealth.__table__
    return select(h.c.score, h.c.level, h.c.computed_at, h.c.signal_values, h.c.signal_points).where(
        h.c.customer_id == bindparam("customer_id"))


@functools.cache
def _changes_statement():
    x = HealthChange.__table__
    return (select(x.c.at, x.c.from_level, x.c.to_level, x.c.score).where(x.c.customer_id == bindparam("customer_id"))
            .order_by(x.c.id.desc()).limit(CHANGES_SHOWN))


def _health(customer_id: int):
    return sdk.read(_health_statement(), {"customer_id": customer_id}).first()


PROFILE = "relationship_health.profile."  # the names of ``profile_columns``
_ROW = ("score", "level", "computed_at", "signal_values", "signal_points")


def profile_columns() -> dict:
    """For the core's read of a customer whose profile is shown
    (``customer_columns``, ``sdk.PROFILE``): the health row's columns and
    how many level changes there are, so the section runs no statement of
    its own unless there are changes to list."""
    h, x = CustomerHealth.__table__, HealthChange.__table__
    own = h.c.customer_id == sdk.Customer.id
    columns = {f"{PROFILE}{name}": select(h.c[name]).where(own).scalar_subquery() for name in _ROW}
    columns[f"{PROFILE}changes"] = (select(func.count()).select_from(x).where(x.c.customer_id == sdk.Customer.id)
                                    .scalar_subquery())
    return columns


def _profile_health(customer) -> tuple:
    """``(health row or None, how many level changes or None if unknown)``:
    as read with the customer for the profile, else by query."""
    values = {name: sdk.preloaded(customer, f"{PROFILE}{name}") for name in (*_ROW, "changes")}
    if any(value is sdk.NOT_LOADED for value in values.values()):
        return _health(customer.id), None
    row = SimpleNamespace(**{name: values[name] for name in _ROW}) if values["level"] is not None else None
    return row, values["changes"]


def scoring(row) -> list[dict]:
    """The signals that score in ``row`` (a ``customer_health`` row), most
    points first, as ``detail.signal_rows`` gives them (translated label,
    value, threshold, points, explanation)."""
    if row is None:
        return []
    rows = signal_rows(catalog.in_force(), row.signal_values or {}, row.signal_points or {})
    return sorted((r for r in rows if r["points"] > 0), key=lambda r: -r["points"])


SHOWN_COMPARISON = {">=": "≥", ">": ">"}  # as people write them, not as code does


def _signal_row(signal: dict) -> sdk.PanelRow:
    figures = _("Value %(value)s, scores from %(comparison)s %(threshold)s: %(points)s points",
                value="-" if signal["value"] is None else signal["value"],
                comparison=SHOWN_COMPARISON.get(signal["comparison"], signal["comparison"]),
                threshold=signal["threshold"], points=signal["points"])
    return {"label": signal["label"], "value": "", "kind": "list", "items": [figures, signal["explanation"]]}


def section(customer) -> list[sdk.CustomerSection]:
    """The profile's health section (see the module doc)."""
    row, known_changes = _profile_health(customer)
    title = _("Relationship health")
    if row is None:
        return [{"key": "relationship_health", "title": title,
                 "rows": [{"label": _("Health level"), "value": _("Not computed yet"), "kind": "badge"}]}]
    s = settings()
    rows: list[sdk.PanelRow] = [
        {"label": _("Health level"), "value": level_label(row.level), "kind": "badge", "tone": level_tone(row.level)},
        {"label": _("Risk score"), "value": _("%(score)s (watch from %(watch)s, at risk from %(at_risk)s)",
                                              score=row.score, watch=s.watch_from, at_risk=s.at_risk_from),
         "kind": "text"},
        {"label": _("Computed"), "value": row.computed_at.isoformat(), "kind": "time"},
    ]
    signals = scoring(row)
    rows += [_signal_row(signal) for signal in signals]
    if not signals:
        rows.append({"label": _("Signals"), "value": _("No signal scores"), "kind": "text"})
    changes = sdk.read(_changes_statement(), {"customer_id": customer.id}).all() if known_changes != 0 else []
    rows.append({"label": _("Latest level changes"), "value": "", "kind": "list",
                 "items": [_("%(day)s: %(before)s to %(after)s (score %(score)s)", day=c.at.strftime("%Y-%m-%d"),
                             before=level_name(c.from_level), after=level_label(c.to_level), score=c.score)
                           for c in changes] or [_("No level changes yet")]})
    return [{"key": "relationship_health", "title": title, "rows": rows}]


def level_tone(level: str) -> str:
    """The colour of a level's badge: healthy ok, watch warn, at risk bad."""
    return {"healthy": "ok", "watch": "warn", "at_risk": "bad"}.get(level, "neutral")


def panel(ticket) -> sdk.TicketPanel | None:
    """The ticket's compact health panel: the customer's level and the
    signal with the most points. None before the customer's first
    recompute (or without a customer): beside a ticket, "not computed"
    says nothing an agent can act on, so the page stays quiet."""
    if ticket.customer_id is None:
        return None
    row = _health(ticket.customer_id)
    if row is None:
        return None
    signals = scoring(row)
    rows: list[sdk.PanelRow] = [
        {"label": _("Health level"), "value": level_label(row.level), "kind": "badge", "tone": level_tone(row.level)},
        {"label": _("Main reason"), "value": signals[0]["label"] if signals else _("No signal scores"), "kind": "text"}]
    return {"key": "relationship_health", "title": _("Relationship health"), "rows": rows}


@functools.cache
def level_sql():
    """The customer's level (NULL before their first recompute): one
    primary-key lookup, built once so the core reuses its list statement."""
    h = CustomerHealth.__table__
    return select(h.c.level).where(h.c.customer_id == sdk.Customer.id).scalar_subquery()


def list_columns() -> list[sdk.CustomerListColumn]:
    """The customer list's health level column, a filter with the three levels, most urgent first."""
    return [{"key": LIST_KEY, "label": _("Health level"), "expression": level_sql(),
             "choices": [{"value": level, "label": level_label(level)} for level in reversed(LEVELS)]}]
