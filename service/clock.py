"""What time kefu thinks it is: ``now()``, which ``service.models.base.utcnow``
(and through it every use case, job and plugin) reads.

Normally the real time. ``moved_to(when)`` makes ``now()`` answer ``when``
inside a ``with`` block, for the code running in that block only: the moved
time lives in a context variable, so other threads (a web request, a job
runner) keep the real time, and leaving the block puts the real time back
even when it raises. ``kefu demo`` uses it to build months of history
through the real use cases at the times they would have happened.

Code that reads ``time.time()`` (rate limits, the periodic job scheduler,
webhook signatures) is not moved: those are about the machine, not about
the business history.

Tests move the whole process's clock with time-machine instead
(``service.testing.clock``); both compose: outside ``moved_to``, ``now()``
is ``datetime.now``, which time-machine moves.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_MOVED: ContextVar[datetime | None] = ContextVar("kefu_moved_now", default=None)


def now() -> datetime:
    """The current time, timezone-aware UTC: the moved time inside
    ``moved_to``, else the real one."""
    moved = _MOVED.get()
    return moved if moved is not None else datetime.now(UTC)


def is_moved() -> bool:
    """True inside ``moved_to`` (the clock is not the real time)."""
    return _MOVED.get() is not None


@contextmanager
def moved_to(when: datetime) -> Iterator[datetime]:
    """Make ``now()`` answer ``when`` (it stands still there) until the block
    ends; blocks nest, the inner one wins. A naive ``when`` is taken as UTC.
    Yields ``when`` (aware)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    token = _MOVED.set(when.astimezone(UTC))
    try:
        yield _MOVED.get()
    finally:
        _MOVED.reset(token)
