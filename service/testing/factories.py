"""Customers, tickets and messages for a test, made through kefu's own use
cases: a ticket "in status resolved" has been opened, confirmed, started,
answered and resolved, so every guard, opener, notification and job a
plugin adds has run on the way, as it would for a real ticket."""
from __future__ import annotations

from service.domain.actors import Actor

# The steps from "new" to each status: (action, who acts, the values it needs).
_PATHS = {
    "new": (),
    "confirmed": ("confirm",),
    "in_progress": ("confirm", "start"),
    "waiting_on_customer": ("confirm", "start", "wait"),
    "resolved": ("confirm", "start", "reply", "resolve"),
    "closed": ("confirm", "start", "reply", "resolve", "accept"),
    "cancelled": ("cancel",),
}


class TicketFactory:
    """The ``kefu_tickets`` fixture. ``ticket(status=...)`` files a ticket as
    a customer would and drives it to ``status`` as the reference agent
    (a supervisor cancels; the customer accepts a resolution to close);
    ``customer(...)`` and ``message(...)`` make the rest."""

    STATUSES = tuple(_PATHS)

    def __init__(self, staff):
        self.staff = staff
        self.tokens: dict[str, str] = {}  # ticket number -> the customer's tracking token
        self._count = 0

    def customer(self, **fields):
        """A customer (``name``, ``email``, ``phone``, ``kind``, ``language``,
        ``external_ref``): defaults a person with a unique address."""
        from service.usecases.customers import create_customer

        self._count += 1
        data = {"name": f"Customer {self._count}", "email": f"customer{self._count}@example.test",
                "kind": "person", "language": "en", **fields}
        return create_customer(data)

    def ticket(self, status: str = "new", *, customer=None, department: str = "after_sales",
               resolution: str = "Replaced under warranty; delivered on Monday.",
               reason: str = "Filed twice by mistake.", channel: str = "web", **fields):
        """A ticket in ``status`` (one of ``STATUSES``). ``fields`` are those
        of opening (``subject``, ``description``, ``kind``, ``category``,
        ``priority``, ``tags``, ``remedy``...); ``customer`` a Customer (a new
        one by default). Every step goes through the use case, so a plugin's
        guard may refuse one: that raises, as it would for a person."""
        from service.usecases import messages, opening
        from service.usecases import tickets as steps

        if status not in _PATHS:
            raise ValueError(f"status must be one of {', '.join(_PATHS)}, not {status!r}")
        customer = customer or self.customer()
        data = {"subject": "Washing machine not delivered", "description": "Ordered two weeks ago, still waiting.",
                "kind": "complaint", **fields, "customer_id": customer.id}
        ticket, token = opening.open_ticket(data, Actor.customer(customer), channel=channel)
        self.tokens[ticket.number] = token
        agent = Actor.staff(self.staff.agent)
        for step in _PATHS[status]:
            if step == "reply":
                messages.add_message(ticket, "We have found the cause and are fixing it today.", agent)
            elif step == "accept":
                steps.answer_resolution(ticket, True, None, Actor.customer(customer))
            elif step == "cancel":
                steps.transition(ticket, "cancel", ticket.version, {"reason": reason},
                                 Actor.staff(self.staff.supervisor))
            else:
                values = {"confirm": {"department": department}, "resolve": {"resolution": resolution}}
                steps.transition(ticket, step, ticket.version, values.get(step, {}), agent)
        return ticket

    def message(self, ticket, body: str = "Any news on this?", *, internal: bool = False, by="customer"):
        """Add a message to ``ticket``: from its customer (``by="customer"``,
        the default), or from staff (a role or a Staff; ``internal`` for a
        note)."""
        from service.usecases import messages

        if by == "customer":
            actor = Actor.customer(ticket.customer)
        else:
            actor = Actor.staff(self.staff.member(by) if isinstance(by, str) else by)
        return messages.add_message(ticket, body, actor, internal=internal)

    def token(self, ticket) -> str:
        """The customer's tracking token of a ticket this factory filed."""
        return self.tokens[ticket.number]
