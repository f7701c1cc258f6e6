"""Marks on queue rows for one staff member: "customer replied" and unread
since they last opened the ticket.

A seam between the queue pages and the notifications: the queue view calls
``queue_row_flags`` for the tickets of one page (one query, not one per row).
"""
from __future__ import annotations


def queue_row_flags(staff, tickets) -> dict[int, dict]:
    """For ``tickets`` (one page of a queue), ``{ticket_id: {"customer_replied":
    bool, "unread": bool}}``; tickets without marks may be left out."""
    return {}
