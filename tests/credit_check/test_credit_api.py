"""The credit API: the breakdown for supervisors, admins and finance (each
view recorded), figures in with errors naming the field, rate now."""
from __future__ import annotations

import pytest

from creditparts import BEST


@pytest.fixture
def customer(client, admin):
    return client.post("/api/v1/customers", headers=admin,
                       json={"kind": "company", "name": "Acme", "external_ref": "K-1"}).json["id"]


def _put(client, headers, customer, quarter, figures):
    return client.put(f"/api/v1/customers/{customer}/credit/figures/{quarter}", headers=headers,
                      json={"figures": figures})


def test_figures_in_then_rate_then_the_breakdown(client, make_staff, customer):
    fin, finance = make_staff("finance", "finance")
    sup, supervisor = make_staff("supervisor")
    half = {k: v for k, v in BEST.items() if k in ("current_ratio", "quick_ratio", "debt_ratio")}
    first = _put(client, finance, customer, "2026Q3", half)
    assert first.status_code == 200 and len(first.json["missing"]) == 17
    rest = _put(client, supervisor, customer, "2026Q3", {k: v for k, v in BEST.items() if k not in half})
    assert rest.status_code == 200 and rest.json["missing"] == [] and rest.json["figures"] == BEST
    rated = client.post(f"/api/v1/customers/{customer}/credit/rate", headers=supervisor, json={"quarter": "2026Q4"})
    assert rated.status_code == 201
    assert {k: rated.json[k] for k in ("status", "grade", "score", "quarter", "figures_quarter", "rated_by")} == {
        "status": "rated", "grade": "AAA", "score": 100.0, "quarter": "2026Q4", "figures_quarter": "2026Q3",
        "rated_by": f"staff:{sup.id}"}

    shown = client.get(f"/api/v1/customers/{customer}/credit", headers=finance)
    assert shown.status_code == 200
    body = shown.json
    # Scores are JSON numbers, as the OpenAPI document says (not "100.00").
    assert (body["grade"], body["score"], body["quarter"]) == ("AAA", 100.0, "2026Q4")
    assert isinstance(body["score"], float) and isinstance(body["internal_score"], float)
    assert len(body["breakdown"]) == 20
    first_item = body["breakdown"][0]
    assert first_item == {"key": "years_in_business", "name": "Years in business", "name_zh": "经营年限",
                          "group": "character", "financial": False, "value": 12.0, "points": "5.00",
                          "max_points": "5.00"}
    assert [(g["key"], g["points"]) for g in body["groups"]] == [
        ("character", "20.00"), ("payment", "35.00"), ("solvency", "12.00"), ("operating", "23.00"),
        ("profitability", "10.00")]

    client.get(f"/api/v1/customers/{customer}/credit?quarter=2026Q4", headers=supervisor)
    views = client.get(f"/api/v1/customers/{customer}/credit/views", headers=make_staff("admin")[1])
    assert views.status_code == 200
    assert [(v["staff_id"], v["rating_id"] is not None) for v in views.json] == [(sup.id, True), (fin.id, True)]
    # rating lists are not breakdowns: not recorded
    ratings = client.get(f"/api/v1/customers/{customer}/credit/ratings", headers=supervisor)
    assert [(r["grade"], r["score"]) for r in ratings.json] == [("AAA", 100.0)]
    assert len(client.get(f"/api/v1/customers/{customer}/credit/views",
                          headers=make_staff("admin")[1]).json) == 2


def test_a_customer_never_rated_is_unrated_not_rated_yet(client, supervisor, customer):
    body = client.get(f"/api/v1/customers/{customer}/credit", headers=supervisor).json
    assert (body["status"], body["reason"], body["grade"] if "grade" in body else None) == \
        ("unrated", "not rated yet", None)


def test_role_checks_on_the_credit_api(client, agent, supervisor, make_staff, customer):
    finance = make_staff("finance", "finance")[1]
    admin = make_staff("admin")[1]
    base = f"/api/v1/customers/{customer}/credit"
    for headers in (supervisor, finance, admin):
        assert client.get(base, headers=headers).status_code == 200
        assert client.get(base + "/ratings", headers=headers).status_code == 200
        assert client.get(base + "/figures/2026Q3", headers=headers).status_code == 200
    for path, method in ((base, "get"), (base + "/ratings", "get"), (base + "/rate", "post"),
                         (base + "/figures/2026Q3", "get"), (base + "/figures/2026Q3", "put")):
        assert getattr(client, method)(path, headers=agent, json={"figures": {}}).status_code == 403
    for headers in (agent, supervisor, finance):
        assert client.get(base + "/views", headers=headers).status_code == 403
    assert client.get(base, headers={}).status_code == 401


@pytest.mark.parametrize("figures, field, reason", [
    ({"luck": 3}, "figures.luck", "'luck' is not an indicator of the scorecard"),
    ({"net_margin": "high"}, "figures.net_margin.value", "Not a valid number."),
    ({"net_margin": 1e13}, "figures.net_margin", "net_margin: 10000000000000.0 is out of range"),
])
def test_bad_figures_are_422_naming_the_field(client, supervisor, customer, figures, field, reason):
    response = _put(client, supervisor, customer, "2026Q3", figures)
    assert response.status_code == 422
    assert any(reason in r for r in response.json["error"]["fields"][field])
    assert client.get(f"/api/v1/customers/{customer}/credit/figures/2026Q3", headers=supervisor).json["figures"] == {}


def test_null_removes_a_figure_and_bad_quarters_are_422(client, supervisor, customer):
    assert _put(client, supervisor, customer, "2026Q3", {"net_margin": 4}).json["figures"] == {"net_margin": 4.0}
    removed = _put(client, supervisor, customer, "2026Q3", {"net_margin": None})
    assert removed.json["figures"] == {}
    bad = _put(client, supervisor, customer, "2026Q5", {"net_margin": 4})
    assert bad.status_code == 422 and "quarter" in bad.json["error"]["fields"]
    bad_get = client.get(f"/api/v1/customers/{customer}/credit?quarter=26Q1", headers=supervisor)
    assert bad_get.status_code == 422 and "quarter" in bad_get.json["error"]["fields"]
    bad_rate = client.post(f"/api/v1/customers/{customer}/credit/rate", headers=supervisor, json={"quarter": "x"})
    assert bad_rate.status_code == 422 and "quarter" in bad_rate.json["error"]["fields"]


def test_unknown_customer_is_404(client, supervisor):
    for path in ("/api/v1/customers/999/credit", "/api/v1/customers/999/credit/figures/2026Q3"):
        assert client.get(path, headers=supervisor).status_code == 404
    assert client.post("/api/v1/customers/999/credit/rate", headers=supervisor, json={}).status_code == 404
