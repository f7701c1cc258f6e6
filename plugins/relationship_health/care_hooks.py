"""relationship_health's hooks for key-account owners and proactive care
(issue 18, items 3-4), wired into the plugin by ``__init__``. Each only
hands over to ``owners`` or ``care``; imports wait for the first call, so
loading the plugin does no work.
"""
from __future__ import annotations

from service import hookimpl


@hookimpl
def register_ticket_codes():
    """Kind ``care`` and channel ``outbound``: the care tickets this plugin opens."""
    return {"kinds": ["care"], "channels": ["outbound"]}


@hookimpl
def ticket_created(ticket, actor):
    """Tell the customer's account owner of their new ticket (not of the care
    tickets this plugin opens: those are ``care_opened`` notices)."""
    if ticket.kind == "care":
        return
    from .owners import notify, owner_of

    # One read by primary key; the customer_columns value cannot serve here:
    # it is kept for the opening's transaction, and this runs after its commit.
    if owner_of(ticket.customer_id) is None:
        return
    notify(ticket.customer_id, "ticket_created", f"ticket:{ticket.id}",
           {"number": ticket.number, "subject": ticket.subject}, ticket.id)


@hookimpl
def event_published(event, ticket, data, occurred_at):
    """The events owners hear of: ``sla.breached`` (tier_sla),
    ``survey.answered`` when not solved or rated 2 or less
    (satisfaction_survey), ``customer.health_changed`` (this plugin's
    recompute; at ``at_risk`` also proactive care)."""
    if event == "customer.health_changed":
        from .care import on_health_changed

        on_health_changed(int(data["customer_id"]), data, occurred_at)
    elif event == "sla.breached" and ticket is not None:
        from .owners import notify

        notify(ticket.customer_id, "sla_breached", f"sla:{ticket.id}:{data.get('target')}:{data.get('step')}",
               {"number": ticket.number, "target": data.get("target")}, ticket.id)
    elif event == "survey.answered" and ticket is not None:
        # satisfaction_survey's own rule for a bad answer (answers.is_bad).
        rating = data.get("rating")
        if data.get("solved") is False or (rating is not None and rating <= 2):
            from .owners import notify

            notify(ticket.customer_id, "survey_bad", f"survey:{data.get('survey_id')}",
                   {"number": ticket.number, "solved": bool(data.get("solved")), "rating": rating}, ticket.id)


@hookimpl(tryfirst=True)
def sla_targets(ticket, start):
    """A care ticket's own targets (``HEALTH_CARE_*_DAYS`` business days);
    asked before the SLA plugin's, answering for kind ``care`` only."""
    from .care import sla_targets as targets

    return targets(ticket, start)


@hookimpl
def opening_ticket(draft):
    """A complaint from a key customer at risk opens at ``HEALTH_AT_RISK_COMPLAINT_PRIORITY``, saying why."""
    from .care import complaint_opening

    return complaint_opening(draft)


OWNER_COLUMN = "relationship_health.owner_id"


@hookimpl
def customer_columns(purpose):
    """For the profile only: the owner's staff id (a customer without an
    owner then costs no query of this plugin's) and the health section's
    values (``pages.profile_columns``). Nothing for the other reads: a
    ticket's customer comes through the ticket, and every customer listed
    or opened for would pay for columns nobody reads."""
    from sqlalchemy import select

    from service import sdk

    from .care_models import AccountOwner
    from .pages import profile_columns

    if purpose != sdk.PROFILE:
        return None
    owner = select(AccountOwner.staff_id).where(AccountOwner.customer_id == sdk.Customer.id).scalar_subquery()
    return {OWNER_COLUMN: owner, **profile_columns()}


def _owner_section(customer_id: int, customer=None) -> dict | None:
    """The owner as a one-row panel, or None when the customer has no owner
    (most customers: nothing added to their pages)."""
    from service import sdk

    from .care_texts import OWNER_LABEL
    from .owners import owner_of

    known = sdk.preloaded(customer, OWNER_COLUMN) if customer is not None else sdk.NOT_LOADED
    if known is None:
        return None
    owner = owner_of(customer_id)
    if owner is None:
        return None
    return {"key": "account_owner", "title": str(OWNER_LABEL),
            "rows": [{"label": str(OWNER_LABEL), "value": owner.name}]}


def owner_panel(ticket) -> dict | None:
    """The customer's account owner, for the ticket page (when there is one);
    the plugin's ``ticket_panels`` shows it beside the health panel."""
    return _owner_section(ticket.customer_id, ticket.customer)


def owner_section(customer) -> dict | None:
    """The account owner, for the customer's profile (when there is one);
    the plugin's ``customer_sections`` shows it after the health section."""
    return _owner_section(customer.id, customer)


def code_label(group, code):
    """The care kind, the outbound channel and the care tickets' SLA policy,
    translated (called by the plugin's ``code_label``)."""
    from .care import POLICY as CARE_POLICY
    from .care_texts import CARE_KIND, CARE_POLICY_LABEL, OUTBOUND_CHANNEL

    if (group, code) == ("kind", "care"):
        return str(CARE_KIND)
    if (group, code) == ("channel", "outbound"):
        return str(OUTBOUND_CHANNEL)
    if group == "policy" and code == CARE_POLICY:
        return str(CARE_POLICY_LABEL)
    return None
