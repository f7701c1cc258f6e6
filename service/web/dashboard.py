"""The supervisor dashboard: the core's charts and those plugins add
(``dashboard_charts``), drawn as server-side SVG with a data table each."""
from __future__ import annotations

from flask import Blueprint, render_template

from service.reads.panels import dashboard_charts
from service.web.charts import format_value, normalise, render_svg
from service.web.insights import core_charts
from service.web.pages import register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("dashboard", __name__, url_prefix="/console/dashboard")
bp.before_request(load_console_staff)
register_error_pages(bp)


@bp.route("")
@require_staff("supervisor")
def show():
    """Every chart, core ones first."""
    staff = console_staff()
    charts = []
    for spec in core_charts() + dashboard_charts(staff):
        chart = None if spec.get("failed") else normalise(spec)
        if chart is not None:
            charts.append({**chart, "svg": render_svg(chart)})
        elif spec.get("plugin"):  # a plugin's chart that failed or cannot be drawn: say so, in its place
            charts.append({"key": f"{spec['plugin']}-failed", "failed": True, "plugin": spec["plugin"]})
    return render_template("web/console/dashboard.html", charts=charts, chart_value=format_value)
