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
