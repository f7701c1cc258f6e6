"""The core's own answers to every decider hook, registered ``trylast``.

They apply when no plugin answers, and when every plugin that tried raised.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from service import hookimpl


@hookimpl(trylast=True)
def sla_targets(ticket, start):
    """Round-the-clock targets from ``DEFAULT_SLA_MINUTES`` by priority."""
    minutes = current_app.config["DEFAULT_SLA_MINUTES"].get(ticket.priority) or {}
    first, resolution = minutes.get("first_response"), minutes.get("resolution")
    return {
        "policy": f"default:{ticket.priority}",
        "first_response_due": start + timedelta(minutes=first) if first else None,
        "resolution_due": start + timedelta(minutes=resolution) if resolution else None,
    }


@hookimpl(trylast=True)
def customer_tier(customer):
    """No tiers without a tier plugin."""
    return None


@hookimpl(trylast=True)
def satisfaction_class(customer):
    """No satisfaction classes without a plugin that derives them."""
    return None


@hookimpl(trylast=True)
def code_label(group, code):
    """The core names its own codes without asking (``service.web.i18n.label``)."""
    return None


@hookimpl(trylast=True)
def remedy_approval(ticket):
    """Approve up to ``DEFAULT_REMEDY_AUTO_APPROVE`` (minor units); ask a supervisor above."""
    limit = current_app.config["DEFAULT_REMEDY_AUTO_APPROVE"]
    amount = ticket.remedy_amount_minor or 0
    # Amounts in the reason read as money (minor units / 100), and a remedy
    # without an amount says so rather than "within the limit (0)".
    if not amount:
        return {"decision": "approved", "reason": "no amount asked"}
    if amount <= limit:
        return {"decision": "approved", "reason": f"{amount / 100:.2f} is within the automatic limit of {limit / 100:.2f}"}
    return {"decision": "needs_approval",
            "reason": f"{amount / 100:.2f} is above the automatic limit of {limit / 100:.2f}: a supervisor decides"}
