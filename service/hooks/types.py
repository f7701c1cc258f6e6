"""The shapes hooks take and return, defined once.

The hook specs (``service.hooks.specs``) are annotated with these; the
plugin manager checks every answer against them (``check``); docs/plugins.md
shows them and a meta-test keeps the two in step. A plugin may import them
from ``service.sdk`` to annotate its own implementations.

Dict-shaped answers are ``TypedDict``s (plain dicts at run time, so a plugin
may return a literal); what kefu hands to a hook is a frozen dataclass.
"""

import functools
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, NotRequired, TypedDict

# --------------------------------------------------------------------------- answers


class SlaTargets(TypedDict):
    """``sla_targets``: the due times of a ticket (aware datetimes; None: no target)."""

    policy: NotRequired[str]
    first_response_due: datetime | None
    resolution_due: datetime | None


class RemedyDecision(TypedDict):
    """``remedy_approval``: what happens to the remedy a customer asked for."""

    decision: Literal["approved", "needs_approval", "refused"]
    reason: str
    approver: NotRequired[Literal["supervisor", "finance"] | None]


class Refusal(TypedDict):
    """A guard's veto: a short ``code`` (``a-z``, digits, ``_``; the API's
    error code) and a ``message`` for the person who tried (shown as given:
    translate it yourself, the request's language is set)."""

    code: str
    message: str


class TicketCodes(TypedDict, total=False):
    """``register_ticket_codes``: the ticket kinds and channels a plugin adds
    (snake_case codes; a kind at most 20 characters, a channel 10)."""

    kinds: list[str]
    channels: list[str]


class OpeningChanges(TypedDict, total=False):
    """Field changes an opener makes to a new ticket (codes, a staff id, tags)."""

    priority: Literal["low", "normal", "high", "urgent"]
    category: str
    department: str | None
    assignee: int | None
    tags: list[str]


class Opening(TypedDict, total=False):
    """``opening_ticket``: field changes, and internal notes to add to the new ticket."""

    changes: OpeningChanges
    notes: list[str]


class PanelRow(TypedDict):
    """One line of a panel: a label and its value, shown as ``kind`` says.

    ``text`` (default), ``badge`` (a short status word), ``link`` (``url``
    opens it; http(s) or a path on this site), ``list`` (``items``, one per
    line), ``time`` (``value`` an ISO time, shown in the reader's zone).
    ``tone`` colours a badge: ``ok``, ``warn``, ``bad`` or ``neutral``
    (default; anything else is shown as neutral). Label and value are what
    a person reads: translated (``sdk.gettext``), never a code.
    """

    label: str
    value: str | int | float | bool | None
    kind: NotRequired[Literal["text", "badge", "link", "list", "time"]]
    url: NotRequired[str | None]
    items: NotRequired[list[str]]
    tone: NotRequired[Literal["ok", "warn", "bad", "neutral"] | None]


class TicketPanel(TypedDict):
    """``ticket_panels``: a titled box on the agent's ticket page. Give
    ``rows`` (typed lines, drawn by kefu); ``data`` (any JSON) is shown as
    label/value lines when flat, else as indented JSON."""

    key: str
    title: str
    rows: NotRequired[list[PanelRow]]
    data: NotRequired[Any]


class TrackingPanel(TypedDict):
    """``tracking_panels``: a box on the customer's own tracking page."""

    key: str
    title: str
    text: str
    url: NotRequired[str | None]
    url_label: NotRequired[str | None]


class CustomerSection(TypedDict):
    """``customer_sections``: a titled section on the console's customer
    profile, drawn like a ticket panel (``rows`` of typed lines, or ``data``)."""

    key: str
    title: str
    rows: NotRequired[list[PanelRow]]
    data: NotRequired[Any]


class ColumnChoice(TypedDict):
    """One value a ``CustomerListColumn`` may be filtered by, with its
    translated label (shown in the filter and in the list's cells)."""

    value: str
    label: str


class CustomerListColumn(TypedDict):
    """``customer_list_columns``: a column of the console's customer list.

    ``expression`` is a scalar SQL expression correlated to the ``customers``
    table (as for ``customer_columns``), selected in the list's one query.
    With ``choices`` the list offers a filter on it (``?<key>=<value>``, one
    of the choices; anything else is ignored) and shows each value by its
    label; with ``sortable`` it may be sorted on (highest first, then newest
    customer). ``kind`` says how a value without choices is shown: ``text``
    (default) or ``number`` (grouped digits, two decimals).
    """

    key: str
    label: str
    expression: Any
    choices: NotRequired[list[ColumnChoice]]
    sortable: NotRequired[bool]
    kind: NotRequired[Literal["text", "number"]]


class MergeMoved(TypedDict):
    """``merging_customers``: what a plugin moved from the merged record to
    the kept one: ``count`` rows of one kind, named by ``label`` (translated,
    e.g. "Surveys")."""

    key: str
    label: str
    count: int


class AdminPage(TypedDict):
    """``admin_pages``: a page a plugin serves for admins, listed on the
    console's admin index and its navigation. ``url`` is a path on this site
    (the plugin's own blueprint); ``summary`` one line saying what it sets."""

    key: str
    title: str
    url: str
    summary: NotRequired[str | None]


class ConsoleLink(TypedDict):
    """``console_links``: a link in the console's main navigation to a page a
    plugin serves; ``count`` (when above 0) is shown beside it as a badge."""

    key: str
    label: str
    url: str
    count: NotRequired[int]


class ChartSeries(TypedDict):
    name: str
    values: list[int | float | None]


class ChartSpec(TypedDict):
    """``dashboard_charts``: one chart, drawn as SVG with a data table under it.

    ``links``: one URL or None per label, where a bar or point leads (the
    tickets behind it); only paths on this site are kept. ``label_title`` and
    ``value_title`` title the axes (and the data table's columns)."""

    key: str
    title: str
    kind: Literal["bar", "line", "pareto"]
    labels: list[str]
    series: list[ChartSeries]
    unit: NotRequired[str | None]
    links: NotRequired[list[str | None]]
    label_title: NotRequired[str | None]
    value_title: NotRequired[str | None]


class Kpi(TypedDict):
    """``dashboard_kpis``: one tile at the top of the dashboard: a figure for
    the period and the same figure for the period before (None: nothing to
    count). ``better`` says which way is good (``up``, ``down``), so the
    change is shown as better or worse."""

    key: str
    label: str
    value: int | float | None
    previous: int | float | None
    unit: NotRequired[str | None]
    better: NotRequired[Literal["up", "down"] | None]


class ReportColumn(TypedDict):
    """``report_columns``: one column of the per-agent or per-department
    report: a translated ``label``, a ``unit`` and one value per group, keyed
    by the staff id or department id as a string (``""``: no department or
    nobody assigned); groups left out show empty."""

    key: str
    label: str
    values: dict[str, int | float | None]
    unit: NotRequired[str | None]


class JobDeclaration(TypedDict):
    """``register_jobs``: one background job. ``queue`` may be one of the
    core's (``default``, ``mail``) or a name of the plugin's own (a-z, 0-9,
    ``_``); ``kefu worker`` works every queue some job names."""

    name: str
    func: str
    queue: NotRequired[str]
    interval: NotRequired[int | None]
    retries: NotRequired[int | None]
    timeout: NotRequired[int]
    kwargs: NotRequired[dict]


# --------------------------------------------------------------------------- what hooks are given


@dataclass(frozen=True)
class TicketChange:
    """A change a guard is asked about, before it is written.

    ``kind``: ``transition`` (a workflow step: ``action`` from
    ``from_status`` to ``to_status``, with the values it carries in
    ``details``, e.g. ``resolution``) or ``update`` (edited fields in
    ``fields`` as ``{name: [old, new]}``: priority, category, department,
    assignee, tags, remedy_decision; codes and staff ids).
    """

    kind: Literal["transition", "update"]
    action: str | None
    from_status: str
    to_status: str
    fields: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TicketDraft:
    """A ticket about to be opened, as openers see it (codes, not rows).

    ``customer`` is the ``Customer`` it is for (read it, never change it);
    ``customer_tier`` the tier the ``customer_tier`` decider gave (or None);
    ``assignee`` a staff id or None; ``tags`` short strings. Each opener sees
    the draft with the changes of the openers before it applied.
    """

    customer: Any
    customer_tier: str | None
    kind: str
    category: str
    channel: str
    priority: str
    subject: str
    description: str
    department: str | None = None
    assignee: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportPeriod:
    """The days a report covers, ``start`` to ``end`` inclusive (dates, UTC
    days), as the supervisor picked them on the dashboard.

    ``since`` / ``until`` are the aware UTC datetimes of [start, end + 1 day);
    ``previous`` is the period of the same length just before; ``weeks`` the
    Monday of each ISO week the period touches, in order (the buckets of
    every weekly trend); ``week_of(moment)`` the Monday of a date's or
    datetime's ISO week, to fold daily counts into them.
    """

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=timezone.utc)

    @property
    def until(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=timezone.utc) + timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "ReportPeriod":
        return ReportPeriod(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def weeks(self) -> list[date]:
        first = self.week_of(self.start)
        return [first + timedelta(weeks=i) for i in range((self.end - first).days // 7 + 1)]

    @staticmethod
    def week_of(moment) -> date:
        day = moment.date() if isinstance(moment, datetime) else moment
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class DemoPeriod:
    """What ``kefu demo`` is building, given to ``demo_data``.

    ``size``: ``small`` (one day: the eight customers ``C-0001`` ...
    ``C-0008`` and a dozen tickets, all at the real time) or ``full``
    (``start`` to ``end``, about six months: a few hundred customers and a
    couple of thousand tickets made at their moved times). ``stage``:
    ``customers`` (staff and customers exist, no ticket yet: give them
    what tickets will be decided with, e.g. tiers, credit ratings) or
    ``history`` (the tickets' history is committed). ``seed``: make any
    random choice from ``random(name)`` so the demo is the same every time.
    """

    size: Literal["small", "full"]
    stage: Literal["customers", "history"]
    start: datetime
    end: datetime
    seed: int

    def random(self, name: str):
        """A ``random.Random`` seeded with the demo's seed and ``name`` (your
        plugin's name): the same choices on every run."""
        import random

        return random.Random(f"{self.seed}:{name}")

    def at(self, when: datetime):
        """A context manager: inside it ``sdk.utcnow()`` (and every use case,
        yours and the core's) is ``when``; the real time is back after it."""
        from service.clock import moved_to

        return moved_to(when)


# --------------------------------------------------------------------------- checking answers


@functools.cache
def _predicate(hint):
    """A function telling whether a value fits ``hint``, built once per hint
    (answers are checked on hot paths: every new ticket's SLA answer)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return lambda value: True
    if hint is None or hint is type(None):
        return lambda value: value is None
    if origin is Literal:
        allowed = frozenset(typing.get_args(hint))
        return lambda value: isinstance(value, typing.Hashable) and value in allowed
    if origin in (typing.Union, types.UnionType):
        options = tuple(_predicate(arg) for arg in typing.get_args(hint))
        return lambda value: any(one(value) for one in options)
    if origin in (typing.NotRequired, typing.Required):
        return _predicate(typing.get_args(hint)[0])
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        fits = _predicate(item)
        return lambda value: isinstance(value, list) and all(fits(v) for v in value)
    if origin is dict or hint is dict:
        return lambda value: isinstance(value, dict)
    if typing.is_typeddict(hint):
        return lambda value: isinstance(value, dict) and not problems(value, hint)
    if hint is float:
        return lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is datetime:
        return lambda value: isinstance(value, datetime) and value.tzinfo is not None
    return lambda value: isinstance(value, hint)


def _describe(hint) -> str:
    if typing.get_origin(hint) is Literal:
        return " or ".join(repr(a) for a in typing.get_args(hint))
    if hint is datetime:
        return "an aware datetime"
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


@functools.cache
def _shape(shape) -> tuple[dict, tuple]:
    # Resolved once per shape: {key: (predicate, hint)} and the required keys.
    hints = typing.get_type_hints(shape, include_extras=False)
    return {key: (_predicate(hint), hint) for key, hint in hints.items()}, tuple(sorted(shape.__required_keys__))


def problems(answer, shape) -> list[str]:
    """What is wrong with ``answer`` as a ``shape`` (a TypedDict): missing
    required keys, unknown keys, values of the wrong type. Empty when fine."""
    if not isinstance(answer, dict):
        return [f"must be a dict ({shape.__name__}), not {type(answer).__name__}"]
    fields, required = _shape(shape)
    out = [f"{key!r} is missing" for key in required if key not in answer]
    for key, value in answer.items():
        found = fields.get(key)
        if found is None:
            out.append(f"{key!r} is not a key of {shape.__name__}")
        elif not found[0](value):
            out.append(f"{key!r} must be {_describe(found[1])}, not {value!r}"[:200])
    return out


def check(answer, shape) -> None:
    """Raise ``ValueError`` naming what is wrong unless ``answer`` is a ``shape``."""
    found = problems(answer, shape)
    if found:
        raise ValueError(f"{shape.__name__}: " + "; ".join(found))
