"""Who hears about what, by e-mail.

``plan_notices`` runs inside a use case's transaction, just before it
commits, and turns the events of the change into ``mail.notice`` and
``mail.staff_alert`` jobs (so the jobs commit or vanish with the change).
The jobs compose and send later, once each (``effects.effect_once``).

Customers hear when their ticket is received (web and e-mail channels),
confirmed, answered publicly, waits on them, is resolved (with the summary
and accept/reject links), is closed or cancelled. Staff hear whatever plugins raise through
``alert_staff`` (unless they take no mail); their console notices, and
those notices' mail, are ``service.usecases.notifications``.
"""
from __future__ import annotations

from flask import current_app

from service import links
from service.extensions import db
from service.jobs import effects
from service.jobs import registry as jobs
from service.mail.outgoing import compose
from service.mail.outgoing.send import deliver
from service.models import Message, Staff, Ticket

# to_status -> notice, for transitions the customer hears about.
TRANSITION_NOTICES = {
    "confirmed": "confirmed", "waiting_on_customer": "waiting", "resolved": "resolved",
    "closed": "closed", "cancelled": "cancelled",
}


def plan_notices(events: list[tuple[str, dict]]) -> None:
    """Write the mail jobs for ``events`` (the ``(hook, kwargs)`` a unit of work
    emitted) into the current transaction. Must stay cheap: it runs in
    every use case, and events nobody hears about cost nothing.

    A public reply sent with a step in one submit (the console's "Send and
    resolve", "Send and wait for the customer") makes one mail, not two:
    resolving mails the resolution, which is that reply's text; waiting
    mails the reply itself, the question the customer is to answer.
    """
    resolved = {kw["ticket"].id for hook, kw in events
                if hook == "ticket_transitioned" and kw["to_status"] == "resolved"}
    replied = {kw["ticket"].id for hook, kw in events
               if hook == "message_added" and _public_reply(kw["message"])}
    for hook, kwargs in events:
        ticket = kwargs["ticket"]
        if hook == "ticket_created":
            if ticket.channel in current_app.config["MAIL_RECEIPT_CHANNELS"]:
                _customer(ticket, "received")
        elif hook == "ticket_transitioned":
            notice = TRANSITION_NOTICES.get(kwargs["to_status"])
            if notice == "waiting" and ticket.id in replied:
                continue
            if notice and kwargs["action"] != "customer_reply":
                _customer(ticket, notice)
        elif hook == "message_added":
            message = kwargs["message"]
            if _public_reply(message) and ticket.id not in resolved:
                _customer(ticket, "reply", message_id=message.id)
        # Staff hear of assignments through their notices
        # (service.usecases.notifications), mailed per their preference.


def _public_reply(message: Message) -> bool:
    return message.author_type != "customer" and not message.internal


def _customer(ticket: Ticket, notice: str, message_id: int | None = None) -> None:
    if ticket.customer is not None and ticket.customer.email:
        jobs.enqueue("mail.notice", ticket_id=ticket.id, notice=notice, version=ticket.version,
                     message_id=message_id)


def alert_staff(staff_id: int, ticket: Ticket, kind: str, text: str, key: str) -> None:
    """For plugins: mail staff member ``staff_id`` about ``ticket`` (e.g. an SLA
    warning, a bad rating), once per ``key``, after the current transaction
    commits. ``kind`` names the alert in the subject; ``text`` is the body."""
    jobs.enqueue("mail.staff_alert", staff_id=staff_id, ticket_id=ticket.id, kind=kind, text=text, key=key)


ALERT_BATCH = 200  # alerts per job: a job stays short, a retry repeats little


def alert_staff_many(alerts: list[dict]) -> None:
    """As ``alert_staff`` for many alerts at once (``staff_id``, ``ticket_id``,
    ``kind``, ``text``, ``key`` each): one job per ``ALERT_BATCH`` alerts
    instead of one per alert, for plugins that raise many at a time (an SLA
    sweep catching up). Each mail still goes once per key, also when a job
    is retried half-way."""
    for start in range(0, len(alerts), ALERT_BATCH):
        jobs.enqueue("mail.staff_alerts", alerts=alerts[start:start + ALERT_BATCH])


def send_staff_alerts(alerts: list[dict]) -> dict:
    """The ``mail.staff_alerts`` job: ``send_staff_alert`` for each alert, in
    order; a failure raises (the retry skips the mails already sent)."""
    results: dict[str, int] = {}
    for alert in alerts:
        outcome = send_staff_alert(**alert)
        results[outcome] = results.get(outcome, 0) + 1
    return results


def mail_receipt(ticket: Ticket) -> bool:
    """Mail the customer of ``ticket`` that it was received, with the link to
    follow it (notice ``received``), after the current transaction commits,
    whatever its channel: for a case an agent recorded for a caller, who has
    no confirmation page (``MAIL_RECEIPT_CHANNELS`` decides for tickets that
    open themselves). False, and nothing queued, when the customer has no
    e-mail address."""
    if ticket.customer is None or not ticket.customer.email:
        return False
    _customer(ticket, "received")
    return True


def mail_link(ticket: Ticket, request: str) -> bool:
    """Mail the customer of ``ticket`` the link to follow it (notice ``link``),
    after the current transaction commits; ``request`` tells one asking from
    another (each is sent once, however often its job runs). False, and
    nothing queued, when the customer has no e-mail address."""
    if ticket.customer is None or not ticket.customer.email:
        return False
    jobs.enqueue("mail.notice", ticket_id=ticket.id, notice="link", version=ticket.version, request=request)
    return True


def send_notice(ticket_id: int, notice: str, version: int, message_id: int | None = None,
                request: str | None = None) -> str:
    """The ``mail.notice`` job: mail the customer of ticket ``ticket_id`` about ``notice``.

    Sends once per (ticket, notice, and the message, the request or else the
    ticket's version). Returns what happened.
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer is None or not ticket.customer.email:
        return "no recipient"
    key = f"mail:{ticket_id}:{notice}:{message_id or (request and f'r{request}') or version}"
    with effects.effect_once(key) as go:
        if not go:
            return "already sent"
        message = db.session.get(Message, message_id) if message_id else None
        customer = ticket.customer
        email = compose.build(
            number=ticket.number, to=(customer.name, customer.email), notice=notice,
            lang=compose.mail_language(customer.language), key=key,
            # Threads under the customer's own first mail when the ticket came by e-mail.
            references=[ticket.email_message_id] if ticket.email_message_id else None,
            ticket=ticket, customer=customer, message=message,
            links=links.customer_links(ticket, with_answer=notice == "resolved"),
        )
        return deliver(email)


def send_staff_alert(staff_id: int, ticket_id: int, kind: str, text: str, key: str) -> str:
    """The ``mail.staff_alert`` job: mail staff member ``staff_id`` about ``ticket_id``."""
    staff = db.session.get(Staff, staff_id)
    ticket = db.session.get(Ticket, ticket_id)
    if staff is None or not staff.active or ticket is None or staff.notify_mail == "none":
        return "no recipient"
    effect = f"mail:staff:{staff_id}:{key}"
    with effects.effect_once(effect) as go:
        if not go:
            return "already sent"
        email = compose.build(number=ticket.number, to=(staff.name, staff.email), notice="staff_alert",
                              lang=compose.mail_language(staff.language), key=effect, ticket=ticket,
                              staff=staff, kind=kind, text=text, links=[])
        return deliver(email)
