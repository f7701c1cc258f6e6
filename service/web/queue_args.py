"""A queue page's address: its filters (several values each), sort, page and
page size, read once; and the links the page draws from it (chips that
remove one value, column headers that sort, page links).

Values that are not valid are left out (a code nobody knows matches no
ticket), so an edited or stale address never answers 500.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import current_app, request, url_for
from flask_babel import format_decimal

from service.domain.workflow import STATUSES
from service.hooks import ticket_codes
from service.models import PRIORITIES
from service.translate import gettext as _
from service.web.i18n import is_chinese, label, local_name
from service.web.queues import SORTS

# Multi-value filters: address key -> what the chips call it.
MULTI = ("status", "priority", "kind", "category", "department", "assignee", "tier", "channel")
PAGE_SIZES = (25, 50, 100)
# The first direction of a column: the newest, most recently active, most
# severe first; the soonest due and the earliest step first.
FIRST_DIRECTION = {"created": "desc", "activity": "desc", "due": "asc", "priority": "desc", "status": "asc"}
# Address keys that are the view, not its filters: a saved view keeps them
# except the page (a saved view opens on its first page).
VIEW_KEYS = ("sort", "dir", "size")
NOBODY = "none"  # the assignee filter's value for the unassigned


def _day(text: str | None, days: int = 0) -> datetime | None:
    # A day from the address as the aware UTC start of that day (plus ``days``); None when not a date.
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=days)


def _ids(values, known: dict) -> list[int] | None:
    # Codes to ids; a code nobody knows becomes -1, which no row has: the
    # filter then finds nothing instead of being silently dropped.
    return [known.get(v, -1) for v in values] or None


def read_filters(categories, departments, staff_ids, tiers) -> dict:
    """The page's filters from the address, as ``service.web.queues.queue_page``
    takes them, plus ``selected`` (``{key: [values as in the address]}``,
    for the checked boxes). ``created_from`` / ``created_to`` are days (UTC,
    ``created_to`` included)."""
    args = request.args
    allowed = {
        "status": STATUSES, "priority": PRIORITIES, "kind": ticket_codes.kinds(),
        "channel": ticket_codes.channels(), "tier": tiers,
        "category": [c.code for c in categories] + args.getlist("category"),
        "department": [d.code for d in departments] + args.getlist("department"),
        "assignee": [str(i) for i in staff_ids] + [NOBODY] + args.getlist("assignee"),
    }
    selected = {k: list(dict.fromkeys(v for v in args.getlist(k) if v in allowed[k]))[:50] for k in MULTI}
    assignees = [None if v == NOBODY else int(v) if v.isdigit() and int(v) < 2**31 else -1
                 for v in selected["assignee"]]
    return {
        "status": selected["status"], "priority": selected["priority"], "kind": selected["kind"],
        "channels": selected["channel"], "tiers": selected["tier"],
        "category_ids": _ids(selected["category"], {c.code: c.id for c in categories}),
        "department_ids": _ids(selected["department"], {d.code: d.id for d in departments}),
        "assignees": assignees or None,
        "q": (args.get("q") or "").strip()[:200] or None,
        "created_from": _day(args.get("created_from")),
        "created_to": _day(args.get("created_to"), days=1),
        "selected": selected,
    }


def read_view(name: str) -> dict:
    """Sort, direction, page and page size from the address: ``{"sort",
    "dir", "page", "size", "explicit"}``; ``explicit`` is False when the
    address names no valid sort (the queue's own order applies)."""
    args = request.args
    sort = args.get("sort")
    explicit = sort in SORTS
    if not explicit:
        sort = "due" if name == "at_risk" else "created"
    direction = args.get("dir") if args.get("dir") in ("asc", "desc") else FIRST_DIRECTION[sort]
    if not explicit and name == "at_risk":
        direction = "asc"
    size = args.get("size", "")
    default = current_app.config["CONSOLE_PAGE_SIZE"]
    size = int(size) if size.isdigit() and int(size) in PAGE_SIZES + (default,) else default
    page = args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    return {"sort": sort, "dir": direction, "page": page, "size": size, "explicit": explicit}


def current_args(*leave_out: str) -> dict[str, list[str]]:
    """The address's arguments (lists), without ``leave_out`` and the page."""
    return {k: v for k, v in request.args.lists() if k not in leave_out + ("page", "select")}


def sort_links(name: str, view: dict) -> dict[str, dict]:
    """For each sortable column ``{"url", "aria"}``: the link that sorts by it
    (the other way round when it is the current sort) and its ``aria-sort``
    value (None on the columns not sorted by)."""
    args = current_args("sort", "dir")
    out = {}
    for column in SORTS:
        current = column == view["sort"]
        direction = ("asc" if view["dir"] == "desc" else "desc") if current else FIRST_DIRECTION[column]
        out[column] = {"url": url_for("console_queues.queue", name=name, sort=column, dir=direction, **args),
                       "aria": ("ascending" if view["dir"] == "asc" else "descending") if current else None}
    return out


def chips(name: str, filters: dict, categories, departments, staff_names: dict) -> list[dict]:
    """The filters in use as removable chips: ``{"text", "key", "remove"}``,
    where ``remove`` is this queue's address without that one value."""
    names = {"category": {c.code: local_name(c) for c in categories},
             "department": {d.code: local_name(d) for d in departments},
             "assignee": {**{str(i): n for i, n in staff_names.items()}, NOBODY: _("Nobody")}}
    fields = {"status": _("Status"), "priority": _("Priority"), "kind": _("Kind"), "category": _("Category"),
              "department": _("Department"), "assignee": _("Assignee"), "tier": _("Tier"),
              "channel": _("Channel"), "q": _("Search"), "created_from": _("Created from"),
              "created_to": _("Created up to")}
    pairs = [(k, v) for k, values in request.args.lists() if k in fields for v in values if v]
    out = []
    for key, value in pairs:
        if key in MULTI:
            if value not in filters["selected"][key]:
                continue
            shown = names[key].get(value, value) if key in names else label(key, value)
        elif key in ("created_from", "created_to"):
            if filters[key] is None:
                continue
            shown = value.strip()
        else:
            shown = filters["q"]
        rest = {}
        for k, v in pairs:
            if (k, v) != (key, value):
                rest.setdefault(k, []).append(v)
        view = {k: v for k, v in request.args.lists() if k in VIEW_KEYS}
        colon = "：" if is_chinese() else ": "  # punctuation of the page's language
        out.append({"text": f"{fields[key]}{colon}{shown}", "key": key,
                    "remove": url_for("console_queues.queue", name=name, **rest, **view)})
    return out


def pager(name: str, view: dict, total: int) -> dict:
    """The page's place in the queue: ``{"summary" ("1-25 of 1,234"),
    "links" [{"page", "url", "current"}], "prev", "next"}`` (urls or None);
    the page links are the first, the last and two either side of this one."""
    size, page = view["size"], view["page"]
    last = max(1, -(-total // size))
    args = current_args()
    link = lambda n: url_for("console_queues.queue", name=name, page=n, **args)  # noqa: E731
    shown = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    first_row = min(total, (page - 1) * size + 1)
    summary = _("%(first)s-%(last)s of %(total)s", first=format_decimal(first_row),
                last=format_decimal(min(total, page * size)), total=format_decimal(total))
    return {"summary": summary, "links": [{"page": n, "url": link(n), "current": n == page} for n in shown],
            "prev": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < last else None,
            "sizes": [{"size": s, "url": url_for("console_queues.queue", name=name, size=s, **current_args("size")),
                       "current": s == size} for s in PAGE_SIZES]}
