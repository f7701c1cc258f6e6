"""The plugins' parts of a page (read collectors), each isolated.

A plugin whose panel or chart raises, or answers something that is not a
``TicketPanel`` / ``TrackingPanel`` / ``ChartSpec``, gets a placeholder
(``failed``) instead of its part: the page still renders, the error is
logged and counted on the admin plugins page.
"""
from __future__ import annotations

from service.hooks import plugins
from service.hooks.manager import FAILED
from service.hooks.types import (
    AdminPage,
    ChartSpec,
    ConsoleLink,
    CustomerSection,
    Kpi,
    ReportColumn,
    TicketPanel,
    TrackingPanel,
    check,
)

# A badge's colours (``PanelRow.tone``); another value is dropped (neutral).
TONES = ("ok", "warn", "bad", "neutral")


def _checker(shape):
    return lambda item: check(item, shape)


def _placeholder(plugin: str) -> dict:
    return {"key": f"{plugin}-failed", "plugin": plugin, "title": f"plugin {plugin} could not show this", "rows": [],
            "data": None, "failed": True}


def _row(row: dict) -> dict:
    # Every key present, so that dumping a row never reads a dict's own
    # attributes (a missing "items" would be dict.items).
    return {"label": row["label"], "value": row.get("value"), "kind": row.get("kind") or "text",
            "url": row.get("url"), "items": list(row.get("items") or []),
            "tone": row.get("tone") if row.get("tone") in TONES else None}


def _boxes(hook: str, shape, **kwargs) -> list[dict]:
    # Ticket panels and customer sections: the same typed rows, the same placeholder.
    out = []
    for plugin, item in plugins().collect_isolated(hook, check_item=_checker(shape), **kwargs):
        out.append(_placeholder(plugin) if item is FAILED else
                   {**item, "plugin": plugin, "rows": [_row(r) for r in item.get("rows") or []],
                    "data": item.get("data"), "failed": False})
    return out


def ticket_panels(ticket, staff) -> list[dict]:
    """``ticket_panels`` for ``staff`` viewing ``ticket``: each panel with its
    ``plugin`` and ``failed`` false, or a placeholder with ``failed`` true."""
    return _boxes("ticket_panels", TicketPanel, ticket=ticket, staff=staff)


def customer_sections(customer, staff) -> list[dict]:
    """``customer_sections`` for ``staff`` viewing ``customer``'s profile,
    shaped like ``ticket_panels``' answer (a placeholder when one failed)."""
    return _boxes("customer_sections", CustomerSection, customer=customer, staff=staff)


def admin_pages(staff) -> list[dict]:
    """``admin_pages`` for ``staff``: each page with its ``plugin``; a plugin
    whose answer failed is left out (its failure is counted on the plugins
    page), and only paths on this site are kept."""
    return [{**item, "plugin": plugin, "summary": item.get("summary")}
            for plugin, item in plugins().collect_isolated("admin_pages", check_item=_checker(AdminPage), staff=staff)
            if item is not FAILED and item["url"].startswith("/") and not item["url"].startswith("//")]


def console_links(staff) -> list[dict]:
    """``console_links`` for ``staff``: each link with its ``plugin`` and a
    ``count`` (0 when not given); a plugin whose answer failed is left out,
    and only paths on this site are kept."""
    return [{**item, "plugin": plugin, "count": item.get("count") or 0}
            for plugin, item in plugins().collect_isolated("console_links", check_item=_checker(ConsoleLink),
                                                           staff=staff)
            if item is not FAILED and item["url"].startswith("/") and not item["url"].startswith("//")]


def tracking_panels(ticket) -> list[dict]:
    """``tracking_panels`` for the customer's view of ``ticket``; a failed one
    is a placeholder with ``failed`` true (shown to the customer without the
    plugin's name)."""
    out = []
    for plugin, item in plugins().collect_isolated("tracking_panels", check_item=_checker(TrackingPanel),
                                                   ticket=ticket):
        # Customers see neither the plugin's name nor its error.
        out.append({"key": "unavailable", "title": "", "text": "", "url": None, "url_label": None, "failed": True}
                   if item is FAILED else {**item, "failed": False})
    return out


def dashboard_charts(staff, period) -> list[dict]:
    """``dashboard_charts`` for ``staff`` over ``period`` (a ``ReportPeriod``):
    each chart spec with its ``plugin``, or ``{"plugin", "failed": True}``
    for a plugin whose charts failed."""
    return [{"plugin": plugin, "key": f"{plugin}-failed", "failed": True} if item is FAILED else {**item, "plugin": plugin}
            for plugin, item in plugins().collect_isolated("dashboard_charts", check_item=_checker(ChartSpec),
                                                           staff=staff, period=period)]


def dashboard_kpis(staff, period) -> list[dict]:
    """``dashboard_kpis`` for ``staff`` over ``period``: each tile with its
    ``plugin``; a failed or malformed one is left out (and counted)."""
    return [{"unit": None, "better": None, **item, "plugin": plugin}
            for plugin, item in plugins().collect_isolated("dashboard_kpis", check_item=_checker(Kpi),
                                                           staff=staff, period=period)
            if item is not FAILED]


def report_columns(staff, period, by: str) -> list[dict]:
    """``report_columns`` for ``staff`` over ``period`` grouped ``by``
    (``agent`` or ``department``): each column with its ``plugin``; failed
    or malformed ones are left out (and counted)."""
    return [{"unit": None, **item, "plugin": plugin}
            for plugin, item in plugins().collect_isolated("report_columns", check_item=_checker(ReportColumn),
                                                           staff=staff, period=period, by=by)
            if item is not FAILED]
