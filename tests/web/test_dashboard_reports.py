"""The supervisor dashboard's reports (issue 20, item 2): the date range and
its validation, KPI tiles with the previous period, charts compared with
the period before, drill-down links into the queue (and the queue's filter
chips), CSV downloads, the per-agent and per-department tables, labels
never cut, and who may see them.

The history is built through the API with the process clock moved
(``kefu_clock``), so every figure below is known exactly.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
import reporthistory
from werkzeug.datastructures import MultiDict

from service.extensions import db
from service.hooks.types import ReportPeriod
from service.models import Category
from service.web import report_range
from service.web.charts import normalise, render_svg, wrap

# The range the tests ask for: four whole ISO weeks of November 2026; the
# period before it is the four weeks from 2026-10-05 to 2026-11-01.
RANGE = "from=2026-11-02&to=2026-11-29"
NOW = "2026-12-02T10:00:00"


@pytest.fixture
def history(kefu_clock, client, file_ticket, act, make_staff):
    """The known history of ``reporthistory.build`` (the clock then stands at ``NOW``)."""
    return reporthistory.build(kefu_clock, client, file_ticket, act, make_staff, NOW)


def _section(page: str, start: str, end: str | None = None) -> str:
    i = page.index(start)
    return page[i:page.index(end, i)] if end else page[i:]


def _tile(page: str, key: str) -> dict:
    tile = _section(page, f'id="kpi-{key}"', "</li>")
    value = unescape(re.search(r'class="tile-value">([^<]*)<', tile).group(1)).replace("\xa0", " ").strip()
    previous = unescape(re.search(r'class="tile-previous">[^<]*?: ([^<]*)<', tile).group(1)).replace("\xa0", " ").strip()
    return {"value": value, "previous": previous, "html": tile}


def _rows(table_html: str) -> list[list[str]]:
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table_html, flags=re.DOTALL):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.DOTALL)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


# --------------------------------------------------------------------------- the range


def test_the_range_defaults_to_the_last_26_weeks_and_presets_end_today(app, kefu_clock):
    kefu_clock.move_to("2026-12-05T10:00:00", tick=False)  # a Saturday
    with app.test_request_context():
        period, errors, form = report_range.parse(MultiDict())
        assert not errors and form["preset"] == "26w"
        assert (period.start, period.end) == (date(2026, 6, 8), date(2026, 12, 5))
        assert len(period.weeks) == 26 and period.weeks[0] == date(2026, 6, 8)
        assert period.previous == ReportPeriod(date(2025, 12, 9), date(2026, 6, 7))  # 181 days before
        assert report_range.parse(MultiDict({"preset": "7d"}))[0] == ReportPeriod(date(2026, 11, 29), date(2026, 12, 5))
        assert report_range.parse(MultiDict({"preset": "90d"}))[0].days == 90
        period, errors, _form = report_range.parse(MultiDict({"from": "2026-11-02", "to": "2026-11-29"}))
        assert not errors and period.previous == ReportPeriod(date(2026, 10, 5), date(2026, 11, 1))


@pytest.mark.parametrize(("args", "field", "message"), [
    ({"from": "2026-13-01", "to": "2026-11-29"}, "from", "Not a date"),
    ({"from": "2026-11-02", "to": ""}, "to", "Give a date."),
    ({"from": "2026-11-29", "to": "2026-11-02"}, "to", "The end must not be before the start."),
    ({"from": "2020-01-01", "to": "2026-11-29"}, "to", "Pick at most two years."),
    ({"from": "1999-12-31", "to": "2000-01-02"}, "from", "Pick a date between 2000 and next year."),
])
def test_a_range_that_is_not_valid_is_named_by_field_never_a_500(client, staff_login, kefu_clock, args, field,
                                                                   message):
    kefu_clock.move_to(NOW, tick=False)
    staff_login("supervisor")
    response = client.get("/console/dashboard", query_string=args)
    assert response.status_code == 422
    error = re.search(rf'<span class="error" id="{field}-error">([^<]+)<', response.text)
    assert error and message in unescape(error.group(1))
    assert f'id="{field}" name="{field}" type="date"' in response.text and 'aria-invalid="true"' in response.text
    # The page still shows the default range, and the export names the problem too.
    assert 'id="chart-complaints_by_category"' in response.text
    export = client.get("/console/dashboard/export/agents.csv", query_string=args)
    assert export.status_code == 422 and field in export.json["errors"]


# --------------------------------------------------------------------------- KPIs and charts


def test_kpis_count_the_period_and_the_one_before(client, staff_login, history):
    staff_login("supervisor")
    page = client.get(f"/console/dashboard?{RANGE}").text
    # Open now (the range ends before today: counted at the end of 11-29): the
    # slow-delivery complaint and the product one of 11-03 and the inquiries
    # of 10-12 and 11-17; at the end of the period before: the inquiry of 10-12.
    assert _tile(page, "open") == {"value": "4", "previous": "1", "html": _tile(page, "open")["html"]}
    assert "(better)" not in _tile(page, "open")["html"] and "(worse)" in _tile(page, "open")["html"]
    assert (_tile(page, "created")["value"], _tile(page, "created")["previous"]) == ("5", "2")
    assert (_tile(page, "new_today")["value"], _tile(page, "new_today")["previous"]) == ("0", "0")
    # Resolved in November: the reopened one and the one of 11-18: 1 of 2 reopened.
    assert (_tile(page, "reopen_rate")["value"], _tile(page, "reopen_rate")["previous"]) == ("50 %", "0 %")
    # Ages at the end of 11-29 (2026-11-30T00:00): the oldest open is the
    # inquiry of 10-12 09:00: 48.6 days; the median of 4 is the second oldest (11-03).
    assert _tile(page, "backlog_oldest")["value"] == "48.6 days"
    assert _tile(page, "backlog_median")["value"] == "26.6 days"
    assert _tile(page, "backlog_oldest")["previous"] == "20.6 days"  # at 11-02 00:00
    # The plugins' tiles are there, between the core's.
    keys = re.findall(r'<li class="tile" id="kpi-(\w+)"', page)
    assert keys == ["open", "new_today", "created", "sla_first_response_met", "sla_resolution_met", "csat",
                    "health_customers_at_risk", "health_value_at_risk", "reopen_rate", "backlog_median",
                    "backlog_oldest"]
    assert _tile(page, "csat")["value"] == "-"


def test_charts_compare_with_the_period_before(client, staff_login, history):
    staff_login("supervisor")
    page = client.get(f"/console/dashboard?{RANGE}").text
    pareto = _section(page, 'id="chart-complaints_by_category"', "</figure>")
    table = _rows(_section(pareto, "<table>", "</table>"))
    # Largest first; equal counts keep the categories' order.
    assert table == [["Category", "This period", "Previous period", "Running share"],
                     ["Product too complex to operate", "2", "0", "50 %"],
                     ["Slow delivery", "2", "1", "100 %"]]
    weeks = _rows(_section(_section(page, 'id="chart-tickets_by_week"', "</figure>"), "<table>", "</table>"))
    assert weeks == [["Week (starting Monday)", "This period", "Previous period"],
                     ["11-02", "3", "0"], ["11-09", "0", "2"], ["11-16", "2", "0"], ["11-23", "0", "0"]]
    # Lines are lines: the weekly chart draws polylines, this period's and the one before (dashed).
    svg = _section(page, 'id="chart-tickets_by_week"', "</svg>")
    assert svg.count("<polyline") == 2 and 'class="line s1 previous"' in svg
    # The running share is written beside each label; axis titles are drawn in the SVG.
    assert 'class="share">Running share 50 %</text>' in pareto
    assert 'class="axis-title">Complaints</text>' in pareto and 'class="axis-title">Category</text>' in pareto
    # The SLA and CSAT trends are weekly lines over the range, not single dots.
    sla = _section(page, 'id="chart-sla_first_response"', "</figure>")
    assert len(_rows(_section(sla, "<table>", "</table>"))) == 1 + 4 and "<polyline" in sla
    csat = _section(page, 'id="chart-csat_trend"', "</figure>")
    assert len(_rows(_section(csat, "<table>", "</table>"))) == 1 + 4


# --------------------------------------------------------------------------- drill-down


def test_a_pareto_bar_links_to_the_queue_showing_exactly_its_tickets(client, staff_login, history):
    staff_login("supervisor")
    page = client.get(f"/console/dashboard?{RANGE}").text
    pareto = _section(page, 'id="chart-complaints_by_category"', "</figure>")
    link = re.search(r'<a href="([^"]+)" aria-label="Slow delivery: This period 2, Previous period 1', pareto)
    assert link, "the bar is a link named by its label and values"
    url = unescape(link.group(1))
    assert url == ("/console/queue/all?kind=complaint&category=slow_delivery"
                   "&created_from=2026-11-02&created_to=2026-11-29")
    # The data table's row header links to the same place.
    assert f'<th scope="row"><a href="{link.group(1)}">Slow delivery</a></th>' in pareto
    queue = client.get(url).text
    shown = set(re.findall(r'/console/tickets/([A-Z]+-\d+)"', queue))
    assert shown == {history["first"], history["second"]}  # not the one of October, not the product ones
    chips = _section(queue, 'id="filter-chips"', "</ul>")
    assert [unescape(c) for c in re.findall(r'<li class="chip">([^<]+?) <a', chips)] == [
        "Kind: Complaint", "Category: Slow delivery", "Created from: 2026-11-02", "Created up to: 2026-11-29"]
    # Removing the date chips widens it to October's complaint too.
    remove = re.search(r'<li class="chip">Created from: 2026-11-02 <a href="([^"]+)"', chips).group(1)
    assert "created_from" not in unescape(remove) and "created_to=2026-11-29" in unescape(remove)
    wider = client.get(unescape(remove)).text
    assert set(re.findall(r'/console/tickets/([A-Z]+-\d+)"', wider)) == {history["first"], history["second"],
                                                                          history["old"]}


def test_a_week_point_links_to_the_tickets_created_that_week(client, staff_login, history):
    staff_login("supervisor")
    page = client.get(f"/console/dashboard?{RANGE}").text
    week = _section(page, 'id="chart-tickets_by_week"', "</figure>")
    link = re.search(r'<a href="([^"]+)" aria-label="11-16: This period 2', week).group(1)
    assert unescape(link) == "/console/queue/all?created_from=2026-11-16&created_to=2026-11-22"
    shown = set(re.findall(r'/console/tickets/([A-Z]+-\d+)"', client.get(unescape(link)).text))
    assert shown == {history["fourth"], history["fifth"]}


def test_links_in_plugin_charts_are_kept_only_on_this_site():
    chart = normalise({"key": "k", "title": "t", "kind": "bar", "labels": ["a", "b", "c", "d"],
                       "series": [{"name": "n", "values": [1, 2, 3, 4]}],
                       "links": ["/console/queue/all?kind=complaint", "https://evil.example/", "//evil.example/x",
                                 "javascript:alert(1)"]})
    assert chart["links"] == ["/console/queue/all?kind=complaint", None, None, None]
    svg = str(render_svg(chart))
    assert svg.count("<a href=") == 1 and "evil" not in svg and "javascript" not in svg


# --------------------------------------------------------------------------- readable charts


def test_labels_are_wrapped_never_cut():
    long = "Product too complex to operate for anyone without the manual at hand"
    lines = wrap(long, 200)
    assert len(lines) > 1 and " ".join(lines) == long
    chinese = "产品操作太复杂以至于没有说明书的人根本无法使用"
    assert "".join(wrap(chinese, 120)) == chinese
    chart = normalise({"key": "k", "title": "t", "kind": "pareto", "labels": [long, "Other"],
                       "series": [{"name": "n", "values": [3, 1]}]})
    svg = str(render_svg(chart))
    texts = re.findall(r'class="label">([^<]*)</text>', svg)
    assert len(texts) > 2 and " ".join(texts[:-1]) == long and texts[-1] == "Other"  # every word, on its lines
    assert f"<title>{long}: " in svg  # and whole as the bar's name


def test_chart_text_is_large_enough_at_the_rendered_size():
    # kefu.css sets 15 user units; the SVG is 400 units wide, cards are at
    # least about 330 px wide on a 390 px phone: 15 * 330 / 400 >= 12 px.
    from pathlib import Path

    from service.web import charts

    css = (Path(charts.__file__).parent.parent / "static" / "kefu.css").read_text()
    assert re.search(r"svg\.chart text \{ font-size:(\d+)px", css).group(1) == str(charts.FONT)
    assert charts.FONT * 330 / charts.W >= 12


# --------------------------------------------------------------------------- per agent and department


def test_the_agent_and_department_reports(client, staff_login, history):
    staff_login("supervisor")
    page = client.get(f"/console/dashboard?{RANGE}").text
    agents = _rows(_section(_section(page, 'id="report-agents"'), "<table", "</table>"))
    a, b = history["a"].name, history["b"].name
    assert agents[0][:4] == ["Agent", "Handled (resolved in the period)", "Reopen rate (%)",
                             "First response (business hours, average)"]
    assert [row[:3] for row in agents[1:]] == [[a, "1", "100"], [b, "1", "0"]]
    assert agents[0][-1] == "CSAT (ratings 4-5) (%)" and agents[1][-1] == "-"
    departments = _rows(_section(_section(page, 'id="report-departments"'), "<table", "</table>"))
    assert [row[:3] for row in departments[1:]] == [["Logistics", "1", "100"], ["Technical support", "1", "0"]]
    # The period before: only A's October ticket.
    before = client.get("/console/dashboard?from=2026-10-05&to=2026-11-01").text
    agents = _rows(_section(_section(before, 'id="report-agents"'), "<table", "</table>"))
    assert [row[:3] for row in agents[1:]] == [[a, "1", "0"]]


# --------------------------------------------------------------------------- CSV


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8")[1:])))


def test_every_table_downloads_as_csv_translated_and_guarded(client, staff_login, history):
    # A category whose name a spreadsheet would run as a formula.
    evil = db.session.query(Category).filter_by(code="product_complexity").one()
    evil.name, evil.name_zh = "=HYPERLINK(\"http://evil.example\")", "=公式"
    db.session.commit()
    staff_login("supervisor")
    page = client.get(f"/console/dashboard?{RANGE}").text
    links = {unescape(u) for u in re.findall(r'href="(/console/dashboard/export/[^"]+)"', page)}
    tables = {re.search(r"export/([\w-]+)\.csv", u).group(1) for u in links}
    assert {"kpis", "complaints_by_category", "tickets_by_week", "tickets_by_status", "tickets_by_department",
            "sla_first_response", "sla_resolution", "csat_trend", "tiers_by_revenue", "agents",
            "departments"} <= tables
    assert all("from=2026-11-02" in u and "to=2026-11-29" in u for u in links)
    rows = _csv(client.get(f"/console/dashboard/export/complaints_by_category.csv?{RANGE}"))
    assert rows[0] == ["Category", "This period", "Previous period", "Running share (%)"]
    assert rows[1] == ["'=HYPERLINK(\"http://evil.example\")", "2", "0", "50"]
    assert rows[2] == ["Slow delivery", "2", "1", "100"]
    agents = _csv(client.get(f"/console/dashboard/export/agents.csv?{RANGE}"))
    assert agents[1][:3] == [history["a"].name, "1", "100"]
    assert client.get(f"/console/dashboard/export/nothing.csv?{RANGE}").status_code == 404


def test_csv_headers_are_in_the_readers_language(client, staff_login, history):
    staff_login("supervisor", language="zh_CN")
    rows = _csv(client.get(f"/console/dashboard/export/complaints_by_category.csv?{RANGE}"))
    assert rows[0] == ["类别", "本期", "上期", "累计占比 (%)"]
    assert ["送货太慢", "2", "1", "100"] in rows
    kpis = _csv(client.get(f"/console/dashboard/export/kpis.csv?{RANGE}"))
    assert kpis[0][:3] == ["指标", "本期", "上期"]


# --------------------------------------------------------------------------- roles


def test_only_supervisors_and_admins_see_the_reports(client, staff_login, app):
    assert client.get("/console/dashboard").status_code == 302  # to the sign-in page
    assert client.get("/console/dashboard/export/agents.csv").status_code == 302
    staff_login("agent")
    assert client.get("/console/dashboard").status_code == 403
    assert client.get("/console/dashboard/export/agents.csv").status_code == 403
    assert client.get("/console/dashboard/export/complaints_by_category.csv").status_code == 403
    client.delete_cookie("session")  # sign in afresh as an admin
    staff_login("admin")
    assert client.get("/console/dashboard").status_code == 200
    assert client.get("/console/dashboard/export/agents.csv").status_code == 200
