"""The supervisor dashboard: KPI tiles, the core's charts and those plugins
add (``dashboard_charts``), drawn as server-side SVG with a data table each,
and the per-agent and per-department reports; all over one date range,
compared with the period before. Every table downloads as CSV."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from service.reads.panels import dashboard_charts
from service.reads.reports import Figures
from service.translate import gettext as _
from service.web import report_range
from service.web.charts import format_value, normalise, render_svg
from service.web.csv_export import download
from service.web.pages import register_error_pages
from service.web.report_views import core_charts, group_report, kpis
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("dashboard", __name__, url_prefix="/console/dashboard")
bp.before_request(load_console_staff)
register_error_pages(bp)

GROUPS = {"agents": "agent", "departments": "department"}


def _charts(staff, period, figures=None) -> list[dict]:
    """Every chart, core ones first, normalised; a plugin's chart that failed
    or cannot be drawn is a placeholder in its place."""
    charts = []
    for spec in core_charts(period, figures) + dashboard_charts(staff, period):
        chart = None if spec.get("failed") else normalise(spec)
        if chart is not None:
            charts.append(chart)
        elif spec.get("plugin"):
            charts.append({"key": f"{spec['plugin']}-failed", "failed": True, "plugin": spec["plugin"]})
    return charts


@bp.route("")
@require_staff("supervisor")
def show():
    """The dashboard over the range asked for (default: the last 26 weeks);
    a range that is not valid is shown again with a message by field (422)
    over the default range."""
    staff = console_staff()
    period, errors, form = report_range.parse(request.args)
    figures = Figures(period)  # the summaries every chart, tile and table reads, each queried once
    charts = [{**c, "svg": render_svg(c)} if not c.get("failed") else c for c in _charts(staff, period, figures)]
    page = render_template(
        "web/console/dashboard.html", charts=charts, chart_value=format_value, period=period, errors=errors,
        form=form, presets=report_range.PRESETS, tiles=kpis(staff, period, figures),
        tables=[group_report(staff, period, by, figures) for by in GROUPS.values()],
        range_args=report_range.query(period))
    return page, 422 if errors else 200


@bp.route("/export/<table>.csv")
@require_staff("supervisor")
def export(table):
    """One of the dashboard's tables as CSV (``kpis``, a chart's key,
    ``agents``, ``departments``) over the range asked for; 422 naming the
    field when the range is not valid, 404 for a table there is not."""
    staff = console_staff()
    period, errors, _form = report_range.parse(request.args)
    if errors:
        return {"errors": errors, "message": _("The date range is not valid.")}, 422
    name = f"{table}_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    figures = Figures(period)
    if table in GROUPS:
        report = group_report(staff, period, GROUPS[table], figures)
        headers = [report["group_title"]] + [_unit_header(c["label"], c["unit"]) for c in report["columns"]]
        return download(name, headers, [[r["name"], *r["values"]] for r in report["rows"]])
    if table == "kpis":
        headers = [_("Figure"), _("This period"), _("Previous period"), _("Change"), _("Unit")]
        return download(name, headers, [[t["label"], t["value"], t["previous"], t["change"], t["unit"]]
                                        for t in kpis(staff, period, figures)])
    chart = next((c for c in _charts(staff, period, figures) if c["key"] == table and not c.get("failed")), None)
    if chart is None:
        abort(404)
    headers = [chart["label_title"] or _("Label")] + [_unit_header(s["name"], s["unit"]) for s in chart["series"]]
    rows = [[lab] + [s["values"][i] for s in chart["series"]] for i, lab in enumerate(chart["labels"])]
    return download(name, headers, rows)


def _unit_header(text: str, unit: str | None) -> str:
    return f"{text} ({unit})" if unit else text
