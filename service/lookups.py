"""Loading things by the codes and numbers clients use, with field-named errors."""
from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy import bindparam, select

from . import snapshots
from .errors import NotFound, ValidationFailed
from .extensions import db
from .models import Category, Customer, Department, Staff, Ticket
from .models.ticket import parse_number


# Statements built once per process: a reused statement keeps its memoized
# cache key, which session.get() rebuilds on every call. Opening and reading
# tickets are the hot paths, so these skip that work.

@functools.cache
def _ticket_by_id():
    return select(Ticket).where(Ticket.id == bindparam("id"))


@functools.cache
def _customer_by_id():
    return select(Customer).where(Customer.id == bindparam("id"))


def ticket_by_number(number: str) -> Ticket:
    """The ticket numbered ``number`` (e.g. KF-000123), else ``NotFound``.

    Its category, customer, department and assignee come in the same query
    (the relationships load joined).
    """
    ticket_id = parse_number(number)
    ticket = None
    if ticket_id is not None:
        ticket = db.session.execute(_ticket_by_id(), {"id": ticket_id}).unique().scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    return ticket


def _by_code(model, code: str, field: str, active_only=False):
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None or (active_only and not row.active):
        raise ValidationFailed(f"unknown {field} {code!r}", {field: [f"unknown code {code!r}"]})
    return row


CATEGORY_COLUMNS = ("id", "code", "name", "name_zh", "active", "position")


def category_by_code(code: str, field: str = "category") -> Category:
    """The active category ``code``, else 422 naming ``field``.

    Found categories are remembered per process for
    ``REFERENCE_CACHE_SECONDS``: every new ticket names one.
    """
    category = snapshots.get("categories", code, Category)
    if category is None:
        category = _by_code(Category, code, field, active_only=True)
        snapshots.put("categories", code, category, CATEGORY_COLUMNS,
                      current_app.config.get("REFERENCE_CACHE_SECONDS") or 0)
    return category


def department_by_code(code: str, field: str = "department") -> Department:
    """The department ``code``, else 422 naming ``field``."""
    return _by_code(Department, code, field)


def staff_by_id(staff_id: int, field: str = "assignee") -> Staff:
    """The active staff member ``staff_id``, else 422 naming ``field``."""
    staff = db.session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise ValidationFailed(f"unknown {field} {staff_id}", {field: [f"no active staff with id {staff_id}"]})
    return staff


def customer_by_id(customer_id: int, field: str | None = None) -> Customer:
    """The customer ``customer_id``: 422 naming ``field`` when given, else 404."""
    customer = db.session.execute(_customer_by_id(), {"id": customer_id}).scalar_one_or_none()
    if customer is None:
        if field:
            raise ValidationFailed(f"unknown {field} {customer_id}", {field: [f"no customer with id {customer_id}"]})
        raise NotFound(f"no customer {customer_id}")
    return customer
