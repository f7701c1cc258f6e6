"""A settable clock for SLA, survey and reminder tests, on time-machine
(which moves ``datetime.now``, ``time.time`` and friends for the whole
process, the app's use cases and jobs included)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    """The ``kefu_clock`` fixture: starts at the real time and runs on;
    ``move_to(when)`` jumps there, ``advance(hours=2)`` forward. Times are
    timezone-aware UTC (a naive ``when`` is taken as UTC)."""

    def __init__(self):
        import time_machine  # the ``testing`` extra: pip install 'kefu[testing]'

        self._traveller = time_machine.travel(datetime.now(timezone.utc), tick=True)
        self._coordinates = None

    def start(self) -> "Clock":
        self._coordinates = self._traveller.start()
        return self

    def stop(self) -> None:
        self._traveller.stop()

    @staticmethod
    def now() -> datetime:
        """The current (travelled) time, UTC."""
        return datetime.now(timezone.utc)

    def move_to(self, when: datetime | str, *, tick: bool = True) -> datetime:
        """Jump to ``when`` (a datetime or ISO text); with ``tick`` false the
        clock stands still there until moved again. Returns the new now."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        self._coordinates.move_to(when, tick=tick)
        return self.now()

    def advance(self, delta: timedelta | None = None, **parts) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**parts)`` (``hours=2``)."""
        self._coordinates.shift(delta if delta is not None else timedelta(**parts))
        return self.now()
