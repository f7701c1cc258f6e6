"""Gating remedies by credit: the ``remedy_approval`` decider and the
credit panel on the agent's ticket page.

By the grade in force (``CREDIT_REMEDY_RULES``): a remedy up to the grade's
``auto_limit`` (in ``CREDIT_CURRENCY``) is approved automatically; above it,
or when the grade has no limit (B, C by default), the grade's approver
decides - a supervisor, or finance (C: finance approves, or the customer
pays in advance). An unrated customer is gated as ``CREDIT_UNRATED_AS``
("core": no answer, so the core default decides).

What agents see: the decision, who must approve and what to do next. The
reason written to the ticket (history, ``remedy.reason``) never names the
grade, the score or the limit, because agents and every later reader of the
ticket see it; supervisors, admins and finance see the grade and score on
the panel and the breakdown through the credit API.

The panel is typed rows (``sdk.PanelRow``) in the page's language: the
request's locale as Flask-Babel chose it (the staff member's language, the
browser's, else ``DEFAULT_LANGUAGE``), English or Chinese (``TEXTS``).
"""
from __future__ import annotations

import re

from flask_babel import get_locale

from service import sdk

from .rating import INTERNAL, current_rating
from .settings import UNRATED_CORE, settings

PRIVILEGED = ("supervisor", "finance")  # Staff.has_role: admins have both
DECISION_TONES = {"approved": "ok", "needs_approval": "warn", "refused": "bad"}  # the badge's colour

# The panel's words, per language; the next step is keyed by the decision,
# or for one waiting for approval by the approver.
TEXTS = {
    "en": {
        "title": "Credit check", "remedy": "Remedy", "approver": "Approver", "next_step": "Next step",
        "grade": "Credit grade", "score": "Score", "quarter": "Quarter", "source": "Source", "note": "Note",
        "approved": "approved", "needs_approval": "waits for approval", "refused": "refused",
        "supervisor": "Supervisor", "finance": "Finance", "scorecard": "scorecard",
        "unrated": "unrated", "not_rated": "not rated yet",
    },
    "zh": {
        "title": "信用检查", "remedy": "补偿", "approver": "审批人", "next_step": "下一步",
        "grade": "信用等级", "score": "得分", "quarter": "季度", "source": "来源", "note": "说明",
        "approved": "已批准", "needs_approval": "待审批", "refused": "已拒绝",
        "supervisor": "主管", "finance": "财务", "scorecard": "评分卡",
        "unrated": "未评级", "not_rated": "尚未评级",
    },
}
NEXT_STEP = {
    "en": {
        "approved": "Grant the remedy.",
        "refused": "Explain the refusal to the customer.",
        "supervisor": "Wait for a supervisor to approve or refuse the remedy.",
        "finance": "Wait for finance to approve, or ask the customer to pay in advance.",
    },
    "zh": {
        "approved": "按客户的要求给予补偿。",
        "refused": "向客户解释拒绝的原因。",
        "supervisor": "等待主管批准或拒绝该补偿。",
        "finance": "等待财务批准，或请客户先付款。",
    },
}


# What ``decide`` writes as the decision's reason: English, kept in the
# ticket's record (``remedy_reason``, the history) for every later reader and
# the API. Pages show it in their reader's language through ``code_label``
# (group ``reason``, ``reason_label``): each part has its words here.
PREFIX = {"rated": "credit check", "unrated": "credit check (customer not rated)"}
WHY = {
    "within": "within this customer's automatic remedy limit",
    "finance": "this customer's credit needs finance approval for a remedy, or payment in advance",
    "supervisor": "this customer's credit needs a supervisor's approval for any remedy",
    "above": "above this customer's automatic remedy limit: a supervisor approves",
    "currency": "the remedy is in {remedy}, limits are in {limits}: a supervisor approves",
}
REASON_TEXTS = {
    "zh": {
        "rated": "信用检查", "unrated": "信用检查（客户尚未评级）",
        "within": "在该客户的自动补偿额度内",
        "finance": "该客户的信用要求由财务批准补偿，或请客户先付款",
        "supervisor": "该客户的信用要求任何补偿都由主管批准",
        "above": "超出该客户的自动补偿额度，由主管批准",
        "currency": "补偿的币种是 {remedy}，额度的币种是 {limits}，由主管批准",
    },
}
_CURRENCY_WHY = re.compile(r"^the remedy is in (\S+), limits are in (\S+): a supervisor approves$")


def reason_label(reason: str) -> str | None:
    """``reason`` (as ``decide`` writes it) in the page's language; None for
    a text that is not one of this plugin's reasons, or on an English page
    (the record is in English already)."""
    lang = language()
    if lang not in REASON_TEXTS or not isinstance(reason, str):
        return None
    words = REASON_TEXTS[lang]
    for prefix_key, prefix in sorted(PREFIX.items(), key=lambda item: -len(item[1])):
        if reason.startswith(prefix + ": "):
            why = reason[len(prefix) + 2:]
            break
    else:
        return None
    for key, text in WHY.items():
        if why == text:
            return f"{words[prefix_key]}：{words[key]}"
    found = _CURRENCY_WHY.match(why)
    if found:
        return f"{words[prefix_key]}：{words['currency'].format(remedy=found.group(1), limits=found.group(2))}"
    return None


def may_see_credit(staff) -> bool:
    """True for supervisors, admins and finance staff: they may see grades and scores."""
    return any(staff.has_role(role) for role in PRIVILEGED)


def decide(ticket, customer) -> sdk.RemedyDecision | None:
    """The ``remedy_approval`` answer for ``ticket`` (see the module doc), or
    None for an unrated customer when ``CREDIT_UNRATED_AS`` is ``core``."""
    conf = settings()
    rating = current_rating(getattr(customer, "id", None))
    grade = rating.grade if rating is not None and rating.status == "rated" else None
    prefix = PREFIX["rated"]
    if grade is None:
        if conf.unrated_as == UNRATED_CORE:
            return None
        grade, prefix = conf.unrated_as, PREFIX["unrated"]
    rule = conf.rules[grade]
    amount = ticket.remedy_amount_minor or 0
    same_currency = amount == 0 or ticket.remedy_currency in (None, conf.currency)
    limit = rule["auto_limit"]
    if limit is not None and same_currency and amount <= limit:
        return {"decision": "approved", "reason": f"{prefix}: {WHY['within']}"}
    approver = rule["approver"]
    if approver == "finance":
        why = WHY["finance"]
    elif limit is None:
        why = WHY["supervisor"]
    elif not same_currency:
        why = WHY["currency"].format(remedy=ticket.remedy_currency, limits=conf.currency)
    else:
        why = WHY["above"]
    return {"decision": "needs_approval", "reason": f"{prefix}: {why}", "approver": approver}


def language() -> str:
    """``zh`` when the page is in Chinese, else ``en``."""
    locale = get_locale()
    return "zh" if locale is not None and str(locale).startswith("zh") else "en"


def panel(ticket, staff) -> sdk.TicketPanel | None:
    """The ``credit`` panel on tickets with a remedy: for everyone the remedy
    decision, who approves and what to do next; for supervisors, admins and
    finance also the grade (or why there is none), score, quarter, source
    and note of the rating in force. None on tickets without a remedy."""
    if ticket.remedy_decision is None:
        return None
    lang = language()
    text = TEXTS[lang]
    step = ticket.remedy_approver if ticket.remedy_decision == "needs_approval" else ticket.remedy_decision
    rows: list[sdk.PanelRow] = [
        {"label": text["remedy"], "value": text.get(ticket.remedy_decision, ticket.remedy_decision),
         "kind": "badge", "tone": DECISION_TONES.get(ticket.remedy_decision, "neutral")}]
    if ticket.remedy_approver is not None:
        rows.append({"label": text["approver"], "value": text.get(ticket.remedy_approver, ticket.remedy_approver),
                     "kind": "text"})
    rows.append({"label": text["next_step"], "value": NEXT_STEP[lang][step or "supervisor"], "kind": "text"})
    if may_see_credit(staff):
        rows += _credit_rows(current_rating(ticket.customer_id), text)
    return {"key": "credit", "title": text["title"], "rows": rows}


def _credit_rows(rating, text: dict) -> list[sdk.PanelRow]:
    if rating is None:
        return [{"label": text["grade"], "value": text["not_rated"], "kind": "badge"}]
    rows: list[sdk.PanelRow] = [
        {"label": text["grade"], "value": rating.grade if rating.status == "rated" else text["unrated"],
         "kind": "badge"}]
    if rating.score is not None:
        rows.append({"label": text["score"], "value": str(rating.score), "kind": "text"})
    rows.append({"label": text["quarter"], "value": rating.quarter, "kind": "text"})
    source = text["scorecard"] if rating.source == INTERNAL else rating.source
    rows.append({"label": text["source"], "value": source, "kind": "text"})
    if rating.reason:
        rows.append({"label": text["note"], "value": rating.reason, "kind": "text"})
    return rows
