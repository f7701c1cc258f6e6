"""kefu-remedy-guard: a ticket whose remedy (the compensation the customer
asked for when filing it) still waits for approval cannot be resolved or
closed: the customer must hear what they get before the ticket ends.

A guard (``guard_ticket_change``) is asked before every workflow step, by
every path (the API, the console, the customer's accept, the auto-close
job, other plugins), inside the change's transaction: it only reads the
ticket. Its refusal is a 409 with the code ``remedy_pending``, the console
shows its message, and the ticket's history records it.
"""
from marshmallow import Schema, fields, validate

from service import hookimpl, sdk

NAME = "remedy_guard"

# Shown as given to whoever tried: in their language.
MESSAGE = {
    "en": "The remedy the customer asked for waits for {approver} approval: decide it before you {action} the ticket.",
    "zh": "客户要求的补偿正在等待{approver}审批：请先作出决定，再{action}该工单。",
}
WORDS = {"en": {"supervisor": "supervisor", "finance": "finance", "resolve": "resolve", "close": "close",
                "cancel": "cancel"},
         "zh": {"supervisor": "主管", "finance": "财务", "resolve": "解决", "close": "关闭", "cancel": "取消"}}


class Settings(Schema):
    # The workflow steps refused while a remedy waits for approval.
    REMEDY_GUARD_ACTIONS = fields.List(fields.String(validate=validate.OneOf(("resolve", "close", "cancel"))),
                                       load_default=["resolve", "close"])


@hookimpl
def register_settings():
    """Which steps wait for the remedy's decision."""
    return Settings


@hookimpl
def guard_ticket_change(ticket, change):
    """Refuse the steps of ``REMEDY_GUARD_ACTIONS`` while the ticket's remedy
    is ``needs_approval``; None (no objection) otherwise."""
    if change.kind != "transition" or change.action not in sdk.plugin_settings(NAME)["REMEDY_GUARD_ACTIONS"]:
        return None
    if ticket.remedy_decision != "needs_approval":  # none asked, or approved or refused already
        return None
    language = sdk.current_language()
    words = WORDS[language]
    return {"code": "remedy_pending", "message": MESSAGE[language].format(
        approver=words[ticket.remedy_approver or "supervisor"], action=words[change.action])}
