"""Panels that plugins add to pages (collector hooks), made safe to render.

Whatever a plugin returns is shown as text (Jinja escapes it); these
helpers only give every panel the keys the templates read, so that a
plugin's missing key does not break a page.
"""
from __future__ import annotations

import json

from flask import current_app


def _plugins():
    return current_app.extensions["kefu_plugins"]


def tracking_panels(ticket) -> list[dict]:
    """``tracking_panels`` for the customer's page: key, title, text, url, url_label.

    A url is kept only when it is http(s) or a path on this site, so a
    plugin cannot put a ``javascript:`` link in front of customers.
    """
    out = []
    for panel in _plugins().collect("tracking_panels", ticket=ticket):
        if not isinstance(panel, dict):
            continue
        url = panel.get("url")
        if not (isinstance(url, str) and (url.startswith(("https://", "http://")) or
                                           (url.startswith("/") and not url.startswith("//")))):
            url = None
        out.append({"key": str(panel.get("key") or ""), "title": str(panel.get("title") or ""),
                    "text": str(panel.get("text") or ""), "url": url,
                    "url_label": str(panel.get("url_label") or panel.get("title") or url or "")})
    return out


def _rows(data):
    """A panel's ``data`` as (label, value) rows when it is a flat mapping or a
    list of flat mappings; None when it is better shown as indented JSON."""
    if isinstance(data, dict) and all(not isinstance(v, (dict, list)) for v in data.values()):
        return [[(str(k), "" if v is None else str(v)) for k, v in data.items()]]
    if isinstance(data, list) and data and all(isinstance(d, dict) and all(
            not isinstance(v, (dict, list)) for v in d.values()) for d in data):
        return [[(str(k), "" if v is None else str(v)) for k, v in d.items()] for d in data]
    return None


def ticket_panels(ticket, staff) -> list[dict]:
    """``ticket_panels`` for the console's ticket page: key, title, and the data
    as rows of (label, value) or, for nested data, readable JSON text."""
    out = []
    for panel in _plugins().collect("ticket_panels", ticket=ticket, staff=staff):
        if not isinstance(panel, dict):
            continue
        data = panel.get("data")
        rows = _rows(data)
        text = None
        if rows is None:
            text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2, default=str)
        out.append({"key": str(panel.get("key") or ""), "title": str(panel.get("title") or ""),
                    "rows": rows, "text": None if data is None else text})
    return out
