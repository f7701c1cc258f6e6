"""The sweep adopting a ticket and a change to that ticket start its SLA clock
at the same moment (two workers, two transactions): one clock, no error."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from plugins.tier_sla.models import TicketSla
from plugins.tier_sla.sla import clock_for
from service import sdk
from service.extensions import db
from service.models import Ticket

pytestmark = pytest.mark.postgres_only  # SQLite never runs two writers at once


def test_two_writers_starting_one_clock_both_end_with_the_first_ones_row(app, file_ticket):
    number = file_ticket()["number"]
    ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.number == number))
    db.session.rollback()
    first_inserted, second_blocked = threading.Event(), threading.Event()
    results, errors = {}, []

    def first():
        with app.app_context():
            try:
                with sdk.UnitOfWork() as uow:
                    results["first"] = clock_for(db.session.get(Ticket, ticket_id)).policy_id
                    first_inserted.set()  # its row is written, not committed: the key is held
                    second_blocked.wait(30)
                    uow.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                first_inserted.set()

    def second():
        first_inserted.wait(30)
        with app.app_context():
            try:
                with sdk.UnitOfWork() as uow:
                    # It sees no clock (the first is not committed) and inserts:
                    # the insert waits for the first writer, then finds its row.
                    results["second"] = clock_for(db.session.get(Ticket, ticket_id)).policy_id
                    uow.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()

    def waiting_on_a_lock() -> bool:
        with db.engine.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar())

    deadline = time.monotonic() + 30
    while not waiting_on_a_lock():
        assert time.monotonic() < deadline and errors == [], ("the second insert never waited", errors)
        time.sleep(0.05)
    second_blocked.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results["first"] == results["second"]
    assert db.session.scalar(select(sa.func.count()).select_from(TicketSla).where(
        TicketSla.ticket_id == ticket_id)) == 1
