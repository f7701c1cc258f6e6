"""kefu-acme-vip's settings, declared with their defaults and checked at start."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from service import sdk

HOOKS = ("opening_ticket", "guard_ticket_change", "ticket_transitioned", "ticket_panels")


class AcmeSettings(Schema):
    # Customers in these tiers (as the customer_tier decider names them) are VIP.
    ACME_VIP_TIERS = fields.List(fields.String(validate=validate.Length(min=1, max=20)), load_default=["vip"])
    # For the plugin's own tests: these hooks raise.
    ACME_VIP_BROKEN = fields.List(fields.String(validate=validate.OneOf(HOOKS)), load_default=[])


def settings() -> dict:
    """The checked settings of this app."""
    return sdk.plugin_settings("acme_vip")


def break_if_asked(hook: str) -> None:
    """Raise when the settings ask this hook to fail (tests)."""
    if hook in settings()["ACME_VIP_BROKEN"]:
        raise RuntimeError(f"acme_vip broken on purpose in {hook}")
