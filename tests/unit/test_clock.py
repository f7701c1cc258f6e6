"""``service.clock``: the demo's moved clock is the time every use case reads
inside ``moved_to``, for that code only, and the real time after it."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from service.clock import is_moved, moved_to, now
from service.models.base import utcnow

WHEN = datetime(2026, 6, 1, 8, 30, tzinfo=timezone.utc)


def _close_to_real(value: datetime) -> bool:
    return abs(value - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_moved_to_is_what_utcnow_answers_and_the_real_time_comes_back():
    assert not is_moved() and _close_to_real(utcnow())
    with moved_to(WHEN) as at:
        assert at == utcnow() == now() == WHEN and is_moved()
        with moved_to(WHEN + timedelta(days=3)):
            assert utcnow() == WHEN + timedelta(days=3)  # the inner block wins
        assert utcnow() == WHEN
    assert not is_moved() and _close_to_real(utcnow())


def test_a_naive_time_is_utc_and_an_error_still_puts_the_real_time_back():
    with pytest.raises(RuntimeError), moved_to(datetime(2026, 6, 1, 8, 30)):
        assert utcnow() == WHEN
        raise RuntimeError("a use case failed")
    assert _close_to_real(utcnow())


def test_other_threads_keep_the_real_time():
    seen = []
    with moved_to(WHEN):
        worker = threading.Thread(target=lambda: seen.append(utcnow()))
        worker.start()
        worker.join()
    assert _close_to_real(seen[0])
