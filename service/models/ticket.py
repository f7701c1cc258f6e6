"""The ticket aggregate: one complaint or request on its way through the workflow."""
from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import db
from service.models.base import UTCDateTime, utcnow

KINDS = ("complaint", "service_request", "inquiry", "suggestion")
# How a ticket reached the team. Customers' own forms file "web" (the web form,
# the public API) and mail "email"; an agent records a caller's case from the
# console as "phone", "walk_in" (face to face), "fax", "email" or "chat".
CHANNELS = ("web", "email", "phone", "api", "walk_in", "fax", "chat")
PRIORITIES = ("low", "normal", "high", "urgent")


_NUMBER = re.compile(r"^([A-Za-z]{1,10})-(\d{1,10})$")


def format_number(ticket_id: int) -> str:
    """The human number of ticket ``ticket_id`` under the configured prefix."""
    return f"{current_app.config['TICKET_PREFIX']}-{ticket_id:06d}"


def parse_number(number: str) -> int | None:
    """The ticket id inside ``number`` (prefix as configured, any case), else None."""
    match = _NUMBER.match(number) if isinstance(number, str) else None
    if not match or match.group(1).upper() != current_app.config["TICKET_PREFIX"].upper():
        return None
    value = int(match.group(2))
    return value if 0 < value < 2**31 else None


class _NumberComparator(Comparator):
    def __eq__(self, other):
        ticket_id = parse_number(other) if isinstance(other, str) else None
        return self.__clause_element__() == ticket_id if ticket_id is not None else false()


class Ticket(db.Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(24), default="new")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # A follow-up ticket points at the ticket whose resolution was rejected late.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    # What the customer asks for; amount in minor units (cents, fen).
    remedy_text: Mapped[str | None] = mapped_column(Text)
    remedy_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    remedy_currency: Mapped[str | None] = mapped_column(String(3))
    remedy_decision: Mapped[str | None] = mapped_column(String(20))
    remedy_reason: Mapped[str | None] = mapped_column(Text)
    # Who must approve a remedy that needs approval: "supervisor" or "finance".
    remedy_approver: Mapped[str | None] = mapped_column(String(20))

    resolution: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # last reopen/cancel reason
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    customer_tier: Mapped[str | None] = mapped_column(String(20))
    # Short labels staff and plugins put on a ticket (openers, edits); None reads as none.
    tags: Mapped[list | None] = mapped_column(JSON(none_as_null=True))

    sla_policy: Mapped[str | None] = mapped_column(String(80))
    first_response_due = mapped_column(UTCDateTime)
    resolution_due = mapped_column(UTCDateTime)

    # One timestamp per step of listen -> confirm -> handle -> feed back.
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    confirmed_at = mapped_column(UTCDateTime)
    # When the customer got their first response: what counts is the setting
    # FIRST_RESPONSE (confirming, the first public staff reply, or either).
    first_responded_at = mapped_column(UTCDateTime)
    started_at = mapped_column(UTCDateTime)
    waiting_since = mapped_column(UTCDateTime)
    resolved_at = mapped_column(UTCDateTime)
    reopened_at = mapped_column(UTCDateTime)
    closed_at = mapped_column(UTCDateTime)
    cancelled_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    # SHA-256 of the secret inside the customer's tracking token.
    tracking_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    # Message-ID of the e-mail that opened the ticket (channel email): replies
    # to it find the ticket, and kefu's mails thread under it.
    email_message_id: Mapped[str | None] = mapped_column(String(500), index=True, unique=True)
    # The client's Idempotency-Key (or the public form's own): a request sent
    # again after a lost answer finds this ticket instead of filing another.
    request_key: Mapped[str | None] = mapped_column(String(80))  # unique: ix_tickets_request_key

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # UPDATE ... WHERE version = :seen makes a concurrent write fail instead of
    # silently overwriting (optimistic locking). The use cases raise the
    # version themselves, once per change a client can see, so setting the
    # number or a due time in the same transaction does not count twice.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    # Set on a follow-up ticket in the request that opened it (never stored).
    new_token = None

    @hybrid_property
    def number(self) -> str | None:
        """The human number, e.g. KF-000123: ``TICKET_PREFIX`` and the id.

        Derived, not stored, so a new ticket needs no second write; in
        queries ``Ticket.number == "KF-000123"`` compares the id.
        """
        return format_number(self.id) if self.id is not None else None

    @number.inplace.comparator
    @classmethod
    def _number_comparator(cls):
        return _NumberComparator(cls.id)

    # Loaded with the ticket in one query: nearly every read shows them.
    customer = relationship("Customer", lazy="joined", innerjoin=True)
    category = relationship("Category", lazy="joined", innerjoin=True)
    department = relationship("Department", lazy="joined")
    assignee = relationship("Staff", lazy="joined")
    parent = relationship("Ticket", remote_side=[id])

    __table_args__ = (
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_customer_id_id", "customer_id", "id"),
        # A customer's tickets (and complaints) since a date, from the index alone.
        Index("ix_tickets_customer_id_created_at", "customer_id", "created_at", "kind"),
        # A customer's open tickets (the console's customer list), from the index alone.
        Index("ix_tickets_customer_id_status", "customer_id", "status"),
        Index("ix_tickets_department_id_id", "department_id", "id"),
        Index("ix_tickets_assignee_id_id", "assignee_id", "id"),
        Index("ix_tickets_resolution_due", "resolution_due"),
        # A unique index, not a constraint: SQLite adds it without rebuilding
        # the table (which other tables' keys refer to).
        Index("ix_tickets_request_key", "request_key", unique=True),
        # The dashboard's reports (service.reads.reports; migration 0011).
        Index("ix_tickets_report_groups", "kind", "status", "category_id", "department_id", "created_at"),
        Index("ix_tickets_created_at", "created_at", "resolved_at", "closed_at", "cancelled_at"),
        Index("ix_tickets_resolved_at", "resolved_at", "assignee_id", "department_id", "reopen_count"),
        Index("ix_tickets_status_created_at", "status", "created_at"),
        # The console's queues sorted by last activity (migration 0015): every
        # change and every message, the customer's too, sets updated_at.
        Index("ix_tickets_updated_at", "updated_at"),
        # Sorted by priority, a page is read priority by priority in id order;
        # the at-risk queue and its count read the due times of open tickets
        # by status (service.web.queues, migration 0015).
        Index("ix_tickets_priority_id", "priority", "id"),
        Index("ix_tickets_status_resolution_due", "status", "resolution_due"),
        Index("ix_tickets_status_first_response_due", "status", "first_response_due"),
        # The queue counts on every console page (mine, unassigned, my
        # department, remedies to approve) from an index alone.
        Index("ix_tickets_assignee_id_status", "assignee_id", "status"),
        Index("ix_tickets_department_id_status", "department_id", "status"),
        Index("ix_tickets_remedy_decision", "remedy_decision", "remedy_approver"),
    )
