"""Gating remedies at each grade and limit; the decision in the history and
on the agent's panel, without the grade; people approving afterwards."""
from __future__ import annotations

import pytest


def _history(client, headers, number):
    return client.get(f"/api/v1/tickets/{number}/history", headers=headers).json


# The default CREDIT_REMEDY_RULES: AAA 10,000.00, AA 3,000.00, A 1,000.00 CNY automatic;
# B: a supervisor approves any; C: finance approves (or the customer prepays).
@pytest.mark.parametrize("grade, amount, decision, approver", [
    ("AAA", "10000.00", "approved", None),
    ("AAA", "10000.01", "needs_approval", "supervisor"),
    ("AA", "3000.00", "approved", None),
    ("AA", "3000.01", "needs_approval", "supervisor"),
    ("A", "1000.00", "approved", None),
    ("A", "1000.01", "needs_approval", "supervisor"),
    ("A", "0.00", "approved", None),
    ("B", "0.01", "needs_approval", "supervisor"),
    ("B", "0.00", "needs_approval", "supervisor"),
    ("C", "0.01", "needs_approval", "finance"),
    ("C", "50000.00", "needs_approval", "finance"),
])
def test_gating_at_each_grade_and_limit(client, agent, graded, open_with_remedy, grade, amount, decision, approver):
    ticket = open_with_remedy(graded(grade), amount)
    assert (ticket["remedy"]["decision"], ticket["remedy"]["approver"]) == (decision, approver)
    decided = [e for e in _history(client, agent, ticket["number"]) if e["action"] == "remedy_decided"]
    assert [(e["actor"]["name"], e["details"]["decision"], e["details"]["approver"]) for e in decided] == \
        [("credit_check", decision, approver)]
    reason = decided[0]["details"]["reason"]
    assert reason == ticket["remedy"]["reason"] and reason.startswith("credit check: ")
    # The grade, the score and the limit never appear in what agents read.
    assert grade not in reason.replace("credit check", "") and "1000" not in reason and "3000" not in reason


def test_a_remedy_without_an_amount_counts_as_zero(graded, open_with_remedy):
    assert open_with_remedy(graded("A"), None, text="on-site repair before payment")["remedy"]["decision"] == "approved"
    assert open_with_remedy(graded("C", "C-2"), None, text="on-site repair before payment")["remedy"]["approver"] == "finance"


def test_a_remedy_in_another_currency_goes_to_a_supervisor(graded, open_with_remedy):
    remedy = open_with_remedy(graded("AAA"), "10.00", currency="USD")["remedy"]
    assert (remedy["decision"], remedy["approver"]) == ("needs_approval", "supervisor")
    assert "USD" in remedy["reason"] and "CNY" in remedy["reason"]


@pytest.mark.parametrize("overrides", [{"DEFAULT_REMEDY_AUTO_APPROVE": 5000}])
def test_unrated_follows_the_core_default_by_default(client, agent, graded, make_customer, open_with_remedy):
    for customer in (graded(None), make_customer("NEVER")):  # rated "unrated", and never rated
        small = open_with_remedy(customer, "50.00")
        large = open_with_remedy(customer, "50.01")
        assert (small["remedy"]["decision"], large["remedy"]["decision"]) == ("approved", "needs_approval")
        decided = [e for e in _history(client, agent, large["number"]) if e["action"] == "remedy_decided"]
        assert decided[0]["actor"]["name"] == "core"


@pytest.mark.parametrize("overrides", [{"CREDIT_UNRATED_AS": "C"}])
def test_unrated_can_be_gated_as_a_grade(graded, open_with_remedy):
    remedy = open_with_remedy(graded(None), "1.00")["remedy"]
    assert (remedy["decision"], remedy["approver"]) == ("needs_approval", "finance")
    assert remedy["reason"].startswith("credit check (customer not rated): ")


@pytest.mark.parametrize("overrides", [{"CREDIT_REMEDY_RULES": {
    "AAA": {"auto_limit": 500}, "AA": {"auto_limit": 400}, "A": {"auto_limit": 300},
    "B": {"auto_limit": 200}, "C": {"auto_limit": None, "approver": "finance"}}}])
def test_limits_are_configurable(graded, open_with_remedy):
    assert open_with_remedy(graded("B"), "2.00")["remedy"]["decision"] == "approved"
    assert open_with_remedy(graded("B", "B-2"), "2.01")["remedy"]["decision"] == "needs_approval"


def _credit_panel(client, headers, number):
    panels = {p["key"]: p for p in client.get(f"/api/v1/tickets/{number}?panels=true", headers=headers).json["panels"]}
    return panels["credit"]


def _rows(panel):
    return [(r["label"], r["value"], r["kind"]) for r in panel["rows"]]


AGENT_ROWS = [("Remedy", "waits for approval", "badge"), ("Approver", "Finance", "text"),
              ("Next step", "Wait for finance to approve, or ask the customer to pay in advance.", "text")]


def test_the_panel_shows_agents_the_decision_and_next_step_but_not_the_grade(
        client, agent, supervisor, finance, admin, graded, open_with_remedy):
    from plugins.credit_check.rating import current_quarter

    number = open_with_remedy(graded("C"), "800.00")["number"]
    panel = _credit_panel(client, agent, number)
    assert (panel["plugin"], panel["title"], panel["failed"], panel.get("data")) == (
        "credit_check", "Credit check", False, None)
    assert _rows(panel) == AGENT_ROWS
    for headers in (supervisor, finance, admin):
        rows = _rows(_credit_panel(client, headers, number))
        assert rows == AGENT_ROWS + [("Credit grade", "C", "badge"), ("Score", "30.00", "text"),
                                     ("Quarter", current_quarter(), "text"), ("Source", "scorecard", "text")]


def test_the_panel_is_in_the_pages_language(client, agent, supervisor, graded, open_with_remedy):
    from plugins.credit_check.rating import current_quarter

    number = open_with_remedy(graded("C"), "800.00")["number"]
    chinese = _credit_panel(client, {**agent, "Accept-Language": "zh-CN,zh;q=0.9"}, number)
    zh_rows = [("补偿", "待审批", "badge"), ("审批人", "财务", "text"),
               ("下一步", "等待财务批准，或请客户先付款。", "text")]
    assert chinese["title"] == "信用检查" and _rows(chinese) == zh_rows
    rows = _rows(_credit_panel(client, {**supervisor, "Accept-Language": "zh-CN"}, number))
    assert rows == zh_rows + [("信用等级", "C", "badge"), ("得分", "30.00", "text"),
                              ("季度", current_quarter(), "text"), ("来源", "评分卡", "text")]
    assert _rows(_credit_panel(client, {**agent, "Accept-Language": "en-GB"}, number)) == AGENT_ROWS


def test_the_console_shows_the_panel_in_the_staff_members_language(client, staff_login, graded, open_with_remedy):
    number = open_with_remedy(graded("C"), "800.00")["number"]
    staff_login("supervisor", language="zh_CN")
    page = client.get(f"/console/tickets/{number}").text
    panel = page[page.index('data-panel="credit"'):]
    panel = panel[:panel.index("</section>")]
    assert "<h2>信用检查</h2>" in panel and "<dd>等待财务批准，或请客户先付款。</dd>" in panel
    assert '<dt>信用等级</dt><dd><span class="badge tone-neutral">C</span></dd>' in panel and "<dd>30.00</dd>" in panel
    assert '<dt>补偿</dt><dd><span class="badge tone-warn">待审批</span></dd>' in panel


def test_unrated_and_never_rated_customers_on_the_panel(client, supervisor, graded, make_customer, open_with_remedy):
    never = open_with_remedy(make_customer("NEVER"), "1.00")["number"]
    assert _rows(_credit_panel(client, supervisor, never))[-1] == ("Credit grade", "not rated yet", "badge")
    unrated = _rows(_credit_panel(client, supervisor, open_with_remedy(graded(None), "1.00")["number"]))
    assert ("Credit grade", "unrated", "badge") in unrated and ("Note", "no figures", "text") in unrated
    assert not any(label == "Score" for label, _, _ in unrated)


def test_no_credit_on_customer_facing_views(client, file_ticket, graded, open_with_remedy, app):
    from plugins.credit_check.models import CreditRating
    from service.extensions import db
    from service.models import Customer

    filed = file_ticket(remedy={"text": "refund", "amount": "20000.00", "currency": "CNY"})
    # Give the public customer a grade, then look at their own view of the ticket.
    customer = db.session.query(Customer).filter_by(email="wang@example.test").one()
    db.session.add(CreditRating(customer_id=customer.id, quarter="2026Q4", figures_quarter="2026Q3", status="rated",
                                grade="AAA", score=95, source="scorecard", rated_by="test"))
    db.session.commit()
    public = client.get(f"/api/v1/public/tickets/{filed['token']}")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    for word in ("AAA", "credit", "grade", "score", "needs_approval", "supervisor"):
        assert word not in text


def test_agents_cannot_reach_credit_data(client, agent, graded):
    customer = graded("AA", "K-7")
    for path in (f"/api/v1/customers/{customer}/credit", f"/api/v1/customers/{customer}/credit/ratings",
                 f"/api/v1/customers/{customer}/credit/figures/2026Q3"):
        response = client.get(path, headers=agent)
        assert response.status_code == 403 and "supervisor or finance" in response.json["error"]["message"]
    customer_json = client.get(f"/api/v1/customers/{customer}", headers=agent).get_data(as_text=True)
    assert "AA" not in customer_json and "credit" not in customer_json


def test_finance_approves_a_c_grade_remedy_and_the_agent_sees_what_to_do(
        client, agent, supervisor, make_staff, graded, open_with_remedy):
    ticket = open_with_remedy(graded("C"), "800.00")
    number, version = ticket["number"], ticket["version"]
    body = {"decision": "approved", "reason": "customer paid in advance", "version": version}
    assert client.post(f"/api/v1/tickets/{number}/remedy", headers=supervisor, json=body).status_code == 403
    fin, finance = make_staff("finance", "finance")
    done = client.post(f"/api/v1/tickets/{number}/remedy", headers=finance, json=body)
    assert done.status_code == 200 and done.json["remedy"]["decision"] == "approved"
    rows = _rows(_credit_panel(client, agent, number))
    assert rows[0] == ("Remedy", "approved", "badge") and rows[-1] == ("Next step", "Grant the remedy.", "text")
    last = _history(client, agent, number)[-1]
    assert (last["action"], last["actor"]["id"], last["details"]["reason"]) == \
        ("remedy_approved", fin.id, "customer paid in advance")
