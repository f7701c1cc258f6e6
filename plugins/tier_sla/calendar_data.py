"""Calendar data: parsing, checking and writing the JSON form of a business
calendar (``Calendar.from_dict`` / ``to_dict``), and the two calendars kefu
ships. Every error names the field and the reason (``windows.1: ...``)."""
from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

_MIDNIGHT = time(0)
_WEEKDAY_NAMES = {
    name: i
    for i, names in enumerate(
        (("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"), ("thu", "thursday"),
         ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday"))
    )
    for name in names
}
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")

Window = tuple[time, time]

#: China business hours: Monday to Friday 09:00-12:00 and 13:30-18:00 in
#: Asia/Shanghai, Chinese public holidays off, make-up working weekends on
#: (with Monday's windows). JSON data for :meth:`Calendar.from_dict`; copy it
#: before changing it.
DEFAULT_CALENDAR_DATA: dict = {
    "name": "cn-business-hours",
    "timezone": "Asia/Shanghai",
    "windows": {str(wd): [["09:00", "12:00"], ["13:30", "18:00"]] for wd in range(5)},
    "makeup_windows": None,
    "country": "CN",
    "subdivision": None,
    "closed_days": [],
    "extra_working_days": [],
    "always_open": False,
}

#: The 24x7 calendar: every instant counts, no holidays. The time zone only
#: decides where :meth:`Calendar.windows_on` puts a day's boundaries.
ALWAYS_OPEN_DATA: dict = {
    "name": "24x7",
    "timezone": "Asia/Shanghai",
    "windows": {},
    "makeup_windows": None,
    "country": None,
    "subdivision": None,
    "closed_days": [],
    "extra_working_days": [],
    "always_open": True,
}


# ---------------------------------------------------------------- helpers


def _fmt_time(t: time, *, end: bool = False) -> str:
    if end and t == _MIDNIGHT:
        return "24:00"
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _fmt_window(w: Window) -> str:
    return f"{_fmt_time(w[0])}-{_fmt_time(w[1], end=True)}"


def _end_key(t: time) -> tuple:
    """Sort key of a window end: time(0) means 24:00."""
    return (1,) if t == _MIDNIGHT else (0, t)


def _check_windows(where: str, value) -> tuple[Window, ...]:
    """Validate and sort one weekday's windows (Python objects)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{where}: expected a list of (start, end) windows")
    out: list[Window] = []
    for i, pair in enumerate(value):
        try:
            start, end = pair
        except (TypeError, ValueError):
            raise ValueError(f"{where}[{i}]: a window is a (start, end) pair") from None
        for t in (start, end):
            if not isinstance(t, time):
                raise ValueError(f"{where}[{i}]: expected datetime.time values, got {t!r}")
            if t.tzinfo is not None:
                raise ValueError(f"{where}[{i}]: times are local wall times, without tzinfo")
            if t.microsecond:
                raise ValueError(f"{where}[{i}]: times must be whole seconds")
        if end != _MIDNIGHT and not start < end:
            raise ValueError(
                f"{where}[{i}]: window {_fmt_window((start, end))} does not end after it starts "
                "(a window cannot cross midnight; end 24:00 is time(0))"
            )
        out.append((start.replace(fold=0), end.replace(fold=0)))
    out.sort(key=lambda w: (w[0], _end_key(w[1])))
    for a, b in itertools.pairwise(out):
        if _end_key(a[1]) > (0, b[0]):
            raise ValueError(f"{where}: overlapping windows {_fmt_window(a)} and {_fmt_window(b)}")
    return tuple(out)


def _check_days(where: str, value) -> frozenset[date]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{where}: expected a set of dates")
    days = frozenset(value)
    for d in days:
        if not isinstance(d, date) or isinstance(d, datetime):
            raise ValueError(f"{where}: expected dates, got {d!r}")
    return days


def _check_country(country, subdivision) -> None:
    if country is None:
        if subdivision is not None:
            raise ValueError("subdivision: needs a country")
        return
    if not isinstance(country, str):
        raise ValueError(f"country: expected a country code, got {country!r}")
    if subdivision is not None and not isinstance(subdivision, str):
        raise ValueError(f"subdivision: expected a subdivision code, got {subdivision!r}")
    problem = _country_problem(country, subdivision)
    if problem:
        raise ValueError(problem)


@functools.lru_cache(maxsize=256)
def _country_problem(country: str, subdivision: str | None) -> str | None:
    """Why ``holidays`` cannot serve (country, subdivision), or None. Asks for
    the one country rather than ``list_supported_countries()``, which imports
    every country module."""
    import holidays

    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return f"country: unsupported country code {country!r} (holidays package)"
    if subdivision is not None:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            return f"subdivision: unknown subdivision {subdivision!r} of {country}"
    return None


def _parse_time(where: str, text, *, end: bool) -> time:
    if isinstance(text, time):
        return text
    m = _TIME_RE.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{where}: invalid time {text!r} (expected HH:MM)")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if end and (h, mi, s) == (24, 0, 0):
        return _MIDNIGHT
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"{where}: invalid time {text!r}")
    return time(h, mi, s)


def _parse_windows(where: str, value) -> list[Window]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{where}: expected a list of [start, end] windows")
    out = []
    for i, pair in enumerate(value):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"{where}[{i}]: a window is a [start, end] pair")
        out.append(
            (_parse_time(f"{where}[{i}]", pair[0], end=False), _parse_time(f"{where}[{i}]", pair[1], end=True))
        )
    return out


def _parse_weekday(key) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str):
        k = key.strip().lower()
        if k.isdigit() and 0 <= int(k) <= 6:
            return int(k)
        if k in _WEEKDAY_NAMES:
            return _WEEKDAY_NAMES[k]
    raise ValueError(f"windows: unknown weekday {key!r} (0=Monday .. 6=Sunday, or mon..sun)")


def _parse_days(where: str, value) -> frozenset[date]:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{where}: expected a list of YYYY-MM-DD dates")
    out = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            out.add(item)
            continue
        try:
            out.add(date.fromisoformat(item))
        except (TypeError, ValueError):
            raise ValueError(f"{where}: invalid date {item!r} (expected YYYY-MM-DD)") from None
    return frozenset(out)
