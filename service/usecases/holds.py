"""Holding a row against deletion while a unit of work writes rows that
refer to it.

A use case that reads a customer and then writes a row about them (a tier
override, credit figures) races with a concurrent delete of that customer:
on PostgreSQL the two transactions took their locks in opposite orders
and deadlocked; on SQLite the late write met a deleted row. Holding the
customer first puts every such writer in one order: the hold waits for a
delete in progress (and then finds nothing: 404), or the delete waits
for the holder's commit.
"""
from __future__ import annotations

from sqlalchemy import select, update

from service.domain.errors import NotFound
from service.extensions import db
from service.models import Customer


def hold_customer(customer_id: int) -> Customer:
    """The customer ``customer_id``, held until the current transaction ends:
    nobody can delete them meanwhile. ``NotFound`` (404) when there is no
    such customer (a delete that committed first included).

    Call it inside a unit of work, before writing rows that refer to the
    customer. PostgreSQL: a ``FOR KEY SHARE`` row lock (it blocks deletes
    and key changes only; other holders and edits of the customer's other
    columns go on). SQLite: a write that changes nothing, which takes the
    database's one write lock now instead of at the caller's first write.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        customer = db.session.scalar(select(Customer).where(Customer.id == customer_id)
                                     .with_for_update(read=True, key_share=True))
    else:
        held = db.session.execute(update(Customer.__table__).where(Customer.__table__.c.id == customer_id)
                                  .values(id=Customer.__table__.c.id)).rowcount
        customer = db.session.get(Customer, customer_id) if held else None
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def add_once(row):
    """Add ``row`` to the current transaction unless a row with its primary
    key is there already, and return the one that is: ``row``, or the row a
    concurrent writer committed first.

    For rows that two writers may create at once (a plugin's per-ticket row
    started both by a sweep and by a change to the ticket): instead of one
    of them failing on the key, the second finds the first's row. The insert
    runs in a savepoint, so a lost race leaves the caller's transaction
    usable. On PostgreSQL the second insert waits for the first writer's
    commit and then reads its row; on SQLite writers never overlap.
    """
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    session = db.session
    model = type(row)
    key = inspect(model).primary_key_from_instance(row)
    existing = session.get(model, key)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        winner = session.get(model, key, populate_existing=True)
        if winner is None:  # not the key after all: another constraint
            raise
        return winner
    return row
