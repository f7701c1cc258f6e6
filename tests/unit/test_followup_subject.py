"""A follow-up's subject names the ticket it follows and the case's own
subject once, however long the chain of follow-ups (the demo's recoveries
made "Follow-up to A: Follow-up to B: ..." before)."""
from __future__ import annotations

from types import SimpleNamespace as Ticket  # what a ticket is read for here: its number and subject

from service.usecases.tickets import followup_subject


def test_a_follow_up_names_the_ticket_it_follows():
    assert followup_subject(Ticket(number="KF-000001", subject="Washer leaks")) == "Follow-up to KF-000001: Washer leaks"


def test_a_follow_up_of_a_follow_up_keeps_the_case_subject_once():
    chained = Ticket(number="KF-000009", subject="Follow-up to KF-000003: Follow-up to KF-000001: 洗衣机漏水")
    assert followup_subject(chained) == "Follow-up to KF-000009: 洗衣机漏水"


def test_a_subject_that_only_mentions_a_follow_up_is_kept():
    ticket = Ticket(number="KF-000010", subject="Where is my follow-up to the visit?")
    assert followup_subject(ticket) == "Follow-up to KF-000010: Where is my follow-up to the visit?"


def test_the_subject_fits_the_column():
    assert len(followup_subject(Ticket(number="KF-000011", subject="x" * 200))) == 200
