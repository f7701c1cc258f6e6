"""Column types and helpers shared by the models."""
from __future__ import annotations

import functools
from datetime import datetime, timezone

from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.interfaces import MANYTOONE
from sqlalchemy.types import DateTime, TypeDecorator

from service.clock import now as _clock_now


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC. All stored times are UTC.

    Read through ``service.clock``, so ``kefu demo`` can move it for the
    history it builds (``service.clock.moved_to``)."""
    return _clock_now()


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` would convert on
    the way out; storing naive UTC behaves the same on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; kefu stores aware UTC times")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)

    def result_processor(self, dialect, coltype):
        """``process_result_value`` after the driver's own conversion, as one
        function: what ``TypeDecorator`` builds calls two more per value, and
        a page of tickets reads some 300 timestamps."""
        convert = self.impl_instance.result_processor(dialect, coltype)
        utc = timezone.utc
        if convert is None:
            def process(value):
                return None if value is None else value.replace(tzinfo=utc)
        else:
            def process(value):
                value = convert(value)
                return None if value is None else value.replace(tzinfo=utc)
        return process


@functools.cache
def _insert_returning(table, names: tuple[str, ...]):
    # One statement object per table and set of returned columns: SQLAlchemy
    # memoizes a statement's cache key on the object, so reusing it skips
    # rebuilding the key on every call (the parameters, not .values(), carry
    # each row).
    return insert(table).returning(*(table.c[name] for name in names))


@functools.cache
def _attribute_keys(mapper) -> dict:
    # Column -> attribute name of the mapper's table; mappers live as long as
    # the process, and asking the mapper per column per insert added up.
    return {column: mapper.get_property_by_column(column).key for column in mapper.local_table.c}


def insert_attached(session, obj, run_insert=None) -> None:
    """Write the transient ``obj`` with one INSERT ... RETURNING and attach it
    to ``session`` as a persistent object, as if it had just been loaded.

    Why not ``session.add`` and flush: the ORM's flush of one new object sorts
    a unit of work over the whole session and costs several times the INSERT
    itself, and opening a ticket is the hottest write path. Contract: ``obj``
    is transient; its many-to-one relationships, if set, point at persistent
    objects (their keys are copied into the foreign-key columns); it has no
    one-to-many collections to save. Column defaults apply to columns left
    unset; their values, the primary key's and NULL for the other unset
    columns are set on ``obj``, so nothing is expired.
    Errors (integrity, data) are raised by the INSERT like a flush's.

    ``run_insert(session, table, values, returned)``, if given, may run the
    INSERT instead (e.g. together with more writes in one statement) and
    return its RETURNING row (the ``returned`` column names, in order), or
    return None to leave the INSERT to this function.
    """
    mapper = inspect(obj).mapper
    state = obj.__dict__
    for rel in mapper.relationships:
        if rel.direction is MANYTOONE and state.get(rel.key) is not None:
            target = state[rel.key]
            target_mapper = inspect(target).mapper
            for local, remote in rel.local_remote_pairs:
                setattr(obj, mapper.get_property_by_column(local).key,
                        getattr(target, target_mapper.get_property_by_column(remote).key))
    table = mapper.local_table
    keys = _attribute_keys(mapper)
    values = {column.name: state[key] for column, key in keys.items()
              if key in state and not (column.primary_key and state[key] is None)}
    # Only what the database (or a column default) fills comes back: the
    # primary key and unset columns with a default. Unset columns without
    # one are NULL. Fewer returned columns is less work for the driver.
    returned = tuple(column.name for column in table.c if column.name not in values and (
        column.primary_key or column.default is not None or column.server_default is not None))
    row = run_insert(session, table, values, returned) if run_insert is not None else None
    if row is None:
        row = session.execute(_insert_returning(table, returned), values).one()
    for name, value in zip(returned, row):
        setattr(obj, keys[table.c[name]], value)
    for column, key in keys.items():
        if key not in state:
            setattr(obj, key, None)
    make_transient_to_detached(obj)
    session.add(obj)


def upsert(model, values: dict, keys: tuple[str, ...], update: tuple[str, ...]):
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET update`` for ``model``
    (a row per pair of keys, written at once whether it exists or not: two
    requests writing it at the same moment do not collide), on PostgreSQL
    and SQLite alike."""
    from service.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(model).values(**values)
    return stmt.on_conflict_do_update(index_elements=list(keys), set_={name: values[name] for name in update})
