"""Gating remedies by credit: the ``remedy_approval`` decider and the
credit panel on the agent's ticket page.

By the grade in force (``CREDIT_REMEDY_RULES``): a remedy up to the grade's
``auto_limit`` (in ``CREDIT_CURRENCY``) is approved automatically; above it,
or when the grade has no limit (B, C by default), the grade's approver
decides - a supervisor, or finance (C: finance approves, or the customer
pays in advance). An unrated customer is gated as ``CREDIT_UNRATED_AS``
("core": the core default decides).

What agents see: the decision, who must approve and what to do next. The
reason written to the ticket (history, ``remedy.reason``) never names the
grade, the score or the limit, because agents and every later reader of the
ticket see it; supervisors, admins and finance see the grade and score on
the panel and the breakdown through the credit API.
"""
from __future__ import annotations

from .rating import current_rating
from .settings import UNRATED_CORE, settings

PRIVILEGED = ("supervisor", "finance")  # Staff.has_role: admins have both

NEXT_STEP = {
    "approved": "Grant the remedy.",
    "refused": "Explain the refusal to the customer.",
    "supervisor": "Wait for a supervisor to approve or refuse the remedy.",
    "finance": "Wait for finance to approve, or ask the customer to pay in advance.",
}
NEXT_STEP_ZH = {
    "approved": "按客户的要求给予补偿。",
    "refused": "向客户解释拒绝的原因。",
    "supervisor": "等待主管批准或拒绝该补偿。",
    "finance": "等待财务批准，或请客户先付款。",
}


def may_see_credit(staff) -> bool:
    """True for supervisors, admins and finance staff: they may see grades and scores."""
    return any(staff.has_role(role) for role in PRIVILEGED)


def decide(ticket, customer) -> dict | None:
    """The ``remedy_approval`` answer for ``ticket`` (see the module doc), or
    None for an unrated customer when ``CREDIT_UNRATED_AS`` is ``core``."""
    conf = settings()
    rating = current_rating(getattr(customer, "id", None))
    grade = rating.grade if rating is not None and rating.status == "rated" else None
    prefix = "credit check"
    if grade is None:
        if conf.unrated_as == UNRATED_CORE:
            return None
        grade, prefix = conf.unrated_as, "credit check (customer not rated)"
    rule = conf.rules[grade]
    amount = ticket.remedy_amount_minor or 0
    same_currency = amount == 0 or ticket.remedy_currency in (None, conf.currency)
    limit = rule["auto_limit"]
    if limit is not None and same_currency and amount <= limit:
        return {"decision": "approved", "reason": f"{prefix}: within this customer's automatic remedy limit"}
    approver = rule["approver"]
    if approver == "finance":
        why = "this customer's credit needs finance approval for a remedy, or payment in advance"
    elif limit is None:
        why = "this customer's credit needs a supervisor's approval for any remedy"
    elif not same_currency:
        why = (f"the remedy is in {ticket.remedy_currency}, limits are in {conf.currency}: "
               "a supervisor approves")
    else:
        why = "above this customer's automatic remedy limit: a supervisor approves"
    return {"decision": "needs_approval", "reason": f"{prefix}: {why}", "approver": approver}


def panel(ticket, staff) -> dict | None:
    """The ``credit`` panel on tickets with a remedy: for everyone the remedy
    decision, who approves and what to do next; for supervisors, admins and
    finance also the grade, score and quarter in force. None otherwise."""
    if ticket.remedy_decision is None:
        return None
    step = ticket.remedy_approver if ticket.remedy_decision == "needs_approval" else ticket.remedy_decision
    data = {"remedy_decision": ticket.remedy_decision, "approver": ticket.remedy_approver,
            "next_step": NEXT_STEP[step or "supervisor"], "next_step_zh": NEXT_STEP_ZH[step or "supervisor"]}
    if may_see_credit(staff):
        rating = current_rating(ticket.customer_id)
        data["credit"] = None if rating is None else {
            "status": rating.status, "grade": rating.grade,
            "score": str(rating.score) if rating.score is not None else None,
            "quarter": rating.quarter, "source": rating.source, "reason": rating.reason}
    return {"key": "credit", "title": "Credit check", "data": data}
