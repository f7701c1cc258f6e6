"""Loading things by the codes and numbers clients use, with field-named errors."""
from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from service.db_errors import is_database_unavailable
from service.domain.errors import NotFound, ValidationFailed
from service.extensions import db
from service.hooks.manager import FAILED
from service.models import Category, Customer, Department, Staff, Ticket
from service.models.ticket import parse_number
from service.reads import process_cache

# Statements built once per process: a reused statement keeps its memoized
# cache key, which session.get() rebuilds on every call. Opening and reading
# tickets are the hot paths, so these skip that work.

@functools.cache
def _ticket_by_id():
    return select(Ticket).where(Ticket.id == bindparam("id"))


NOT_LOADED = object()  # ``preloaded``'s answer for a value not read with the customer
_PRELOADED = "_kefu_preloaded"  # on a Customer: (the transaction it was read in, values)
OPENING = "ticket"  # ``customer_columns`` purpose: the customer a ticket is being opened for
SHOWING = "show"  # ``customer_columns`` purpose: customers shown to staff
PROFILE = "profile"  # ``customer_columns`` purpose: the customer's profile page (``customer_sections``)


def _built_read(purpose: str) -> tuple:
    # (hook implementations, labelled columns, names, statement by id), built
    # once per app, purpose and set of ``customer_columns`` implementations,
    # so a reused statement keeps its memoized cache key. A plugin whose
    # columns cannot be had is left out of the read (logged and counted).
    manager = current_app.extensions["kefu_plugins"]
    key = tuple(impl.plugin_name for impl in manager.impls("customer_columns"))
    reads = current_app.extensions.setdefault("kefu_customer_read", {})
    built = reads.get(purpose)
    if built is None or built[0] != key:
        columns = {}
        for plugin, part in manager.collect_isolated("customer_columns", check_item=_check_columns,
                                                     purpose=purpose):
            if part is FAILED:
                continue
            for name, expression in part.items():
                if name in columns:
                    raise ValueError(f"customer_columns: {name!r} is given twice (again by {plugin})")
                columns[name] = expression
        labelled = tuple(expr.label(f"preload_{n}") for n, expr in enumerate(columns.values()))
        statement = select(Customer, *labelled).where(Customer.id == bindparam("id"))
        built = reads[purpose] = (key, labelled, tuple(columns), statement)
    return built


def _check_columns(part) -> None:
    if not isinstance(part, dict) or not all(isinstance(k, str) and hasattr(v, "label") for k, v in part.items()):
        raise ValueError("customer_columns must answer {name: SQL expression}")


def customer_read(purpose: str) -> tuple[tuple, tuple[str, ...]]:
    """``(columns, names)``: the plugins' ``customer_columns`` for ``purpose``
    (``OPENING``, ``SHOWING`` or ``PROFILE``) to select with a customer (labelled
    ``preload_<n>``), and their names in the same order."""
    _, labelled, names, _ = _built_read(purpose)
    return labelled, names


def keep_preloaded(customer: Customer, names, values) -> Customer:
    """Keep the ``customer_columns`` values read with ``customer`` (``values``
    in the order of ``names``, from ``customer_read``) for the current transaction."""
    session = db.session()
    setattr(customer, _PRELOADED, (session, session.get_transaction(), dict(zip(names, values))))
    return customer


def preloaded(customer, name: str):
    """The ``customer_columns`` value ``name`` read with ``customer`` in this
    transaction, else ``NOT_LOADED`` (then query for it yourself)."""
    kept = getattr(customer, _PRELOADED, None)
    # The session kept with the values, not the request's (db.session()): the
    # same one, and a decider asks for a dozen values per customer shown.
    if kept is None or kept[0].get_transaction() is not kept[1]:
        return NOT_LOADED
    return kept[2].get(name, NOT_LOADED)


def view_options() -> tuple:
    """Loader options for tickets that are only shown (API ``get`` and lists).

    The related rows load joined as in the model, but only the columns a
    ticket's representation shows: a shown ticket then costs about 45 result
    columns instead of 67 (the assignee's password hash among them), which is
    most of the driver's and the ORM's work per row. Use cases keep the full
    rows (``ticket_by_number``): their mail and checks read more.
    """
    return (
        joinedload(Ticket.customer).load_only(Customer.name, Customer.kind),
        joinedload(Ticket.category).load_only(Category.code, Category.name, Category.name_zh),
        joinedload(Ticket.department).load_only(Department.code, Department.name, Department.name_zh),
        joinedload(Ticket.assignee).load_only(Staff.name),
    )


@functools.cache
def _ticket_view_by_id():
    return select(Ticket).where(Ticket.id == bindparam("id")).options(*view_options())


def ticket_by_number(number: str, view: bool = False) -> Ticket:
    """The ticket numbered ``number`` (e.g. KF-000123), else ``NotFound``.

    Its category, customer, department and assignee come in the same query
    (the relationships load joined); with ``view`` only the columns a
    representation shows (``view_options``), for a ticket that is only shown.
    """
    ticket_id = parse_number(number)
    ticket = None
    if ticket_id is not None:
        stmt = _ticket_view_by_id() if view else _ticket_by_id()
        ticket = db.session.execute(stmt, {"id": ticket_id}).unique().scalar_one_or_none()
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
    category = process_cache.get("categories", code, Category)
    if category is None:
        category = _by_code(Category, code, field, active_only=True)
        process_cache.put("categories", code, category, CATEGORY_COLUMNS,
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


@functools.cache
def _customer_by_id():
    return select(Customer).where(Customer.id == bindparam("id"))


def customer_by_id(customer_id: int, field: str | None = None, preload: str | None = None) -> Customer:
    """The customer ``customer_id``: 422 naming ``field`` when given, else 404.

    With ``preload`` (``OPENING``, ``SHOWING`` or ``PROFILE``) the plugins'
    ``customer_columns`` for that purpose come in the same query
    (``preloaded``); without, nothing more is read.
    """
    if preload is None:
        customer = db.session.execute(_customer_by_id(), {"id": customer_id}).scalar_one_or_none()
    else:
        _, _, names, statement = _built_read(preload)
        row = db.session.execute(statement, {"id": customer_id}).first()
        customer = keep_preloaded(row[0], names, row[1:]) if row is not None else None
    if customer is None:
        if field:
            raise ValidationFailed(f"unknown {field} {customer_id}", {field: [f"no customer with id {customer_id}"]})
        raise NotFound(f"no customer {customer_id}")
    return customer


def customer_for_profile(customer_id: int) -> Customer:
    """``customer_by_id`` with the plugins' ``customer_columns`` for
    ``PROFILE``. When that read fails in the database (a plugin's expression
    is broken, a table it names is gone), the error is logged and the
    customer is read alone: the page still shows, its sections querying for
    themselves. Only for the profile, a page that has written nothing the
    rollback could undo."""
    try:
        return customer_by_id(customer_id, preload=PROFILE)
    except DBAPIError as exc:
        if is_database_unavailable(exc):
            raise
        current_app.logger.error("the profile's customer read with the plugins' customer_columns failed; "
                                 "reading the customer alone: %s", exc)
        db.session.rollback()
        return customer_by_id(customer_id)
