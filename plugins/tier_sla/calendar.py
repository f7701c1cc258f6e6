"""Business calendars for SLA clocks: pure Python, no database, no Flask.

A :class:`Calendar` says which instants are business time: working windows
per weekday in a local time zone (several per day, e.g. around a lunch
break), minus public holidays from the ``holidays`` package, minus extra
closed days, plus the package's make-up working days (China's 调休) and the
calendar's own extra working days. An ``always_open`` calendar (24x7) counts
every instant.

Contracts shared by every method:

* Datetimes in are timezone-aware, in any zone; a naive datetime raises
  ``ValueError``. Datetimes out are aware and in UTC.
* Business time is *real elapsed time* inside the working windows: each
  local window is turned into a pair of UTC instants and the time between
  them is measured. On a daylight-saving change day a window that contains
  the skipped hour is one hour shorter, one that contains the repeated hour
  is one hour longer (a 01:00-04:00 window is 2 hours long in Berlin on
  2026-03-29 and 4 hours on 2026-10-25).
* Local wall times are turned into instants with ``zoneinfo``:
  an ambiguous wall time (the repeated hour) uses ``fold=0``, its first
  occurrence; a nonexistent wall time (the skipped hour) means the instant
  the clocks jumped (so a window lying entirely inside the gap is empty).
  This mapping never goes backwards, so the windows of one day, and of
  consecutive days, never overlap in real time.
* Internally all arithmetic is in integer microseconds (datetime's own
  resolution), so ``business_minutes(start, add(start, n))`` gives back ``n``
  exactly and business time is exactly additive over split points;
  ``minutes`` given as a float are rounded to the microsecond.
* ``pauses`` is a sequence of ``(start, end)`` aware intervals during which
  the clock stands still (``waiting_on_customer``); ``end`` may be ``None``
  for a pause still going on. Pauses may overlap and be in any order.

Windows are ``(start, end)`` pairs of :class:`datetime.time` in local wall
time, start < end; an end of ``time(0)`` means 24:00 (the end of the day),
so ``(time(0), time(0))`` is the whole day. A window cannot cross midnight:
split a night shift into two windows on consecutive weekdays. In JSON
(``to_dict``/``from_dict``) times are ``"HH:MM"`` or ``"HH:MM:SS"`` strings and
the end of the day is written ``"24:00"``.
"""
from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "ALWAYS_OPEN_DATA",
    "DEFAULT_CALENDAR_DATA",
    "Calendar",
]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
_INF = float("inf")
#: How many consecutive days without any working time ``add`` walks before it
#: decides the calendar is misconfigured.
NO_WORK_LIMIT_DAYS = 366 * 3
_CACHE_LIMIT = 20_000  # cached days per calendar before the cache is dropped
_DAY = timedelta(days=1)
from .calendar_data import (  # noqa: E402  (the JSON form; re-exported)
    _MIDNIGHT, ALWAYS_OPEN_DATA, DEFAULT_CALENDAR_DATA, Window, _check_country, _check_days, _check_windows,
    _fmt_time, _parse_days, _parse_weekday, _parse_windows,
)


def _to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (dt - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _aware_us(dt, what: str) -> int:
    if not isinstance(dt, datetime):
        raise ValueError(f"{what}: expected a datetime, got {dt!r}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime {dt.isoformat()}; pass a timezone-aware datetime")
    return _to_us(dt)


def _minutes_us(minutes) -> int:
    if isinstance(minutes, timedelta):
        us = minutes // _ONE_US
    elif isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise ValueError(f"minutes: expected a number, got {minutes!r}")
    elif isinstance(minutes, int):
        us = minutes * _US_PER_MINUTE
    else:
        if not math.isfinite(minutes):
            raise ValueError(f"minutes: must be finite, got {minutes!r}")
        us = round(minutes * _US_PER_MINUTE)
    if us < 0:
        raise ValueError(f"minutes: must be >= 0, got {minutes!r}")
    return us


def _norm_pauses(pauses) -> list[tuple[int, float]]:
    """Pauses as sorted, merged (start_us, end_us) with end = inf when open."""
    if pauses is None:
        return []
    spans: list[tuple[int, float]] = []
    for i, pause in enumerate(pauses):
        try:
            ps, pe = pause
        except (TypeError, ValueError):
            raise ValueError(f"pauses[{i}]: a pause is a (start, end) pair") from None
        s = _aware_us(ps, f"pauses[{i}].start")
        e = _INF if pe is None else _aware_us(pe, f"pauses[{i}].end")
        if e < s:
            raise ValueError(f"pauses[{i}]: ends before it starts")
        if e > s:
            spans.append((s, e))
    spans.sort()
    merged: list[tuple[int, float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _free(a: int, b, pauses: list, ends: list) -> Iterator[tuple[int, float]]:
    """The non-empty parts of [a, b) outside the merged ``pauses``."""
    i = bisect.bisect_right(ends, a)  # first pause ending after a
    cur = a
    while cur < b:
        if i < len(pauses) and pauses[i][0] < b:
            ps, pe = pauses[i]
            if ps > cur:
                yield cur, ps
            cur = max(cur, pe)
            i += 1
        else:
            yield cur, b
            return


@functools.lru_cache(maxsize=512)
def _country_days(country: str, subdivision: str | None, year: int):
    """(public holidays, make-up working days) of ``year`` from ``holidays``.

    The next year is populated too, because a make-up working day can be
    declared by the next year's schedule (a Spring Festival in January moved
    from a December weekend)."""
    import holidays

    hol = holidays.country_holidays(country, subdiv=subdivision, years=[year, year + 1])
    off = frozenset(d for d in hol if d.year == year)
    makeup = frozenset(
        d for d in getattr(hol, "weekend_workdays", ()) if d.year == year and d not in hol
    )
    return off, makeup


# ---------------------------------------------------------------- Calendar


@dataclass(frozen=True)
class Calendar:
    """A business calendar (immutable, hashable, safe to share between threads).

    Fields:

    * ``name``: what error messages call it.
    * ``timezone``: IANA zone name of the windows' wall times.
    * ``windows``: weekday (0 = Monday .. 6 = Sunday) -> working windows in
      local wall time (see the module docstring for windows); weekdays absent
      or empty are closed. Stored sorted; overlapping windows are an error,
      touching ones (12:00 end, 12:00 start) are fine.
    * ``country`` / ``subdivision``: public holidays from the ``holidays``
      package (``None``: no public holidays). For countries with make-up
      working days on weekends (CN's 调休) those days are working days.
      The package is only as good as its release: a year whose official
      schedule it does not have yet is estimated by rule, without make-up
      days (holidays 0.109 has CN up to 2026); correct it with
      ``closed_days`` / ``extra_working_days``.
    * ``closed_days``: extra closed local dates (beat everything else).
    * ``extra_working_days``: extra working local dates (beat public holidays).
      May not intersect ``closed_days``.
    * ``always_open``: the 24x7 calendar; every instant counts and ``windows``,
      ``country``, ``closed_days``, ``extra_working_days`` are ignored.
    * ``makeup_windows``: the windows of a working day whose weekday has no
      windows (a make-up Saturday, an extra working Sunday). ``None`` means
      the windows of the first weekday, from Monday on, that has some
      (normally Monday's).
    """

    name: str
    timezone: str
    windows: dict[int, tuple[Window, ...]]
    country: str | None = "CN"
    subdivision: str | None = None
    closed_days: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    always_open: bool = False
    makeup_windows: tuple[Window, ...] | None = None
    _tz: ZoneInfo = field(init=False, repr=False, compare=False, default=None)
    _cache: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    # ------------------------------------------------------------ building

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name: must be a non-empty string")
        if not isinstance(self.timezone, str):
            raise ValueError(f"timezone: expected an IANA time zone name, got {self.timezone!r}")
        try:
            tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        setattr_(self, "_tz", tz)
        if not isinstance(self.windows, Mapping):
            raise ValueError("windows: expected a mapping weekday -> windows")
        windows: dict[int, tuple[Window, ...]] = {}
        for wd, value in self.windows.items():
            if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6:
                raise ValueError(f"windows: weekday must be an int 0..6 (0=Monday), got {wd!r}")
            checked = _check_windows(f"windows.{wd}", value)
            if checked:
                windows[wd] = checked
        setattr_(self, "windows", dict(sorted(windows.items())))
        if self.makeup_windows is not None:
            setattr_(self, "makeup_windows", _check_windows("makeup_windows", self.makeup_windows))
        _check_country(self.country, self.subdivision)
        closed = _check_days("closed_days", self.closed_days)
        extra = _check_days("extra_working_days", self.extra_working_days)
        both = sorted(closed & extra)
        if both:
            raise ValueError(f"extra_working_days: {both[0].isoformat()} is also in closed_days")
        setattr_(self, "closed_days", closed)
        setattr_(self, "extra_working_days", extra)
        if not isinstance(self.always_open, bool):
            raise ValueError("always_open: expected true or false")

    def __hash__(self) -> int:
        return hash(
            (self.name, self.timezone, tuple(self.windows.items()), self.country, self.subdivision,
             self.closed_days, self.extra_working_days, self.always_open, self.makeup_windows)
        )

    @classmethod
    def from_dict(cls, data: Mapping) -> Calendar:
        """Build a calendar from JSON data (the shape :meth:`to_dict` writes).

        Keys: ``name``, ``timezone`` and ``windows`` are required (``windows``
        may be ``{}`` when ``always_open``); ``windows`` maps a weekday
        (``"0"``..``"6"``, 0 = Monday, or ``"mon"``..``"sun"``) to a list of
        ``["HH:MM", "HH:MM"]`` pairs, ``"24:00"`` ending a window at midnight;
        ``makeup_windows`` is such a list or null; ``country`` (default
        ``"CN"``) and ``subdivision`` are codes of the ``holidays`` package or
        null; ``closed_days`` and ``extra_working_days`` are lists of
        ``"YYYY-MM-DD"``; ``always_open`` is a boolean. Unknown keys and bad
        values raise ``ValueError`` whose message starts with the field
        (``"windows.1: overlapping windows 09:00-12:00 and 11:00-13:00"``).
        """
        if not isinstance(data, Mapping):
            raise ValueError("calendar: expected an object")
        known = {"name", "timezone", "windows", "makeup_windows", "country", "subdivision",
                 "closed_days", "extra_working_days", "always_open"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown field")
        always_open = data.get("always_open", False)
        for key in ("name", "timezone") + (() if always_open is True else ("windows",)):
            if key not in data:
                raise ValueError(f"{key}: required")
        raw = data.get("windows")
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ValueError("windows: expected an object weekday -> list of windows")
        windows: dict[int, list[Window]] = {}
        for key, value in raw.items():
            wd = _parse_weekday(key)
            if wd in windows:
                raise ValueError(f"windows.{wd}: weekday given twice")
            windows[wd] = _parse_windows(f"windows.{wd}", value)
        makeup = data.get("makeup_windows")
        return cls(
            name=data["name"],
            timezone=data["timezone"],
            windows=windows,
            country=data.get("country", "CN"),
            subdivision=data.get("subdivision"),
            closed_days=_parse_days("closed_days", data.get("closed_days")),
            extra_working_days=_parse_days("extra_working_days", data.get("extra_working_days")),
            always_open=always_open,
            makeup_windows=None if makeup is None else _parse_windows("makeup_windows", makeup),
        )

    def to_dict(self) -> dict:
        """JSON data for this calendar; ``Calendar.from_dict(c.to_dict()) == c``."""

        def win(ws):
            return [[_fmt_time(s), _fmt_time(e, end=True)] for s, e in ws]

        return {
            "name": self.name,
            "timezone": self.timezone,
            "windows": {str(wd): win(ws) for wd, ws in self.windows.items()},
            "makeup_windows": None if self.makeup_windows is None else win(self.makeup_windows),
            "country": self.country,
            "subdivision": self.subdivision,
            "closed_days": sorted(d.isoformat() for d in self.closed_days),
            "extra_working_days": sorted(d.isoformat() for d in self.extra_working_days),
            "always_open": self.always_open,
        }

    # ------------------------------------------------------------ days

    def is_working_day(self, d: date) -> bool:
        """Whether the local date ``d`` is a working day.

        In order: ``always_open`` -> True; a closed day -> False; an extra
        working day -> True; a public holiday of ``country`` -> False; a
        make-up working day of ``country`` -> True; otherwise whether its
        weekday has windows. (A working day can still have no business time
        if its only windows fall into a daylight-saving gap.)"""
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ValueError(f"d: expected a date, got {d!r}")
        return self._day_windows(d) is not None

    def _day_windows(self, d: date) -> tuple[Window, ...] | None:
        """The local windows of working day ``d``; None when ``d`` is closed."""
        if self.always_open:
            return ((_MIDNIGHT, _MIDNIGHT),)
        if d in self.closed_days:
            return None
        if d not in self.extra_working_days:
            if self.country is not None:
                off, makeup = _country_days(self.country, self.subdivision, d.year)
                if d in off:
                    return None
                if d in makeup:
                    return self.windows.get(d.weekday()) or self._makeup()
            return self.windows.get(d.weekday())
        return self.windows.get(d.weekday()) or self._makeup()

    def _makeup(self) -> tuple[Window, ...] | None:
        if self.makeup_windows is not None:
            return self.makeup_windows
        return next(iter(self.windows.values()), None)

    def _local_us(self, d: date, t: time) -> int:
        """The instant (µs) of local wall time ``t`` on ``d``: fold=0 when
        ambiguous, the moment of the jump when nonexistent."""
        naive = datetime.combine(d, t)
        hi = _to_us(naive.replace(tzinfo=self._tz))  # fold=0
        if _from_us(hi).astimezone(self._tz).replace(tzinfo=None) == naive:
            return hi
        # In a gap: fold=1 reads it with the offset after the jump, which
        # lands before the jump; find the jump between the two readings.
        lo = _to_us(naive.replace(tzinfo=self._tz, fold=1))
        after = _from_us(hi).astimezone(self._tz).utcoffset()
        if lo >= hi:  # not a plain forward jump; keep fold=0
            return hi
        while hi - lo > 1:  # invariant: offset(lo) != after, offset(hi) == after
            mid = (lo + hi) // 2
            if _from_us(mid).astimezone(self._tz).utcoffset() == after:
                hi = mid
            else:
                lo = mid
        return hi

    def _intervals(self, d: date) -> tuple[tuple[int, int], ...]:
        """Non-empty working intervals (µs, half-open) of local date ``d``."""
        got = self._cache.get(d)
        if got is not None:
            return got
        windows = self._day_windows(d)
        out = []
        for s, e in windows or ():
            a = self._local_us(d, s)
            b = self._local_us(d + _DAY, _MIDNIGHT) if e == _MIDNIGHT else self._local_us(d, e)
            if b > a:
                out.append((a, b))
        got = tuple(out)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[d] = got
        return got

    def windows_on(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of local date ``d`` as aware UTC
        ``(start, end)`` pairs, half-open, in order; ``[]`` on a closed day.
        For ``always_open`` it is the whole local day."""
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ValueError(f"d: expected a date, got {d!r}")
        return [(_from_us(a), _from_us(b)) for a, b in self._intervals(d)]

    def _local_date(self, us: int) -> date:
        return _from_us(us).astimezone(self._tz).date()

    def _walk(self, start: int, stop: int | None = None) -> Iterator[tuple[int, float]]:
        """Working intervals ending after ``start``, in order, until the one
        that reaches ``stop`` (or forever). Raises ValueError after
        ``NO_WORK_LIMIT_DAYS`` days in a row without any working time (only
        when there is no ``stop``: a bounded walk just ends)."""
        if self.always_open:
            yield start, _INF
            return
        d = self._local_date(start)
        last = None if stop is None else self._local_date(stop)
        idle = 0
        while last is None or d <= last:
            ivs = self._intervals(d)
            if ivs:
                idle = 0
                for a, b in ivs:
                    if b > start:
                        yield a, b
            else:
                idle += 1
                if stop is None and idle > NO_WORK_LIMIT_DAYS:
                    raise ValueError(
                        f"calendar {self.name!r} has no working time in {NO_WORK_LIMIT_DAYS} days "
                        f"after {d - timedelta(days=idle - 1)}"
                    )
            d += _DAY

    # ------------------------------------------------------------ arithmetic

    def add(self, start: datetime, minutes, pauses=()) -> datetime | None:
        """The earliest instant at which ``minutes`` business minutes have
        elapsed since ``start`` (aware UTC), or ``None`` when the clock is
        stopped for good first: an open pause (end ``None``) begins before
        the minutes are used up.

        Nights, closed weekdays, holidays, closed days and pauses do not
        count; if ``start`` is outside working time the clock starts at the
        next window opening. ``minutes`` is an int, a float (rounded to the
        microsecond) or a ``timedelta``, >= 0. For ``minutes > 0`` the result
        lies in ``(a, b]`` of a working interval ``[a, b)`` not inside a
        pause (it may be exactly a window's end: 180 minutes from 09:00 is
        12:00, not the 13:30 reopening). ``minutes == 0`` gives the next
        working instant at or after ``start`` (``start`` itself when it is
        working time). Always ``business_minutes(start, add(start, n),
        pauses) == n``. Raises ValueError when the calendar has no working
        time at all for ``NO_WORK_LIMIT_DAYS`` days in a row.
        """
        s = _aware_us(start, "start")
        need = _minutes_us(minutes)
        pauses_ = _norm_pauses(pauses)
        ends = [e for _, e in pauses_]
        open_from = pauses_[-1][0] if pauses_ and pauses_[-1][1] == _INF else None
        for a, b in self._walk(s):
            for fa, fb in _free(max(a, s), b, pauses_, ends):
                if need == 0:
                    return _from_us(fa)
                if fb - fa >= need:
                    return _from_us(fa + need)
                need -= fb - fa
            if open_from is not None and open_from < b:
                return None  # the rest of the road is one endless pause
        raise AssertionError("unreachable")  # pragma: no cover

    def business_time(self, start: datetime, end: datetime, pauses=()) -> timedelta:
        """Business time between ``start`` and ``end`` as an exact
        ``timedelta`` (see :meth:`business_minutes`)."""
        s = _aware_us(start, "start")
        e = _aware_us(end, "end")
        pauses_ = _norm_pauses(pauses)
        if e <= s:
            return timedelta(0)
        ends = [pe for _, pe in pauses_]
        total = 0
        for a, b in self._walk(s, e):
            if a >= e:
                break
            for fa, fb in _free(max(a, s), min(b, e), pauses_, ends):
                total += fb - fa
            if b >= e:
                break
        return timedelta(microseconds=total)

    def business_minutes(self, start: datetime, end: datetime, pauses=()) -> float:
        """Business minutes between two instants: working time in
        ``[start, end)`` outside the pauses, 0 when ``end <= start``. Seconds
        count as fractions of a minute (computed from integer microseconds,
        so whole minutes come back as exact integral floats). Additive over
        split points, ``bm(a, c) == bm(a, b) + bm(b, c)`` for ``a <= b <= c``:
        exactly in :meth:`business_time`, up to float rounding here. Never
        raises for a calendar without working time: that is 0 minutes."""
        return self.business_time(start, end, pauses) / timedelta(minutes=1)
