"""Reading customers for the console: the list (search, plugin filters, sorts,
pages) and the profile's core parts (tickets, notes, merged records).

The list is one SELECT per page: the customer's own columns, their open
tickets and last contact (index-only subqueries on ``tickets``), and the
plugins' ``customer_list_columns`` expressions. Filtering or sorting on a
plugin column evaluates it for every customer, so plugins keep them indexed
lookups; the first page in the default order (newest first) reads 26 rows.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import String, bindparam, func, or_, select

from service.domain.workflow import OPEN_STATUSES
from service.extensions import db
from service.hooks import plugins
from service.hooks.isolation import core_connection
from service.hooks.manager import FAILED
from service.hooks.types import CustomerListColumn, check
from service.models import Customer, CustomerNote, Staff, Ticket
from service.models.ticket import format_number
from service.reads.listing import escape_like

PAGE_SIZE = 25
CORE_SORTS = ("newest", "open", "last_contact")


@dataclass
class CustomerList:
    """One page of the list: ``rows`` (dicts of the shown values), the
    plugin ``columns`` given to this viewer, what was applied (``q``,
    ``filters``, ``sort``) and the page number with whether another follows."""

    rows: list[dict]
    columns: list[dict]
    q: str
    filters: dict = field(default_factory=dict)
    sort: str = "newest"
    page: int = 1
    has_next: bool = False


def _check_column(item) -> None:
    check(item, CustomerListColumn)
    if not hasattr(item["expression"], "label"):
        raise ValueError("customer_list_columns: expression must be an SQL expression")
    for choice in item.get("choices") or []:
        if not isinstance(choice, dict) or not {"value", "label"} <= set(choice):
            raise ValueError("customer_list_columns: each choice needs value and label")


def list_columns(staff) -> list[dict]:
    """The plugins' ``customer_list_columns`` for ``staff``, each with its
    ``plugin``; a plugin whose answer failed is left out (and counted), and
    so is a key given twice."""
    out, seen = [], set()
    for plugin, item in plugins().collect_isolated("customer_list_columns", check_item=_check_column, staff=staff):
        if item is FAILED or item["key"] in seen or item["key"] in CORE_SORTS:
            continue
        seen.add(item["key"])
        out.append({**item, "plugin": plugin, "choices": list(item.get("choices") or []),
                    "sortable": bool(item.get("sortable")), "kind": item.get("kind") or "text"})
    return out


def _open_tickets():
    return (select(func.count()).select_from(Ticket)
            .where(Ticket.customer_id == Customer.id, Ticket.status.in_(OPEN_STATUSES))
            .scalar_subquery())


def _last_contact():
    return select(func.max(Ticket.created_at)).where(Ticket.customer_id == Customer.id).scalar_subquery()


def search_condition(q: str | None = None):
    """Literal, case-insensitive ``q`` in name, e-mail, phone or external
    reference (a number finds that customer id too). Without ``q``, the
    condition with bound parameters ``q_pattern`` (and ``q_id`` when
    ``by_id``) for a statement built once."""
    pattern = bindparam("q_pattern", type_=String)
    matches = [col.ilike(pattern, escape="\\") for col in (Customer.name, Customer.email, Customer.phone,
                                                            Customer.external_ref)]
    if q is not None and q.isdigit() and 0 < int(q) < 2**31:
        matches.append(Customer.id == bindparam("q_id"))
    return or_(*matches)


def search_params(q: str) -> dict:
    """The bound parameters of ``search_condition(q)``."""
    params = {"q_pattern": f"%{escape_like(q.lower())}%"}
    if q.isdigit() and 0 < int(q) < 2**31:
        params["q_id"] = int(q)
    return params


_STATEMENTS = "kefu_customer_list_statements"  # app.extensions: {key: (expressions, statement)}


def _list_statement(columns: list[dict], by_id: bool | None, filtered: tuple[int, ...], sort: str, per_page: int):
    """The list's statement for this shape of request, built once per app:
    a reused statement keeps its memoized cache key, and building one costs
    more than SQLite's work for the page. Values come as bound parameters
    (``q_pattern``, ``q_id``, ``f<n>``). The entry keeps the plugins'
    expressions it was built from and is used only while they are the same
    objects (a plugin answering new ones each time just gets a new build)."""
    expressions = tuple(c["expression"] for c in columns)
    key = (tuple(c["key"] for c in columns), by_id, filtered, sort, per_page)
    cache = current_app.extensions.setdefault(_STATEMENTS, {})
    found = cache.get(key)
    if found is not None and len(found[0]) == len(expressions) and all(
            a is b for a, b in zip(found[0], expressions)):
        return found[1]
    labelled = [expr.label(f"col_{n}") for n, expr in enumerate(expressions)]
    stmt = select(Customer.id, Customer.name, Customer.email, Customer.phone, Customer.external_ref,
                  Customer.language, _open_tickets().label("open_tickets"), _last_contact().label("last_contact"),
                  *labelled).where(Customer.merged_into_id.is_(None))
    if by_id is not None:
        stmt = stmt.where(search_condition("1" if by_id else ""))
    for n in filtered:
        stmt = stmt.where(expressions[n] == bindparam(f"f{n}"))
    if sort == "open":
        order = [_open_tickets().desc()]
    elif sort == "last_contact":
        order = [_last_contact().desc().nulls_last()]
    elif sort.startswith("col_"):
        order = [expressions[int(sort[4:])].desc().nulls_last()]
    else:
        order = []
    stmt = stmt.order_by(*order, Customer.id.desc()).limit(per_page + 1)
    if len(cache) >= 256:  # shapes are few; plugins answering new expressions each time are not
        cache.clear()
    cache[key] = (expressions, stmt)
    return stmt


def list_customers(staff, q: str = "", filters: dict | None = None, sort: str = "newest",
                   page: int = 1, per_page: int = PAGE_SIZE, columns: list[dict] | None = None) -> CustomerList:
    """One page of customers not merged into another, for ``staff``.

    ``filters``: ``{column key: value}`` for the plugin columns with
    ``choices`` given to this viewer; a key not given (a credit grade for an
    agent) or a value not among the choices is ignored, not an error.
    ``sort``: ``newest`` (default), ``open`` (most open tickets),
    ``last_contact`` (latest ticket opened) or a ``sortable`` plugin
    column's key (highest first); anything else is ``newest``. Ties go
    newest first. Offset pages of ``per_page`` (one row more is read to
    know whether another page follows). ``columns``: ``list_columns(staff)``
    when the caller has them already.
    """
    columns = list_columns(staff) if columns is None else columns
    index = {c["key"]: n for n, c in enumerate(columns)}
    q = (q or "").strip()[:200]
    params = search_params(q) if q else {}
    applied, filtered = {}, []
    for key, value in (filters or {}).items():
        n = index.get(key)
        if n is not None and value in {c["value"] for c in columns[n]["choices"]}:
            filtered.append(n)
            params[f"f{n}"] = value
            applied[key] = value
    if sort in index and columns[index[sort]]["sortable"]:
        shape = f"col_{index[sort]}"
    elif sort in ("open", "last_contact"):
        shape = sort
    else:
        sort = shape = "newest"
    page = max(1, min(page, 100_000))
    stmt = _list_statement(columns, ("q_id" in params) if q else None, tuple(sorted(filtered)), shape, per_page)
    if page > 1:
        stmt = stmt.offset((page - 1) * per_page)
    # Plain column rows: read past the ORM (isolation.core_connection), as the ticket lists do.
    rows = core_connection(db.session).execute(stmt, params).all()
    shown = []
    for row in rows[:per_page]:
        values = row._mapping
        shown.append({"id": row.id, "name": row.name, "email": row.email, "phone": row.phone,
                      "external_ref": row.external_ref, "language": row.language,
                      "open_tickets": row.open_tickets, "last_contact": row.last_contact,
                      "columns": {c["key"]: values[f"col_{n}"] for n, c in enumerate(columns)}})
    return CustomerList(rows=shown, columns=columns, q=q, filters=applied, sort=sort, page=page,
                        has_next=len(rows) > per_page)


@functools.lru_cache(maxsize=16)
def _tickets_of(limit: int):
    return (select(Ticket.id, Ticket.subject, Ticket.kind, Ticket.status, Ticket.created_at, Ticket.updated_at)
            .where(Ticket.customer_id == bindparam("customer_id")).order_by(Ticket.id.desc()).limit(limit))


@functools.lru_cache(maxsize=16)
def _notes_of(limit: int):
    return (select(CustomerNote.id, CustomerNote.body, CustomerNote.created_at, Staff.name.label("author"))
            .outerjoin(Staff, Staff.id == CustomerNote.staff_id)
            .where(CustomerNote.customer_id == bindparam("customer_id"))
            .order_by(CustomerNote.id.desc()).limit(limit))


@functools.cache
def _merged_into():
    return (select(Customer.id, Customer.name, Customer.external_ref, Customer.merged_at)
            .where(Customer.merged_into_id == bindparam("customer_id"))
            .order_by(Customer.merged_at.desc(), Customer.id.desc()))


def customer_tickets(customer_id: int, limit: int = 50) -> list[dict]:
    """The customer's latest ``limit`` tickets, newest first (number,
    subject, kind, status, created_at, updated_at)."""
    rows = core_connection(db.session).execute(_tickets_of(limit), {"customer_id": customer_id}).all()
    return [{**row._mapping, "number": format_number(row.id)} for row in rows]


def customer_notes(customer_id: int, limit: int = 100) -> list:
    """The customer's notes, newest first, each with its author's name
    (``author``; None when the author was deleted)."""
    return core_connection(db.session).execute(_notes_of(limit), {"customer_id": customer_id}).all()


def merged_records(customer_id: int) -> list:
    """The records merged into this customer (id, name, merged_at), latest first."""
    return core_connection(db.session).execute(_merged_into(), {"customer_id": customer_id}).all()


def find_duplicates(customer: Customer, q: str, limit: int = 20) -> list:
    """Candidates to merge into ``customer``: customers not merged, other
    than it, matching ``q`` (as the list's search), newest first."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    return db.session.execute(select(Customer.id, Customer.name, Customer.email, Customer.phone,
                                     Customer.external_ref)
                              .where(Customer.merged_into_id.is_(None), Customer.id != customer.id,
                                     search_condition(q))
                              .order_by(Customer.id.desc()).limit(limit), search_params(q)).all()


def find_callers(q: str, limit: int = 8) -> list:
    """Customers an agent may be talking to: not merged into another,
    matching ``q`` (as the list's search: name, e-mail, phone, reference,
    or the id), newest first; rows of ``id, name, email, phone,
    external_ref, language``. Empty for a blank ``q``."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    return db.session.execute(select(Customer.id, Customer.name, Customer.email, Customer.phone,
                                     Customer.external_ref, Customer.language)
                              .where(Customer.merged_into_id.is_(None), search_condition(q))
                              .order_by(Customer.id.desc()).limit(limit), search_params(q)).all()
