"""The SLA policy as an admin's web form: the policy document shown as form
fields, a submitted form read back into a document, and every problem as a
translated message naming the field as a person reads it ("Tier A / Urgent
/ First response: ...").

The form covers the targets matrix (tier x priority: first response and
resolution, business minutes), stricter targets per ticket kind (the same
matrix for each kind; an empty cell means the general target), the
escalation ladder, the calendars (time
zone, working windows per weekday, the country whose public holidays and
make-up working days apply, extra closed days and extra working days, or
open round the clock), which calendar applies by default and per tier, and
the tier for customers without one. What the form does not show (a
calendar's make-up windows and subdivision, targets for a kind no longer in
force) is carried over from the version it was opened on. Saving goes through
``policy.publish``, the API's use case, so its validation has the last word
(``field_of`` maps its field paths onto the form).
"""
from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service import sdk
from service.sdk import gettext as _
from service.sdk import lazy_gettext as _l

from .policy import ACTIONS, PRIORITIES

MAX_MINUTES = 525_600
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))
PRIORITY_LABELS = {"urgent": _l("Urgent"), "high": _l("High"), "normal": _l("Normal"), "low": _l("Low")}
TARGET_LABELS = {"fr": _l("First response"), "res": _l("Resolution")}
TARGET_KEYS = {"fr": "first_response", "res": "resolution"}
TIER_LABELS = {"vip": _l("VIP"), "major": _l("Major"), "ordinary": _l("Ordinary"), "small": _l("Small"),
               "A": _l("Tier A"), "B": _l("Tier B"), "C": _l("Tier C")}
ACTION_LABELS = {
    "notify_assignee": _l("Notify the assignee"),
    "notify_supervisor_and_flag": _l("Notify the supervisor and flag the ticket"),
    "reassign_to_supervisor_and_raise_priority": _l("Give the ticket to the supervisor and raise its priority"),
}
STEP_LABELS = {"warning": _l("Warning"), "breach": _l("Breach"), "takeover": _l("Take-over")}
_WINDOW = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})\s*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def tier_label(tier: str) -> str:
    """A tier's name in the page's language (a tier the plugin does not know: "Tier X")."""
    found = TIER_LABELS.get(tier)
    return str(found) if found is not None else _("Tier %(code)s", code=tier)


# --------------------------------------------------------------------------- document -> form


def _window_text(windows) -> str:
    return ", ".join(f"{start}-{end}" for start, end in windows or [])


def _days_text(days) -> str:
    return "\n".join(sorted(days or []))


def form_values(data: dict) -> dict:
    """The form's field values (``{name: text}``) for policy document ``data``."""
    values = {"fallback_tier": data["fallback_tier"], "default_calendar": data["default_calendar"], "note": ""}
    kinds = data.get("kinds") or {}
    for i, (tier, row) in enumerate(data["targets"].items()):
        for priority in PRIORITIES:
            _cell_values(values, f"t{i}.{priority}", row.get(priority))
            for k, kind in enumerate(form_kinds(data)):
                _cell_values(values, f"k{k}.t{i}.{priority}", ((kinds.get(kind) or {}).get(tier) or {}).get(priority))
        values[f"t{i}.calendar"] = (data.get("tier_calendars") or {}).get(tier, "")
    for i, step in enumerate(data["ladder"]):
        values[f"ladder{i}.name"] = step.get("name", "")
        values[f"ladder{i}.at"] = _percent(step.get("at"))
        values[f"ladder{i}.action"] = step.get("action", "")
    for i, (name, cal) in enumerate(data["calendars"].items()):
        values[f"cal{i}.timezone"] = cal.get("timezone", "")
        values[f"cal{i}.always_open"] = "1" if cal.get("always_open") else ""
        values[f"cal{i}.country"] = cal.get("country") or ""
        for wd in range(7):
            values[f"cal{i}.w{wd}"] = _window_text((cal.get("windows") or {}).get(str(wd)))
        values[f"cal{i}.closed_days"] = _days_text(cal.get("closed_days"))
        values[f"cal{i}.extra_working_days"] = _days_text(cal.get("extra_working_days"))
    return values


def _cell_values(values: dict, prefix: str, targets: dict | None) -> None:
    # One tier x priority cell of a matrix: its fields ``<prefix>.fr`` and ``<prefix>.res``.
    for short, key in TARGET_KEYS.items():
        minutes = (targets or {}).get(key)
        values[f"{prefix}.{short}"] = "" if minutes is None else str(minutes)


def form_kinds(data: dict) -> list[str]:
    """The ticket kinds the form offers stricter targets for: every kind in
    force (the core's and the plugins'), in their order."""
    return list(sdk.ticket_kinds())


def _percent(share) -> str:
    if share is None:
        return ""
    pct = share * 100
    return str(int(pct)) if float(pct).is_integer() else f"{pct:g}"


def layout(data: dict) -> dict:
    """What the template draws: tiers (index, code, label), ladder rows (the
    steps and one empty row to add a step), calendars (index, name) and the
    choices of the drop-downs."""
    return {
        "tiers": [{"i": i, "code": tier, "label": tier_label(tier)} for i, tier in enumerate(data["targets"])],
        # A kind's section starts open when it has a stricter target.
        "kinds": [{"k": k, "code": kind, "label": sdk.code_label("kind", kind),
                   "used": bool((data.get("kinds") or {}).get(kind))} for k, kind in enumerate(form_kinds(data))],
        "priorities": [{"code": p, "label": str(PRIORITY_LABELS[p])} for p in PRIORITIES],
        "ladder_rows": list(range(len(data["ladder"]) + 1)),
        # The builtin steps' names in words (a name is the step's key in each ticket's history).
        "ladder_labels": [str(STEP_LABELS[s["name"]]) if s.get("name") in STEP_LABELS else ""
                          for s in data["ladder"]] + [""],
        "calendars": [{"i": i, "name": name} for i, name in enumerate(data["calendars"])],
        "actions": [{"code": a, "label": str(ACTION_LABELS[a])} for a in ACTIONS],
        "weekdays": [str(w) for w in WEEKDAYS],
    }


# --------------------------------------------------------------------------- form -> document


class FormErrors(dict):
    """``{form field: [translated messages]}``; ``add`` keeps the first per field."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _where(*parts) -> str:
    return " / ".join(str(p) for p in parts)


def _minutes(text: str, where: str, field: str, errors: FormErrors):
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_MINUTES:
        errors.add(field, _("%(where)s: must be a positive whole number of minutes, at most %(max)d (or empty "
                            "for no target).", where=where, max=MAX_MINUTES))
        return None
    return int(text)


def _windows(text: str, where: str, field: str, errors: FormErrors):
    out = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;，；\n]", text))):
        m = _WINDOW.match(part)
        if not m or not all(_valid_time(t, end=(j == 1)) for j, t in enumerate(m.groups())):
            errors.add(field, _("%(where)s: write the working hours as from-to times, e.g. 09:00-12:00, "
                                "13:30-18:00 (empty: closed).", where=where))
            return []
        start, end = (f"{int(t.split(':')[0]):02d}:{t.split(':')[1]}" for t in m.groups())
        if end != "24:00" and start >= end:
            errors.add(field, _("%(where)s: %(window)s ends before it starts.", where=where, window=part))
            return []
        out.append([start, end])
    out.sort()
    for (s1, e1), (s2, e2) in zip(out, out[1:]):
        if e1 == "24:00" or e1 > s2:
            errors.add(field, _("%(where)s: %(first)s and %(second)s overlap.", where=where,
                                first=f"{s1}-{e1}", second=f"{s2}-{e2}"))
            return []
    return out


def _valid_time(text: str, end: bool) -> bool:
    m = _TIME.match(text)
    if not m:
        return False
    h, mi = int(m[1]), int(m[2])
    return (end and (h, mi) == (24, 0)) or (h <= 23 and mi <= 59)


def _days(text: str, where: str, field: str, errors: FormErrors) -> list[str]:
    out = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;，；\s]+", text))):
        try:
            out.append(date.fromisoformat(part).isoformat())
        except ValueError:
            errors.add(field, _("%(where)s: %(value)s is not a date; write YYYY-MM-DD, one per line.",
                                where=where, value=part))
            return []
    return sorted(set(out))


def _read_cell(get, prefix: str, where: tuple, errors: FormErrors) -> dict:
    """One tier x priority cell of a matrix from fields ``<prefix>.fr`` and
    ``<prefix>.res`` (named in messages by ``where`` and the target):
    ``{"first_response": minutes or None, "resolution": minutes or None}``."""
    cell = {key: _minutes(get(f"{prefix}.{short}"), _where(*where, TARGET_LABELS[short]), f"{prefix}.{short}", errors)
            for short, key in TARGET_KEYS.items()}
    fr, res = cell["first_response"], cell["resolution"]
    if fr and res and fr > res:
        errors.add(f"{prefix}.fr", _("%(where)s: the first response cannot be due after the resolution "
                                     "(%(minutes)d minutes).", where=_where(*where, TARGET_LABELS["fr"]), minutes=res))
    return cell


def read_form(form, current: dict) -> tuple[dict, str | None, FormErrors]:
    """``(policy document, note, errors)`` from a submitted form, on top of
    ``current`` (the version the form was opened on: its tiers, calendars and
    what the form does not show). ``errors`` is empty when the document may
    go to ``policy.publish``."""
    errors = FormErrors()
    get = lambda name: (form.get(name) or "").strip()
    targets, tier_calendars = {}, {}
    calendar_names = list(current["calendars"])
    for i, tier in enumerate(current["targets"]):
        targets[tier] = {priority: _read_cell(get, f"t{i}.{priority}", (tier_label(tier), PRIORITY_LABELS[priority]),
                                              errors) for priority in PRIORITIES}
        chosen = get(f"t{i}.calendar")
        if chosen:
            if chosen not in calendar_names:
                errors.add(f"t{i}.calendar", _("%(where)s: not one of the calendars.",
                                               where=_where(tier_label(tier), _("Calendar"))))
            else:
                tier_calendars[tier] = chosen
    kinds = {kind: matrix for kind, matrix in (current.get("kinds") or {}).items()
             if kind not in form_kinds(current)}  # kinds no longer in force: carried over
    for k, kind in enumerate(form_kinds(current)):
        matrix = {}
        for i, tier in enumerate(current["targets"]):
            row = {}
            for priority in PRIORITIES:
                where = (sdk.code_label("kind", kind), tier_label(tier), PRIORITY_LABELS[priority])
                cell = _read_cell(get, f"k{k}.t{i}.{priority}", where, errors)
                # Only the targets given: an empty field means the general target.
                given = {key: minutes for key, minutes in cell.items() if minutes is not None}
                if given:
                    row[priority] = given
            if row:
                matrix[tier] = row
        if matrix:
            kinds[kind] = matrix
    ladder, names = [], set()
    i = 0
    while f"ladder{i}.name" in form or f"ladder{i}.at" in form:
        name, at, action = get(f"ladder{i}.name"), get(f"ladder{i}.at"), get(f"ladder{i}.action")
        i += 1
        if not name and not at:
            continue  # an empty row: a step removed, or none added
        where = _where(_("Escalation step %(n)d", n=i))
        field = f"ladder{i - 1}"
        if not name:
            errors.add(f"{field}.name", _("%(where)s: give the step a name.", where=where))
        elif name in names:
            errors.add(f"{field}.name", _("%(where)s: another step has this name.", where=where))
        names.add(name)
        share = None
        try:
            share = float(at.replace("%", "").replace(",", "."))
        except ValueError:
            pass
        if share is None or not 0 < share <= 1000:
            errors.add(f"{field}.at", _("%(where)s: a share of the target in percent, above 0 and at most 1000 "
                                        "(100 = the deadline).", where=where))
        if action not in ACTIONS:
            errors.add(f"{field}.action", _("%(where)s: choose what happens.", where=where))
        if share is not None:
            share = round(share / 100, 4)
        ladder.append({"name": name, "at": share, "action": action})
    if not ladder:
        errors.add("ladder0.name", _("The escalation ladder needs at least one step."))
    calendars = {}
    for i, name in enumerate(calendar_names):
        old = current["calendars"][name]
        where = _("Calendar %(name)s", name=name)
        zone = get(f"cal{i}.timezone")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.add(f"cal{i}.timezone", _("%(where)s: %(zone)s is not a time zone; e.g. Asia/Shanghai.",
                                             where=_where(where, _("Time zone")), zone=zone or "-"))
        always = form.get(f"cal{i}.always_open") == "1"
        windows = {}
        for wd in range(7):
            got = _windows(get(f"cal{i}.w{wd}"), _where(where, WEEKDAYS[wd]), f"cal{i}.w{wd}", errors)
            if got:
                windows[str(wd)] = got
        country = get(f"cal{i}.country").upper() or None
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            errors.add(f"cal{i}.country", _("%(where)s: a two-letter country code, or empty for no "
                                            "public holidays.", where=_where(where, _("Public holidays of"))))
        calendars[name] = {
            **old, "timezone": zone, "always_open": always, "windows": windows, "country": country,
            "subdivision": old.get("subdivision") if country == old.get("country") else None,
            "closed_days": _days(get(f"cal{i}.closed_days"), _where(where, _("Extra days off")),
                                 f"cal{i}.closed_days", errors),
            "extra_working_days": _days(get(f"cal{i}.extra_working_days"), _where(where, _("Extra working days")),
                                        f"cal{i}.extra_working_days", errors),
        }
        if not always and not windows:
            errors.add(f"cal{i}.w0", _("%(where)s: give working hours on at least one day, or mark it open "
                                       "round the clock.", where=where))
    default_calendar = get("default_calendar")
    if default_calendar not in calendars:
        errors.add("default_calendar", _("Default calendar: not one of the calendars."))
    fallback = get("fallback_tier")
    if fallback not in targets:
        errors.add("fallback_tier", _("Tier for customers without one: not one of the tiers."))
    note = get("note")[:200] or None
    data = {**current, "targets": targets, "kinds": kinds, "tier_calendars": tier_calendars, "ladder": ladder,
            "calendars": calendars, "default_calendar": default_calendar, "fallback_tier": fallback}
    return data, note, errors


def field_of(path: str, current: dict, reason: str = "") -> str:
    """The form field for a field path of ``policy.validate``'s errors
    (``targets.A.urgent.resolution`` -> ``t4.urgent.res``); ``_`` (the form as a
    whole) for one the form does not show. A calendar's error names its own
    field first in ``reason`` (``country: unsupported ...``, ``windows.2: ...``):
    it goes to that field of the calendar."""
    parts = path.split(".")
    tiers, calendars = list(current["targets"]), list(current["calendars"])
    if parts[0] == "targets" and len(parts) >= 3 and parts[1] in tiers:
        short = "res" if parts[-1] == "resolution" else "fr"
        return f"t{tiers.index(parts[1])}.{parts[2]}.{short}"
    if parts[0] == "kinds" and len(parts) >= 4 and parts[1] in form_kinds(current) and parts[2] in tiers:
        short = "res" if parts[-1] == "resolution" else "fr"
        return f"k{form_kinds(current).index(parts[1])}.t{tiers.index(parts[2])}.{parts[3]}.{short}"
    if parts[0] == "ladder" and len(parts) == 3:
        return f"ladder{parts[1]}.{parts[2]}"
    if parts[0] == "calendars" and len(parts) >= 2 and parts[1] in calendars:
        i = calendars.index(parts[1])
        inner = reason.split(":", 1)[0].split("[", 1)[0]
        if inner in ("country", "subdivision"):
            return f"cal{i}.country"
        if inner in ("closed_days", "extra_working_days"):
            return f"cal{i}.{inner}"
        if re.fullmatch(r"windows\.[0-6]", inner):
            return f"cal{i}.w{inner[-1]}"
        return f"cal{i}.timezone"
    if parts[0] == "tier_calendars" and len(parts) == 2 and parts[1] in tiers:
        return f"t{tiers.index(parts[1])}.calendar"
    if parts[0] in ("default_calendar", "fallback_tier"):
        return parts[0]
    return "_"
