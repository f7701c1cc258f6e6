"""The visible texts of relationship_health: the builtin signals' labels and
explanations, the levels, in English with their Chinese in kefu's catalog.

Lazy (``lazy_gettext``): built when imported, translated when shown, in the
language of whoever is being answered. An explanation takes ``value``,
``threshold`` and ``window`` (days) as ``%(name)s`` placeholders.
"""
from __future__ import annotations

from service.sdk import lazy_gettext as _l

# label key (signals.json "label") -> (label, explanation)
SIGNAL_TEXTS = {
    "recency": (
        _l("Silence since the last purchase"),
        _l("Days since the last purchase divided by the customer's usual interval between purchases: "
           "%(value)s (scores from %(threshold)s; one purchase only: the interval is a year)")),
    "revenue_trend": (
        _l("Revenue falling"),
        _l("Sales in the last %(window)s days fell by %(value)s%% against the %(window)s days before "
           "(scores from %(threshold)s%%; nothing bought lately after buying before counts as 100%%)")),
    "returns": (
        _l("Returns, exchanges and cancellations"),
        _l("Returns, exchanges and cancellations in the last %(window)s days as a share of purchases then: "
           "%(value)s%% (scores from %(threshold)s%%)")),
    "complaints": (
        _l("Complaints rising"),
        _l("Complaints in the last %(window)s days: %(value)s (scores from %(threshold)s, as the complaint "
           "trend counts a rise)")),
    "satisfaction": (
        _l("Complaining, lost or not solved"),
        _l("1 when the satisfaction class is complaining or lost, or the last survey said not solved "
           "(surveys of the last %(window)s days): %(value)s")),
    "contact_changes": (
        _l("Contact details changing"),
        _l("Changes of e-mail or phone in the last %(window)s days: %(value)s (scores above %(threshold)s)")),
    "sla_overdue": (
        _l("Open tickets past their SLA"),
        _l("Open tickets past their resolution due time: %(value)s (scores from %(threshold)s)")),
}

LEVEL_TEXTS = {
    "healthy": _l("Healthy"),
    "watch": _l("Watch"),
    "at_risk": _l("At risk"),
}


def level_label(level: str | None) -> str | None:
    """The level's name in the current language (None for None)."""
    return None if level is None else str(LEVEL_TEXTS.get(level, level))
