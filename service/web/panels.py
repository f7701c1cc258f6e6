"""Panels that plugins add to pages (read collectors), made safe to render.

Whatever a plugin returns is shown as text (Jinja escapes it). These helpers
give every panel the keys the templates read, turn typed rows and plain data
into label/value lines, keep only safe links, and pass on the placeholders
``service.reads.panels`` makes for a plugin whose part failed.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from service.reads import panels
from service.translate import gettext as _


def _safe_url(url) -> str | None:
    # Kept only when http(s) or a path on this site: a plugin cannot put a
    # ``javascript:`` link in front of anyone.
    if isinstance(url, str) and (url.startswith(("https://", "http://")) or
                                 (url.startswith("/") and not url.startswith("//"))):
        return url
    return None


def tracking_panels(ticket) -> list[dict]:
    """``tracking_panels`` for the customer's page: key, title, text, url,
    url_label, failed (a placeholder, shown without the plugin's name)."""
    out = []
    for panel in panels.tracking_panels(ticket):
        url = _safe_url(panel.get("url"))
        out.append({"key": str(panel.get("key") or ""), "title": str(panel.get("title") or ""),
                    "text": str(panel.get("text") or ""), "url": url, "failed": panel["failed"],
                    "url_label": str(panel.get("url_label") or panel.get("title") or url or "")})
    return out


def _key_label(key) -> str:
    # A ``data`` panel's keys are a plugin's field names: shown as words
    # ("next_step" -> "Next step"), not as codes. A plugin that wants them
    # translated gives typed ``rows`` with translated labels instead.
    words = " ".join(str(key).replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def _data_row(key, value) -> dict:
    return {"label": _key_label(key), "value": _value_text(value), "kind": "text", "url": None, "items": [],
            "tone": None}


def _data_rows(data):
    """A panel's ``data`` as groups of label/value rows when it is a flat
    mapping or a list of flat mappings (keys shown as words, booleans as
    yes/no); None when it is better shown as indented JSON."""
    if isinstance(data, dict) and all(not isinstance(v, (dict, list)) for v in data.values()):
        return [[_data_row(k, v) for k, v in data.items()]]
    if isinstance(data, list) and data and all(isinstance(d, dict) and all(
            not isinstance(v, (dict, list)) for v in d.values()) for d in data):
        return [[_data_row(k, v) for k, v in d.items()] for d in data]
    return None


def _typed_row(row: dict) -> dict:
    kind = row.get("kind") or "text"
    value = row.get("value")
    if kind == "time":
        try:
            value = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            kind = "text"
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
    return {"label": str(row.get("label") or ""), "value": "" if value is None else value, "kind": kind,
            "url": _safe_url(row.get("url")), "items": [str(i) for i in row.get("items") or []],
            "tone": row.get("tone") if row.get("tone") in panels.TONES else None}


def ticket_panels(ticket, staff) -> list[dict]:
    """``ticket_panels`` for the console's ticket page: key, plugin, title,
    failed, and ``groups`` of rows (typed rows as given; flat data as
    label/value text) or, for nested data, readable JSON ``text``."""
    return [_shaped(panel) for panel in panels.ticket_panels(ticket, staff)]


def customer_sections(customer, staff) -> list[dict]:
    """``customer_sections`` for the console's customer profile, shaped as
    ``ticket_panels`` shapes panels (the same template macro draws both)."""
    return [_shaped(section) for section in panels.customer_sections(customer, staff)]


def _shaped(panel: dict) -> dict:
    groups, text = None, None
    if panel["rows"]:
        groups = [[_typed_row(r) for r in panel["rows"]]]
    elif panel.get("data") is not None:
        data = panel["data"]
        groups = _data_rows(data)
        if groups is None:
            text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return {"key": str(panel.get("key") or ""), "plugin": panel["plugin"], "failed": panel["failed"],
            "title": str(panel.get("title") or ""), "groups": groups, "text": text}
