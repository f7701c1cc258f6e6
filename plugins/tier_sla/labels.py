"""Names of tier_sla's codes in the reader's language (``code_label``):
tiers, calendars, the plugin itself, and SLA policy ids as people read them.

Tiers and calendars are named by operators (``TIER_SHARES``, the policy's
``calendars``); the builtin ones have translations here, others are shown as
configured.
"""
from __future__ import annotations

import functools
import re

from service.sdk import gettext as _
from service.sdk import lazy_gettext as _l
from service.sdk import pgettext

CALENDARS = {"business": _l("business hours"), "24x7": _l("around the clock")}


def _tiers() -> dict[str, str]:
    """The builtin tiers' names in the page's language (made once per language)."""
    from flask_babel import get_locale

    return _tiers_in(str(get_locale()))


@functools.lru_cache(maxsize=16)
def _tiers_in(locale: str) -> dict[str, str]:
    # Called with ``locale`` in force. In the "tier" context: a tier's
    # "Ordinary" is not the satisfaction class's.
    return {"vip": pgettext("tier", "VIP"), "major": pgettext("tier", "Major"),
            "ordinary": pgettext("tier", "Ordinary"), "small": pgettext("tier", "Small"),
            "A": pgettext("tier", "Class A"), "B": pgettext("tier", "Class B"), "C": pgettext("tier", "Class C")}
_POLICY = re.compile(r"^tier_sla:v(\d+):([^:]+):(.+)$")


# The reasons the SLA clock gives ``sdk.refresh_sla`` (kept in English in
# the ticket's history): how a page in another language shows them.
_REAPPLIED = re.compile(r"^policy v(\d+) re-applied by (.+)$")
_RETIERED = re.compile(r"^customer tier changed from (\S+) to (\S+)$")


def reason_label(reason: str) -> str | None:
    """A reason this plugin recorded, in the page's language; None for any other text."""
    if reason == "clock paused":
        return _("SLA clock paused while waiting for the customer")
    if reason == "clock resumed":
        return _("SLA clock resumed")
    found = _REAPPLIED.match(reason)
    if found:
        return _("SLA policy version %(version)s applied again by %(who)s", version=found.group(1),
                 who=found.group(2))
    found = _RETIERED.match(reason)
    if found:
        old, new = (_("none") if t == "-" else tier_name(t) for t in found.groups())
        return _("Customer tier changed from %(old)s to %(new)s", old=old, new=new)
    return None


def tier_name(code: str) -> str:
    """A tier as shown: the builtin names translated, an operator's own as written."""
    return _tiers().get(code, code)


def label(group: str, code: str) -> str | None:
    """The ``code_label`` answer: None for codes that are not tier_sla's."""
    if group == "tier":
        return _tiers().get(code)
    if group == "plugin" and code == "tier_sla":
        return _("Tiers and SLA")
    if group == "calendar":
        return str(CALENDARS[code]) if code in CALENDARS else None
    if group == "reason":
        return reason_label(code)
    if group == "policy":
        found = _POLICY.match(code)
        if found:
            version, tier, calendar = found.groups()
            return _("SLA policy version %(version)s: %(tier)s customers, %(calendar)s", version=version,
                     tier=tier_name(tier), calendar=str(CALENDARS.get(calendar, calendar)))
    return None
