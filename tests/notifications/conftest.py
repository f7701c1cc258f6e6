"""Fixtures for the staff-notice tests: a real SMTP server on loopback,
staff with departments, a ticket assigned to someone."""
from __future__ import annotations

import pytest
from jobparts import smtp_settings
from sqlalchemy import select

from service.extensions import db
from service.models import Department, Notification


@pytest.fixture
def overrides(smtp_sink):
    return smtp_settings(smtp_sink)


@pytest.fixture
def notices():
    """``notices(ticket_number=None)`` -> [(kind, staff_id, actor)] committed, oldest first."""
    from service.models import Ticket

    def read(number=None):
        db.session.rollback()  # see what other transactions committed
        stmt = select(Notification.kind, Notification.staff_id, Notification.actor).order_by(Notification.id)
        if number is not None:
            stmt = stmt.join(Ticket, Ticket.id == Notification.ticket_id).where(Ticket.number == number)
        return [tuple(row) for row in db.session.execute(stmt)]

    return read


@pytest.fixture
def supervise():
    """``supervise(staff, code)`` makes ``staff`` the supervisor of department ``code``."""

    def make(staff, code):
        dept = db.session.scalar(select(Department).where(Department.code == code))
        dept.supervisor_id = staff.id
        db.session.commit()

    return make
