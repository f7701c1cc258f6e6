"""The tier_sla business calendar: arithmetic properties (Hypothesis), a
minute-by-minute oracle, Chinese holidays and make-up days from the
``holidays`` package, daylight-saving days, and validation.

Facts about China 2026 below were read from holidays 0.109 and are asserted
against the package first, so a changed package fails loudly here.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plugins.tier_sla.calendar import ALWAYS_OPEN_DATA, DEFAULT_CALENDAR_DATA, Calendar

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)

CN = Calendar.from_dict(DEFAULT_CALENDAR_DATA)
ALWAYS = Calendar.from_dict(ALWAYS_OPEN_DATA)
WORKDAY = [["09:00", "12:00"], ["13:00", "17:30"]]
# Berlin: lunch break on weekdays; Sunday 01:00-04:00 spans both DST changes
# (2026-03-29 and 2026-10-25 are Sundays); Berlin's public holidays.
BERLIN_CAL = Calendar.from_dict({
    "name": "berlin", "timezone": "Europe/Berlin", "country": "DE", "subdivision": "BE",
    "windows": {**{str(wd): WORKDAY for wd in range(5)}, "sun": [["01:00", "04:00"]]},
})
# New York: lunch break on weekdays, all of Sunday (2026-03-08 and 2026-11-01
# are Sundays), US federal holidays, a closed day and an extra working day.
NY_CAL = Calendar.from_dict({
    "name": "new-york", "timezone": "America/New_York", "country": "US",
    "windows": {**{str(wd): WORKDAY for wd in range(5)}, "6": [["00:00", "24:00"]]},
    "closed_days": ["2026-03-10", "2025-12-24"], "extra_working_days": ["2026-07-04"],
    "makeup_windows": [["10:00", "14:00"]],
})
CALENDARS = [CN, BERLIN_CAL, NY_CAL, ALWAYS]
FAR = datetime(9000, 1, 1, tzinfo=UTC)

# Days worth biasing starts towards: DST changes, Chinese holidays and make-up days.
SPECIAL_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1),
                date(2025, 3, 30), date(2027, 10, 31), date(2026, 10, 1), date(2026, 2, 16),
                date(2026, 9, 20), date(2026, 10, 10), date(2026, 2, 28), date(2026, 5, 1)]
ZONES = st.sampled_from([UTC, SH, BERLIN, NY, ZoneInfo("Asia/Kolkata")])


def at(tz, *args):
    return datetime(*args, tzinfo=tz)


# ---------------------------------------------------------------- strategies

any_start = st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31, 23, 59, 59), timezones=ZONES)
near_special = st.sampled_from(SPECIAL_DAYS).flatmap(
    lambda d: st.datetimes(datetime.combine(d - timedelta(days=3), time()),
                           datetime.combine(d + timedelta(days=1), time(23, 59)), timezones=ZONES))
starts = st.one_of(any_start, near_special)
# 0 .. 20 business days of 7.5 h, in whole seconds (so fractions of minutes too)
minutes = st.one_of(st.integers(0, 20 * 450), st.integers(0, 20 * 450 * 60).map(lambda s: s / 60))


@st.composite
def pause_lists(draw, start, allow_open=True):
    """Up to 3 closed pauses around ``start`` (may overlap, any order), and
    sometimes one open pause."""
    start = start.astimezone(UTC)  # aware arithmetic in one zone is wall-clock arithmetic
    out = []
    for _ in range(draw(st.integers(0, 3))):
        ps = start + timedelta(minutes=draw(st.integers(-600, 20 * 24 * 60)))
        out.append((ps, ps + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))))
    if allow_open and draw(st.integers(0, 4)) == 0:
        out.append((start + timedelta(minutes=draw(st.integers(-60, 20 * 24 * 60))), None))
    return draw(st.permutations(out))


def open_start(pauses):
    opens = [ps for ps, pe in pauses if pe is None]
    return min(opens) if opens else None


def in_pause(t, pauses, *, closed_end):
    """t inside a pause: ps <= t < pe, or ps < t <= pe with closed_end."""
    for ps, pe in pauses:
        pe = FAR if pe is None else pe
        if (ps < t <= pe) if closed_end else (ps <= t < pe):
            return True
    return False


def local_date(cal, t):
    return t.astimezone(ZoneInfo(cal.timezone)).date()


PROPS = settings(max_examples=200, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
# deadline=None: the first call of a calendar builds the holidays package's
# tables for a year (tens of ms, once), which would trip the per-example deadline.


# ---------------------------------------------------------------- properties


@PROPS
@given(cal=st.sampled_from(CALENDARS), start=starts, n=minutes, data=st.data())
def test_add_then_measure_gives_back_n(cal, start, n, data):
    pauses = data.draw(pause_lists(start))
    due = cal.add(start, n, pauses)
    stop = open_start(pauses)
    if due is None:
        # Only an open pause stops the clock for good, and only before n is reached.
        assert stop is not None
        available = cal.business_time(start, stop, pauses)
        assert available < timedelta(minutes=n) or (n == 0 and available == timedelta(0))
        return
    assert due.tzinfo is UTC and due >= start
    assert cal.business_minutes(start, due, pauses) == n
    assert cal.business_time(start, due, pauses) == timedelta(minutes=n)  # exact, to the µs
    if stop is not None:
        assert due <= stop
    if n > 0:
        # The earliest such instant: one microsecond earlier is not enough.
        assert cal.business_time(start, due - US, pauses) == timedelta(minutes=n) - US
        # It lands at the end of working time: (a, b] of a window, not inside a pause.
        windows = cal.windows_on(local_date(cal, due - US))
        assert any(a < due <= b for a, b in windows), (due, windows)
        assert not in_pause(due, pauses, closed_end=True)
    else:
        # The next working instant: [a, b) of a window, not paused.
        windows = cal.windows_on(local_date(cal, due))
        assert any(a <= due < b for a, b in windows), (due, windows)
        assert not in_pause(due, pauses, closed_end=False)
        assert cal.business_time(start, due, pauses) == timedelta(0)
    assert cal.is_working_day(local_date(cal, due - US if n else due))


@PROPS
@given(cal=st.sampled_from(CALENDARS), start=starts, n=minutes)
def test_add_without_pauses_needs_no_pauses_argument(cal, start, n):
    due = cal.add(start, n)
    assert due is not None
    assert cal.business_minutes(start, due) == n
    assert cal.add(start, n, ()) == cal.add(start, n, []) == due
    # The same instant written in another zone gives the same answer.
    assert cal.add(start.astimezone(SH), n) == cal.add(start.astimezone(UTC), n) == due


@PROPS
@given(cal=st.sampled_from(CALENDARS), start=starts,
       cuts=st.lists(st.integers(0, 30 * 24 * 3600 * 10**6), min_size=2, max_size=2), data=st.data())
def test_business_time_is_additive_and_pauses_only_remove(cal, start, cuts, data):
    base = start.astimezone(UTC)  # real-time arithmetic and comparisons below
    b, c = (base + timedelta(microseconds=x) for x in sorted(cuts))
    pauses = data.draw(pause_lists(start))
    whole = cal.business_time(start, c, pauses)
    assert whole == cal.business_time(start, b, pauses) + cal.business_time(b, c, pauses)
    assert cal.business_minutes(start, c, pauses) == pytest.approx(
        cal.business_minutes(start, b, pauses) + cal.business_minutes(b, c, pauses))
    assert cal.business_time(c, start) == timedelta(0)
    # Pauses never add time, and removing exactly the paused working time.
    unpaused = cal.business_time(start, c)
    assert whole <= unpaused
    paused_work = timedelta(0)
    for ps, pe in merge(pauses):
        lo, hi = max(ps, base), min(pe or FAR, c)
        if hi > lo:
            paused_work += cal.business_time(lo, hi)
    assert whole == unpaused - paused_work


def merge(pauses):
    spans = sorted((ps, pe or FAR) for ps, pe in pauses if (pe or FAR) > ps)
    out = []
    for ps, pe in spans:
        if out and ps <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], pe))
        else:
            out.append((ps, pe))
    return out


@PROPS
@given(cal=st.sampled_from(CALENDARS), start=starts, n=minutes, pause_min=st.integers(1, 5 * 24 * 60),
       where=st.floats(0, 1))
def test_a_pause_shifts_the_due_time_by_the_paused_business_minutes(cal, start, n, pause_min, where):
    due = cal.add(start, n)
    assume(n > 0)  # (n == 0 asks for a working instant, which a pause at it moves)
    ps = start.astimezone(UTC) + (due - start) * where
    pe = ps + timedelta(minutes=pause_min)
    shifted = cal.add(start, n, [(ps, pe)])
    lost = cal.business_time(ps, min(pe, due))  # working time the pause took from the ticket
    if lost:
        # Shifted by exactly the paused business time, counted on from the old due time.
        assert shifted == cal.add(due, cal.business_time(ps, pe)), (ps, pe, due, lost)
        if pe > due:  # the lost time is made up after the pause
            assert shifted == cal.add(pe, lost)
    else:  # the pause took no working time before the target was reached
        assert shifted == due
    assert cal.business_time(start, shifted) == timedelta(minutes=n) + cal.business_time(ps, min(pe, shifted))


# ---------------------------------------------------------------- an oracle


def oracle_minutes(cal, start, end, pauses):
    """Business minutes counted minute by minute from the wall clock, for
    minute-aligned instants: a minute counts when its local date is a working
    day (read from the holidays package directly) and its local wall time
    lies in one of that day's windows, and it is not paused."""
    tz = ZoneInfo(cal.timezone)
    hol = holidays.country_holidays(cal.country, subdiv=cal.subdivision) if cal.country else None
    count = 0
    t = start
    while t < end:
        if not in_pause(t, pauses, closed_end=False):
            if cal.always_open:
                count += 1
            else:
                local = t.astimezone(tz)
                d, wall = local.date(), local.time().replace(tzinfo=None)
                wd = d.weekday()
                own = cal.windows.get(wd, ())
                if d in cal.closed_days:
                    windows = ()
                elif d in cal.extra_working_days:
                    windows = own or cal.makeup_windows or next(iter(cal.windows.values()))
                elif hol is not None and d in hol:
                    windows = ()
                elif hol is not None and wd >= 5 and hol.is_working_day(d):  # make-up day
                    windows = own or cal.makeup_windows or next(iter(cal.windows.values()))
                else:
                    windows = own
                if any(s <= wall and (e == time(0) or wall < e) for s, e in windows):
                    count += 1
        t += timedelta(minutes=1)
    return count


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(cal=st.sampled_from(CALENDARS), start=starts, span=st.integers(0, 3 * 24 * 60),
       raw_pauses=st.lists(st.tuples(st.integers(-120, 3 * 24 * 60), st.integers(0, 24 * 60)), max_size=2))
def test_business_minutes_match_a_minute_by_minute_oracle(cal, start, span, raw_pauses):
    start = start.astimezone(UTC).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=span)
    pauses = [(start + timedelta(minutes=a), start + timedelta(minutes=a + b)) for a, b in raw_pauses]
    expected = oracle_minutes(cal, start, end, pauses)
    assert cal.business_minutes(start, end, pauses) == expected
    if expected:
        assert cal.add(start, expected, pauses) <= end


def test_the_default_calendar_agrees_with_the_holidays_package_on_every_day():
    hol = holidays.country_holidays("CN", years=range(2024, 2028))
    d = date(2024, 1, 1)
    while d.year < 2028:
        assert CN.is_working_day(d) == hol.is_working_day(d), d
        expected = 450 if hol.is_working_day(d) else 0  # 3 h + 4.5 h
        day = at(SH, d.year, d.month, d.day)
        assert CN.business_minutes(day, day + timedelta(days=1)) == expected, d
        d += timedelta(days=1)


# ---------------------------------------------------------------- China 2026


def test_cn_2026_facts_from_the_holidays_package():
    hol = holidays.country_holidays("CN", years=2026)
    national_day = {date(2026, 10, d) for d in (1, 2, 3, 5, 6, 7)}  # 10-04 is a Sunday
    assert national_day <= set(hol)
    spring_festival = {date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)}
    assert spring_festival <= set(hol)
    makeup = {d for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365))
              if d.weekday() >= 5 and hol.is_working_day(d)}
    assert makeup == {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
                      date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)}
    for d in makeup:
        assert CN.is_working_day(d)
    for d in national_day | spring_festival | {date(2026, 10, 4), date(2026, 5, 1), date(2026, 6, 19)}:
        assert not CN.is_working_day(d) and CN.windows_on(d) == []


def test_national_day_never_counts():
    opened = at(SH, 2026, 9, 30, 17, 0)
    due = CN.add(opened, 120)
    # 60 minutes on 09-30, then 10-01..10-07 are off: 60 more on Thursday 10-08.
    assert due == at(SH, 2026, 10, 8, 10, 0)
    assert CN.business_minutes(opened, due) == 120
    assert CN.business_minutes(at(SH, 2026, 10, 1), at(SH, 2026, 10, 8)) == 0
    # Opened during the holiday: the clock starts on 10-08 at 09:00.
    assert CN.add(at(SH, 2026, 10, 3, 11, 0), 0) == at(SH, 2026, 10, 8, 9, 0)
    assert CN.add(at(SH, 2026, 10, 3, 11, 0), 1) == at(SH, 2026, 10, 8, 9, 1)


def test_make_up_working_days_count():
    # Friday 10-09 17:00 + 120: 60 minutes on Friday, 60 on make-up Saturday 10-10.
    assert CN.add(at(SH, 2026, 10, 9, 17, 0), 120) == at(SH, 2026, 10, 10, 10, 0)
    assert CN.business_minutes(at(SH, 2026, 10, 10), at(SH, 2026, 10, 11)) == 450
    # Friday 09-18 17:00 + 120: Saturday 09-19 is off, Sunday 09-20 is a make-up day.
    assert CN.add(at(SH, 2026, 9, 18, 17, 0), 120) == at(SH, 2026, 9, 20, 10, 0)
    assert [(a.astimezone(SH).time(), b.astimezone(SH).time()) for a, b in CN.windows_on(date(2026, 9, 20))] \
        == [(time(9), time(12)), (time(13, 30), time(18))]
    # An ordinary Saturday does not count.
    assert CN.business_minutes(at(SH, 2026, 9, 26), at(SH, 2026, 9, 28)) == 0


def test_makeup_windows_and_extra_days_are_used():
    assert NY_CAL.is_working_day(date(2026, 7, 4))  # a Saturday and a federal holiday
    assert NY_CAL.business_minutes(at(NY, 2026, 7, 4), at(NY, 2026, 7, 5)) == 240  # 10:00-14:00
    assert not NY_CAL.is_working_day(date(2026, 3, 10))  # a Tuesday, closed
    assert NY_CAL.business_minutes(at(NY, 2026, 3, 10), at(NY, 2026, 3, 11)) == 0
    assert not NY_CAL.is_working_day(date(2026, 7, 3))  # Independence Day observed (Friday)
    assert not NY_CAL.is_working_day(date(2026, 11, 26))  # Thanksgiving
    cal = Calendar.from_dict({**DEFAULT_CALENDAR_DATA, "makeup_windows": [["10:00", "15:00"]],
                              "closed_days": ["2026-09-21"]})
    assert cal.business_minutes(at(SH, 2026, 10, 10), at(SH, 2026, 10, 11)) == 300
    assert cal.add(at(SH, 2026, 9, 20, 14, 0), 120) == at(SH, 2026, 9, 22, 10, 0)


# ---------------------------------------------------------------- nights, weekends, pauses


def test_nights_lunch_and_weekends_never_count():
    assert CN.add(at(SH, 2026, 3, 2, 17, 30), 60) == at(SH, 2026, 3, 3, 9, 30)  # Monday night
    assert CN.add(at(SH, 2026, 3, 2, 11, 30), 60) == at(SH, 2026, 3, 2, 14, 0)  # lunch
    assert CN.add(at(SH, 2026, 3, 6, 17, 0), 120) == at(SH, 2026, 3, 9, 10, 0)  # weekend
    assert CN.add(at(SH, 2026, 3, 7, 3, 0), 0) == at(SH, 2026, 3, 9, 9, 0)
    assert CN.add(at(SH, 2026, 3, 2, 9, 0), 180) == at(SH, 2026, 3, 2, 12, 0)  # the end, not 13:30
    assert CN.business_minutes(at(SH, 2026, 3, 6, 18), at(SH, 2026, 3, 9, 9)) == 0
    assert CN.business_minutes(at(SH, 2026, 3, 2), at(SH, 2026, 3, 9)) == 5 * 450
    # 5 business days from Monday 10:00 is next Monday 10:00.
    assert CN.add(at(SH, 2026, 3, 2, 10, 0), 5 * 450) == at(SH, 2026, 3, 9, 10, 0)
    # Seconds count as fractions of a minute.
    assert CN.business_minutes(at(SH, 2026, 3, 2, 9), at(SH, 2026, 3, 2, 9, 0, 30)) == 0.5
    assert CN.add(at(SH, 2026, 3, 2, 9), 0.5) == at(SH, 2026, 3, 2, 9, 0, 30)


def test_a_pause_in_the_middle_shifts_by_exactly_the_paused_business_minutes():
    opened = at(SH, 2026, 3, 2, 10, 0)
    assert CN.add(opened, 240) == at(SH, 2026, 3, 2, 15, 30)
    # Waiting on the customer 11:00-14:00: 60 + 30 business minutes lost.
    pauses = [(at(SH, 2026, 3, 2, 11, 0), at(SH, 2026, 3, 2, 14, 0))]
    assert CN.add(opened, 240, pauses) == at(SH, 2026, 3, 2, 17, 0)
    assert CN.business_minutes(opened, at(SH, 2026, 3, 2, 17, 0), pauses) == 240
    # A pause over the night costs nothing extra.
    night = [(at(SH, 2026, 3, 2, 18, 0), at(SH, 2026, 3, 3, 9, 0))]
    assert CN.add(opened, 480, night) == CN.add(opened, 480)
    # Overlapping pauses in any order count once.
    twice = pauses + [(at(SH, 2026, 3, 2, 10, 30), at(SH, 2026, 3, 2, 11, 30))]
    assert CN.add(opened, 240, list(reversed(twice))) == at(SH, 2026, 3, 2, 17, 30)


def test_an_open_pause_gives_none():
    opened = at(SH, 2026, 3, 2, 10, 0)
    waiting = [(at(SH, 2026, 3, 2, 11, 0), None)]
    assert CN.add(opened, 120, waiting) is None
    assert CN.add(opened, 0, [(opened, None)]) is None
    # Reached before the pause began: the due time stands (already breached).
    assert CN.add(opened, 60, waiting) == at(SH, 2026, 3, 2, 11, 0)
    assert CN.add(opened, 30, waiting) == at(SH, 2026, 3, 2, 10, 30)
    assert ALWAYS.add(opened, 61, waiting) is None
    # Measuring with an open pause stops at its start.
    assert CN.business_minutes(opened, at(SH, 2026, 3, 9), waiting) == 60


def test_always_open_counts_every_minute():
    start = at(BERLIN, 2026, 10, 1, 3, 0)  # holidays and nights are nothing to it
    assert ALWAYS.add(start, 7 * 24 * 60) == (start + timedelta(days=7)).astimezone(UTC)
    assert ALWAYS.business_minutes(at(SH, 2026, 10, 1), at(SH, 2026, 10, 8)) == 7 * 24 * 60
    assert ALWAYS.is_working_day(date(2026, 10, 1))
    assert ALWAYS.windows_on(date(2026, 10, 1)) == [(at(SH, 2026, 10, 1).astimezone(UTC),
                                                     at(SH, 2026, 10, 2).astimezone(UTC))]


# ---------------------------------------------------------------- time zones and DST


def local_windows(cal, d):
    tz = ZoneInfo(cal.timezone)
    return [(a.astimezone(tz), b.astimezone(tz)) for a, b in cal.windows_on(d)]


@pytest.mark.parametrize(("tz", "spring", "autumn"), [
    ("Europe/Berlin", date(2026, 3, 29), date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
])
def test_dst_days_count_real_elapsed_time(tz, spring, autumn):
    zone = ZoneInfo(tz)
    every_day = {wd: [["00:00", "24:00"]] for wd in range(7)}
    night = {wd: [["01:00", "04:00"]] for wd in range(7)}
    office = {wd: [["09:00", "17:00"]] for wd in range(7)}
    whole = Calendar.from_dict({"name": "whole", "timezone": tz, "country": None, "windows": every_day})
    early = Calendar.from_dict({"name": "early", "timezone": tz, "country": None, "windows": night})
    nine = Calendar.from_dict({"name": "nine", "timezone": tz, "country": None, "windows": office})
    for day, hours, night_hours in ((spring, 23, 2), (autumn, 25, 4), (spring - timedelta(days=1), 24, 3)):
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        assert end.astimezone(UTC) - start == timedelta(hours=hours)  # real length of the day
        assert whole.business_minutes(start, end) == hours * 60
        assert early.business_minutes(start, end) == night_hours * 60
        assert nine.business_minutes(start, end) == 8 * 60  # office hours are untouched
        [(a, b)] = early.windows_on(day)
        assert b - a == timedelta(hours=night_hours)
    # Adding across the change: 150 minutes from 01:00 on the spring day is
    # 120 that night (01:00-02:00 and 03:00-04:00) and 30 the next night.
    first = datetime.combine(spring, time(1), zone)
    assert early.add(first, 150) == datetime.combine(spring + timedelta(days=1), time(1, 30), zone)
    assert early.add(first, 60) == datetime.combine(spring, time(3), zone)  # the jump itself
    # In the autumn night the repeated hour counts twice: 4 hours end at 04:00.
    assert early.add(datetime.combine(autumn, time(1), zone), 240) == datetime.combine(autumn, time(4), zone)
    assert whole.add(start := datetime.combine(autumn, time(), zone), 25 * 60) == \
        datetime.combine(autumn + timedelta(days=1), time(), zone)
    assert whole.business_minutes(start, start.astimezone(UTC) + timedelta(hours=25)) == 25 * 60


def test_windows_inside_the_gap_are_empty_and_ambiguous_times_use_fold_0():
    cal = Calendar.from_dict({"name": "gap", "timezone": "Europe/Berlin", "country": None,
                              "windows": {"6": [["02:15", "02:45"], ["02:45", "03:30"], ["03:30", "24:00"]]}})
    spring = date(2026, 3, 29)
    # 02:15-02:45 never happened; 02:45-03:30 starts at the jump (03:00 CEST).
    assert cal.windows_on(spring) == [
        (at(UTC, 2026, 3, 29, 1, 0), at(UTC, 2026, 3, 29, 1, 30)),
        (at(UTC, 2026, 3, 29, 1, 30), at(UTC, 2026, 3, 29, 22, 0)),
    ]
    autumn = date(2026, 10, 25)
    # 02:15 and 02:45 happen twice; fold=0 takes the first (summer) time.
    assert cal.windows_on(autumn)[0] == (at(UTC, 2026, 10, 25, 0, 15), at(UTC, 2026, 10, 25, 0, 45))
    total = cal.business_minutes(datetime.combine(autumn, time(), BERLIN),
                                 datetime.combine(autumn + timedelta(days=1), time(), BERLIN))
    assert total == 30 + (45 + 60) + (20 * 60 + 30)  # 02:45 CEST to 03:30 CET is 1 h 45


def test_inputs_in_any_zone_outputs_in_utc():
    same = [at(SH, 2026, 3, 2, 17, 0), at(UTC, 2026, 3, 2, 9, 0), at(NY, 2026, 3, 2, 4, 0),
            at(ZoneInfo("Asia/Kolkata"), 2026, 3, 2, 14, 30)]
    answers = {CN.add(s, 90) for s in same}
    assert answers == {at(UTC, 2026, 3, 3, 1, 30)}
    assert all(a.tzinfo is UTC for a in answers)
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in BERLIN_CAL.windows_on(date(2026, 3, 2)))


# ---------------------------------------------------------------- validation


GOOD = {"name": "x", "timezone": "Asia/Shanghai", "windows": {"1": [["09:00", "12:00"]]}}


@pytest.mark.parametrize(("change", "message"), [
    ({"windows": {"1": [["09:00", "12:00"], ["11:00", "13:00"]]}},
     "windows.1: overlapping windows 09:00-12:00 and 11:00-13:00"),
    ({"windows": {"tue": [["11:00", "13:00"], ["09:00", "12:00"]]}},
     "windows.1: overlapping windows 09:00-12:00 and 11:00-13:00"),
    ({"timezone": "Mars/Base"}, "timezone: unknown time zone 'Mars/Base'"),
    ({"timezone": "../etc/passwd"}, "timezone: unknown time zone"),
    ({"windows": {"0": [["25:00", "26:00"]]}}, "windows.0[0]: invalid time '25:00'"),
    ({"windows": {"0": [["12:00", "09:00"]]}}, "windows.0[0]: window 12:00-09:00 does not end after"),
    ({"windows": {"0": [["09:00"]]}}, "windows.0[0]: a window is a [start, end] pair"),
    ({"windows": {"7": [["09:00", "12:00"]]}}, "windows: unknown weekday '7'"),
    ({"windows": {"0": [["09:00", "12:00"]], "mon": []}}, "windows.0: weekday given twice"),
    ({"windows": []}, "windows: expected an object"),
    ({"makeup_windows": [["09:00", "12:00"], ["10:00", "11:00"]]}, "makeup_windows: overlapping windows"),
    ({"country": "XX"}, "country: unsupported country code 'XX'"),
    ({"country": "DE", "subdivision": "ZZ"}, "subdivision: unknown subdivision 'ZZ' of DE"),
    ({"country": None, "subdivision": "BE"}, "subdivision: needs a country"),
    ({"closed_days": ["2026-13-01"]}, "closed_days: invalid date '2026-13-01'"),
    ({"extra_working_days": "2026-10-01"}, "extra_working_days: expected a list"),
    ({"closed_days": ["2026-10-10"], "extra_working_days": ["2026-10-10"]},
     "extra_working_days: 2026-10-10 is also in closed_days"),
    ({"always_open": "yes"}, "always_open: expected true or false"),
    ({"name": ""}, "name: must be a non-empty string"),
    ({"colour": "red"}, "colour: unknown field"),
])
def test_validation_errors_name_the_field(change, message):
    with pytest.raises(ValueError) as info:
        Calendar.from_dict({**GOOD, **change})
    assert str(info.value).startswith(message), str(info.value)


@pytest.mark.parametrize("missing", ["name", "timezone", "windows"])
def test_required_fields(missing):
    data = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ValueError, match=f"^{missing}: required"):
        Calendar.from_dict(data)


def test_python_construction_validates_too():
    with pytest.raises(ValueError, match=r"^windows\.2: overlapping windows 09:00-12:00 and 11:30-24:00"):
        Calendar("x", "UTC", {2: [(time(11, 30), time(0)), (time(9), time(12))]})
    with pytest.raises(ValueError, match=r"^windows: weekday must be an int"):
        Calendar("x", "UTC", {"1": [(time(9), time(12))]})
    with pytest.raises(ValueError, match=r"^closed_days: expected dates"):
        Calendar("x", "UTC", {}, closed_days=frozenset({datetime(2026, 1, 1)}))
    cal = Calendar("x", "UTC", {4: [[time(13), time(0)], [time(0), time(9)]]}, country=None)
    assert cal.windows == {4: ((time(0), time(9)), (time(13), time(0)))}  # sorted, tuples


def test_arguments_are_checked():
    naive = datetime(2026, 3, 2, 10)
    with pytest.raises(ValueError, match="^start: naive datetime"):
        CN.add(naive, 10)
    with pytest.raises(ValueError, match="^end: naive datetime"):
        CN.business_minutes(at(SH, 2026, 3, 2), naive)
    with pytest.raises(ValueError, match=r"^pauses\[0\]\.start: naive datetime"):
        CN.add(at(SH, 2026, 3, 2), 10, [(naive, None)])
    with pytest.raises(ValueError, match=r"^pauses\[0\]: ends before it starts"):
        CN.add(at(SH, 2026, 3, 2), 10, [(at(SH, 2026, 3, 2, 10), at(SH, 2026, 3, 2, 9))])
    for bad in (-1, float("nan"), float("inf"), True, "10"):
        with pytest.raises(ValueError, match="^minutes: "):
            CN.add(at(SH, 2026, 3, 2), bad)
    assert CN.add(at(SH, 2026, 3, 2, 9), timedelta(minutes=30)) == at(SH, 2026, 3, 2, 9, 30)


def test_a_calendar_without_working_time_raises_instead_of_looping():
    empty = Calendar("empty", "UTC", {}, country=None)
    with pytest.raises(ValueError, match="calendar 'empty' has no working time"):
        empty.add(at(UTC, 2026, 1, 1), 10)
    with pytest.raises(ValueError, match="has no working time"):
        empty.add(at(UTC, 2026, 1, 1), 0)
    assert empty.business_minutes(at(UTC, 2026, 1, 1), at(UTC, 2030, 1, 1)) == 0
    assert not empty.is_working_day(date(2026, 1, 1))
    # Only a date long ago had a window: still no working time ahead.
    gone = Calendar("gone", "UTC", {0: [(time(9), time(10))]}, country=None,
                    closed_days=frozenset(date(2026, 1, 5) + timedelta(weeks=i) for i in range(200)))
    with pytest.raises(ValueError, match="has no working time"):
        gone.add(at(UTC, 2026, 1, 1), 1)


def test_round_trip_through_json_data():
    for cal in (CN, BERLIN_CAL, NY_CAL, ALWAYS):
        data = cal.to_dict()
        assert Calendar.from_dict(data) == cal
        assert hash(Calendar.from_dict(data)) == hash(cal)
    assert CN.to_dict() == DEFAULT_CALENDAR_DATA
    assert ALWAYS.to_dict() == ALWAYS_OPEN_DATA
    assert NY_CAL.to_dict()["windows"]["6"] == [["00:00", "24:00"]]
    assert NY_CAL.to_dict()["closed_days"] == ["2025-12-24", "2026-03-10"]
    assert CN.windows[0] == ((time(9), time(12)), (time(13, 30), time(18)))
    assert 5 not in CN.windows and CN.country == "CN" and not CN.always_open
