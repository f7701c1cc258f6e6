"""Marks on queue rows for one staff member: "customer replied" and unread
since they last opened the ticket.

A seam between the queue pages and the notifications: the queue view calls
``queue_row_flags`` for the tickets of one page (one query, not one per row)
and each row of ``web/console/_ticket_table.html`` shows its ``flags``.
"""
from __future__ import annotations

from service.reads.notifications import row_flags


def queue_row_flags(staff, tickets) -> dict[int, dict]:
    """For ``tickets`` (one page of a queue), ``{ticket_id: {"customer_replied":
    bool, "unread": bool}}``; tickets without marks may be left out. One
    query for the page (``service.reads.notifications.row_flags``)."""
    return row_flags(staff, [t.id for t in tickets])
