"""The settings of key-account owners and proactive care, declared as fields
that ``settings.HealthSettingsSchema`` takes in (one schema per plugin), and
read as ``settings().care``, a ``CareSettings``.
"""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields, validate

PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class CareSettings:
    """Which tiers are key accounts, where and how fast care tickets go,
    the cool-down between two, and the priority of an at-risk key customer's
    complaint."""

    key_tiers: tuple[str, ...]
    department: str | None
    priority: str
    first_response_days: int
    resolution_days: int
    cooldown_days: int
    complaint_priority: str

    def is_key(self, tier: str | None) -> bool:
        """Whether a customer of ``tier`` is a key account."""
        return tier is not None and tier in self.key_tiers


def _days(low, high):
    return validate.Range(min=low, max=high, error=f"must be whole days from {low} to {high}, not {{input!r}}")


class CareSettingsFields:
    """The fields, mixed into ``HealthSettingsSchema``."""

    # The top tiers whose customers are key accounts (get care tickets, and
    # a raised priority when at risk). The defaults are the top 5 % of both
    # of tier_sla's methods: vip and major in the pyramid, A in ABC.
    HEALTH_KEY_TIERS = fields.List(fields.String(validate=validate.Length(min=1, max=20)),
                                   load_default=lambda: ["vip", "major", "A"],
                                   validate=validate.Length(min=1, error="name at least one tier"))
    # The department (code) a care ticket goes to: its queue when the
    # customer has no account owner. None: no department (the general queue).
    HEALTH_CARE_DEPARTMENT = fields.String(load_default="after_sales", allow_none=True,
                                           validate=validate.Length(min=1, max=40))
    HEALTH_CARE_PRIORITY = fields.String(load_default="high", validate=validate.OneOf(PRIORITIES))
    # A care ticket's own targets, in business days (Monday to Friday).
    HEALTH_CARE_FIRST_RESPONSE_DAYS = fields.Integer(load_default=1, strict=True, validate=_days(1, 30))
    HEALTH_CARE_RESOLUTION_DAYS = fields.Integer(load_default=5, strict=True, validate=_days(1, 90))
    # No new care ticket for a customer within this many days of the last
    # one's closing (or cancelling).
    HEALTH_CARE_COOLDOWN_DAYS = fields.Integer(load_default=30, strict=True, validate=_days(0, 365))
    # A complaint from a key customer at risk opens at least at this priority.
    HEALTH_AT_RISK_COMPLAINT_PRIORITY = fields.String(load_default="urgent", validate=validate.OneOf(PRIORITIES))


def build(data: dict) -> CareSettings:
    """The ``CareSettings`` of the loaded settings ``data``."""
    return CareSettings(key_tiers=tuple(data["HEALTH_KEY_TIERS"]), department=data["HEALTH_CARE_DEPARTMENT"],
                        priority=data["HEALTH_CARE_PRIORITY"],
                        first_response_days=data["HEALTH_CARE_FIRST_RESPONSE_DAYS"],
                        resolution_days=data["HEALTH_CARE_RESOLUTION_DAYS"],
                        cooldown_days=data["HEALTH_CARE_COOLDOWN_DAYS"],
                        complaint_priority=data["HEALTH_AT_RISK_COMPLAINT_PRIORITY"])
