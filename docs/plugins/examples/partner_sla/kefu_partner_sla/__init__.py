"""kefu-partner-sla: partner customers' tickets get SLA targets of their own.

A partner is a customer whose ``external_ref`` (the account number your CRM
or ERP gave it, set when the customer is created) starts with one of
``PARTNER_SLA_PREFIXES``. Their tickets get ``PARTNER_SLA_MINUTES`` by
priority - minutes to the first response and to the resolution, round the
clock from the ticket's creation - and every other ticket what kefu would
decide without this plugin.

``sla_targets`` is a decider: the first non-None answer wins. ``tryfirst``
puts this one before the SLA plugins that answer for every ticket (the
builtin ``tier_sla``) and the core default; for a non-partner it answers
None, so those decide.
"""
from datetime import timedelta

from marshmallow import Schema, fields, validate

from service import hookimpl, sdk

NAME = "partner_sla"
MINUTES = fields.Integer(validate=validate.Range(min=1, max=365 * 24 * 60))


class Settings(Schema):
    # external_ref prefixes of partner accounts.
    PARTNER_SLA_PREFIXES = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=["P-"])
    # priority -> [minutes to the first response, minutes to the resolution]; a priority left out is not special.
    PARTNER_SLA_MINUTES = fields.Dict(keys=fields.String(validate=validate.OneOf(sdk.PRIORITIES)),
                                      values=fields.Tuple((MINUTES, MINUTES)),
                                      load_default={"urgent": (15, 120), "high": (30, 240), "normal": (60, 480),
                                                    "low": (240, 1440)})


@hookimpl
def register_settings():
    """Who is a partner, and their targets."""
    return Settings


@hookimpl(tryfirst=True)
def sla_targets(ticket, customer, start):
    """A partner's targets for ``ticket`` (opened, or re-prioritised); None
    for anyone else, or a priority the setting leaves out."""
    conf = sdk.plugin_settings(NAME)
    partner = (customer.external_ref or "").startswith(tuple(conf["PARTNER_SLA_PREFIXES"]))
    if not partner or ticket.priority not in conf["PARTNER_SLA_MINUTES"]:
        return None
    first, resolution = conf["PARTNER_SLA_MINUTES"][ticket.priority]
    return {"policy": f"partner:{ticket.priority}", "first_response_due": start + timedelta(minutes=first),
            "resolution_due": start + timedelta(minutes=resolution)}
