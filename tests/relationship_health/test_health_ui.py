"""relationship_health on the console (issue 18 item 6), through the test
client on the hand-worked data of tests/healthdata.py: the profile's health
section, the ticket's health panel, the customer list's health level column
and filter, and the dashboard's revenue-at-risk chart and tiles - their
visible text in English and Chinese, labels and never codes."""
from __future__ import annotations

import re

import pytest
from healthdata import noon, seed
from visibletext import untranslated, visible_texts

from sqlalchemy import select

from service.extensions import db
from service.models import Category, Ticket

TEXTS = {
    "en": {"title": "Relationship health", "level": "Health level", "at_risk": "At risk", "watch": "Watch",
           "recency": "Silence since the last purchase",
           "explained": "Days since the last purchase divided by the customer's usual interval between purchases: 3 "
                        "(scores from 2.5; one purchase only: the interval is a year)",
           "figures": "Value 3, scores from ≥ 2.5: 30 points", "change": "2026-04-05: Watch to At risk (score 70)",
           "first": "2026-03-10: Not computed to Watch (score 30)", "score": "70 (watch from 25, at risk from 50)",
           "main": "Main reason", "chart": "Revenue at risk by tier, by week", "vip": "VIP",
           "kpi": "Customers at risk"},
    "zh": {"title": "客户关系健康度", "level": "健康等级", "at_risk": "有流失风险", "watch": "需关注",
           "recency": "距上次购买的沉默期",
           "explained": "距上次购买的天数除以该客户通常的购买间隔：3（达到 2.5 起计分；只购买过一次时按一年计算间隔）",
           "figures": "数值 3，≥ 2.5 时计分：30 分", "change": "2026-04-05：需关注 → 有流失风险（得分 70）",
           "first": "2026-03-10：尚未计算 → 需关注（得分 30）", "score": "70（25 分起需关注，50 分起有流失风险）",
           "main": "主要原因", "chart": "按客户等级每周面临流失风险的收入", "vip": "贵宾客户",
           "kpi": "有流失风险的客户"},
}
LANGUAGES = {"en": "en", "zh": "zh_CN"}
USER_DATA = ["Anhui", "Beijing", "Chengdu", "Dalian", "Emei", "Fuzhou", "Guilin"]
TYPED = USER_DATA + [f"{n.lower()}@example.test" for n in USER_DATA] + [f"HR-{n}" for n in USER_DATA]


@pytest.fixture
def data(app):
    return seed()


def _visible(html: str) -> list[str]:
    return [text for text, _lang in visible_texts(html)]


def _texts(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return _visible(response.get_data(as_text=True))


def _section(html: str, key: str) -> str:
    found = re.search(rf'<section class="card panel" data-panel="{key}".*?</section>', html, re.S)
    assert found, f"no panel {key}"
    return found.group(0)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_profile_shows_level_score_signals_and_changes(client, staff_login, data, language):
    t = TEXTS[language]
    staff_login("agent", LANGUAGES[language])
    response = client.get(f"/console/customers/{data.ids['Anhui']}")
    html = _section(response.get_data(as_text=True), "relationship_health")
    section = _visible(html)
    for expected in (t["title"], t["level"], t["at_risk"], t["score"], t["recency"], t["explained"], t["figures"],
                     t["change"], t["first"]):
        assert expected in section, (expected, section)
    # Only the signals that score: returns scored 0 for Anhui.
    assert ("Returns, exchanges and cancellations" in section) is False
    assert untranslated(visible_texts(html), language, USER_DATA) == []


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_customer_never_computed_says_so(client, staff_login, data, language):
    staff_login("agent", LANGUAGES[language])
    section = _visible(_section(client.get(f"/console/customers/{data.ids['Guilin']}").get_data(as_text=True),
                                     "relationship_health"))
    assert section == [TEXTS[language]["title"]] * 2 + [TEXTS[language]["level"],
                       {"en": "Not computed yet", "zh": "尚未计算"}[language]]


def _ticket_for(customer_id: int) -> str:
    category = db.session.scalars(select(Category).limit(1)).first()
    at = noon(5, 18)
    ticket = Ticket(kind="complaint", channel="web", category_id=category.id, subject="Late again",
                    description="Still not here.", status="new", customer_id=customer_id, created_at=at,
                    updated_at=at, version=1)
    db.session.add(ticket)
    db.session.commit()
    return ticket.number


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_ticket_panel_shows_level_and_main_reason(client, staff_login, data, language):
    t = TEXTS[language]
    number = _ticket_for(data.ids["Anhui"])
    staff_login("agent", LANGUAGES[language])
    response = client.get(f"/console/tickets/{number}")
    panel = _visible(_section(response.get_data(as_text=True), "relationship_health"))
    assert panel == [t["title"], t["title"], t["level"], t["at_risk"], t["main"], t["recency"]]
    # Before a customer's first recompute the ticket shows no health panel.
    quiet = client.get(f"/console/tickets/{_ticket_for(data.ids['Guilin'])}").get_data(as_text=True)
    assert 'data-panel="relationship_health"' not in quiet


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_customer_list_filters_at_risk_in_one_click(client, staff_login, data, language):
    t = TEXTS[language]
    staff = staff_login("agent", LANGUAGES[language])
    everyone = client.get("/console/customers")
    html = everyone.get_data(as_text=True)
    assert t["level"] in _visible(html)
    # The filter offers the three levels by name.
    assert re.search(rf'<option value="at_risk"[^>]*>{t["at_risk"]}</option>', html), html
    response = client.get("/console/customers", query_string={"relationship_health.level": "at_risk"})
    texts = _texts(response)
    shown = [name for name in USER_DATA if name in texts]
    assert shown == ["Anhui", "Beijing", "Emei"]  # not Chengdu (watch), Dalian, Guilin, nor Fuzhou (merged)
    assert texts.count(t["at_risk"]) >= 3 and t["watch"] not in texts[texts.index("Anhui"):]
    assert untranslated(visible_texts(response.get_data(as_text=True)), language, TYPED + [staff.name, staff.email]) == []


def _chart_table(html: str, key: str) -> list[list[str]]:
    figure = re.search(rf'<figure class="chart-card" id="chart-{key}">.*?</figure>', html, re.S)
    assert figure, f"no chart {key}"
    rows = re.findall(r"<tr>(.*?)</tr>", figure.group(0), re.S)
    return [[re.sub(r"<[^>]+>", "", c).replace("\xa0", " ").strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_dashboard_charts_revenue_at_risk_by_tier_week_by_week(client, staff_login, data, language):
    t = TEXTS[language]
    staff = staff_login("supervisor", LANGUAGES[language])
    response = client.get("/console/dashboard", query_string={"from": "2026-03-30", "to": "2026-05-17"})
    html = response.get_data(as_text=True)
    assert t["chart"] in _texts(response)
    table = _chart_table(html, "health_value_at_risk")
    symbol = "¥" if language == "zh" else "CN¥"
    assert table[0][1] == t["vip"]
    # At each week's end: Anhui (vip 5000) at risk from 04-05, Chengdu (vip 3000)
    # from 03-10 to 05-02, Beijing (major 2000) from 04-20 noon, Emei (no value) from 05-15.
    vip = [row[1] for row in table[1:]]
    major = [row[2] for row in table[1:]]
    assert vip == [f"8000 {symbol}"] * 4 + [f"5000 {symbol}"] * 3
    assert major == [f"0 {symbol}"] * 3 + [f"2000 {symbol}"] * 4
    assert [row[0] for row in table[1:]] == ["03-30", "04-06", "04-13", "04-20", "04-27", "05-04", "05-11"]
    tile = re.search(r'id="kpi-health_customers_at_risk">(.*?)</li>', html, re.S).group(1)
    assert t["kpi"] in tile and '<span class="tile-value">3</span>' in tile
    # The period before (to 03-29): only Chengdu was at risk.
    assert re.search(r'tile-previous">[^<]*1</span>', tile)
    value = re.search(r'id="kpi-health_value_at_risk">(.*?)</li>', html, re.S).group(1)
    assert "7000" in value and "3000" in value
    assert untranslated(visible_texts(response.get_data(as_text=True)), language, TYPED + [staff.name, staff.email]) == []


def test_the_dashboard_links_the_current_week_to_the_at_risk_list(client, staff_login, data):
    staff_login("supervisor")
    html = client.get("/console/dashboard").get_data(as_text=True)
    figure = re.search(r'<figure class="chart-card" id="chart-health_value_at_risk">.*?</figure>', html, re.S).group(0)
    links = [link for link in re.findall(r'href="([^"]+)"', figure) if link.startswith("/console/customers")]
    assert links and all("relationship_health.level=at_risk" in link for link in links)
    assert "sort=tier_sla.value" in links[-1]


def test_the_dashboard_csv_of_the_chart(client, staff_login, data):
    staff_login("supervisor")
    response = client.get("/console/dashboard/export/health_value_at_risk.csv",
                          query_string={"from": "2026-04-27", "to": "2026-05-10"})
    assert response.status_code == 200
    lines = response.get_data().decode("utf-8").lstrip("\ufeff").splitlines()
    assert lines[0] == "\"Week (starting Monday), at its end\",VIP (CN¥),Major (CN¥),Ordinary (CN¥),Small (CN¥)"
    # Chengdu left at risk on 05-02: not at risk at the end of the week of 04-27.
    assert lines[1:] == ["04-27,5000,2000,0,0", "05-04,5000,2000,0,0"]
