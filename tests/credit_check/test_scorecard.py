"""The scorecard: arithmetic on a worked example computed by hand, the
load-time checks (30 financial / 70 non-financial / 100), grade edges."""
from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

import pytest

import marshmallow as ma

from plugins.credit_check import scorecard as sc
from plugins.credit_check.settings import SHIPPED_SCORECARD, CreditSettingsSchema, settings
from service.hooks.manager import PluginStartupError

from creditparts import BEST

GRADES = [("AAA", 90), ("AA", 80), ("A", 70), ("B", 60), ("C", 0)]

# A customer's figures and, per indicator, the points worked out by hand:
#   banded: the first band reached; linear: points * (value - zero_at) / (full_at - zero_at), clamped.
WORKED = {
    # character (non-financial)
    "years_in_business": (7, "4"),               # band min 5 -> 4
    "relationship_years": (2, "1.60"),           # 4 * (2-0)/(5-0)
    "management_rating": (4, "3.00"),            # 4 * (4-1)/(5-1)
    "legal_disputes": (1, "2"),                  # band max 1 -> 2
    "reputation_rating": (3, "1.50"),            # 3 * (3-1)/(5-1)
    # payment performance (non-financial)
    "on_time_payment_rate": (90, "9.00"),        # 12 * (90-60)/(100-60)
    "avg_days_overdue": (12, "6"),               # band max 15 -> 6
    "max_days_overdue": (40, "2"),               # band max 60 -> 2
    "bad_debts": (0, "5"),                       # band max 0 -> 5
    "contract_fulfilment_rate": (95, "3.75"),    # 5 * (95-80)/(100-80)
    # solvency (financial)
    "current_ratio": (1.5, "2.00"),              # 4 * (1.5-1)/(2-1)
    "quick_ratio": (0.8, "2.40"),                # 4 * (0.8-0.5)/(1.0-0.5)
    "debt_ratio": (55, "2.50"),                  # 4 * (55-80)/(40-80): lower is better
    # operating capability
    "purchase_growth": (5, "5.00"),              # 8 * (5+20)/(20+20)   (non-financial)
    "orders_per_quarter": (7, "5"),              # band min 6 -> 5      (non-financial)
    "receivables_turnover": (6, "2.00"),         # 4 * (6-2)/(10-2)     (financial)
    "inventory_turnover": (5, "2.00"),           # 4 * (5-2)/(8-2)      (financial)
    # profitability (financial)
    "net_margin": (3, "1.20"),                   # 4 * 3/10
    "return_on_equity": (9, "1.80"),             # 3 * 9/15
    "gross_margin": (12, "0.84"),                # 3 * (12-5)/(30-5)
}
# character 12.10 + payment 25.75 + solvency 6.90 + operating 14.00 + profitability 3.84 = 62.59 -> B
WORKED_TOTAL = Decimal("62.59")


@pytest.fixture(scope="module")
def card():
    return sc.load(SHIPPED_SCORECARD)


def test_shipped_scorecard_has_five_groups_and_twenty_indicators(card):
    assert list(card.groups) == ["character", "payment", "solvency", "operating", "profitability"]
    assert len(card.indicators) == 20
    assert sum(i.points for i in card.indicators if i.financial) == 30
    assert sum(i.points for i in card.indicators if not i.financial) == 70


def test_worked_example_by_hand(card):
    figures = {key: value for key, (value, _) in WORKED.items()}
    score, breakdown = card.score(figures)
    assert {item["key"]: Decimal(item["points"]) for item in breakdown} == \
        {key: Decimal(points) for key, (_, points) in WORKED.items()}
    assert score == WORKED_TOTAL
    assert sum(Decimal(i["points"]) for i in breakdown) == score  # the breakdown adds up to the score
    by_group = {}
    for item in breakdown:
        by_group[item["group"]] = by_group.get(item["group"], 0) + Decimal(item["points"])
    assert by_group == {"character": Decimal("12.10"), "payment": Decimal("25.75"), "solvency": Decimal("6.90"),
                        "operating": Decimal("14.00"), "profitability": Decimal("3.84")}
    financial = sum(Decimal(i["points"]) for i in breakdown if i["financial"])
    assert financial == Decimal("14.74") and score - financial == Decimal("47.85")
    assert sc.grade_for(score, GRADES) == "B"


def test_best_figures_score_100(card):
    assert card.score(BEST)[0] == 100


def test_linear_rules_clamp_and_round_half_up(card):
    ind = {i.key: i for i in card.indicators}
    assert ind["on_time_payment_rate"].score(50) == 0       # below zero_at
    assert ind["on_time_payment_rate"].score(120) == 12     # above full_at
    assert ind["relationship_years"].score(1.234) == Decimal("0.99")   # 0.9872
    assert ind["relationship_years"].score(0.00625) == Decimal("0.01")  # 0.005 rounds half up
    assert ind["debt_ratio"].score(90) == 0 and ind["debt_ratio"].score(30) == 4  # lower is better


def test_banded_rules_at_their_edges(card):
    ind = {i.key: i for i in card.indicators}
    assert [ind["years_in_business"].score(v) for v in (10, 9.99, 5, 3, 1, 0.5)] == [5, 4, 4, 3, 1, 0]
    assert [ind["avg_days_overdue"].score(v) for v in (0, 0.5, 15, 15.01, 30, 60, 61)] == [8, 6, 6, 4, 4, 2, 0]


@pytest.mark.parametrize("score, grade", [
    ("100", "AAA"), ("90", "AAA"), ("89.99", "AA"), ("80", "AA"), ("79.99", "A"), ("70", "A"),
    ("69.99", "B"), ("60", "B"), ("59.99", "C"), ("0", "C"),
])
def test_grade_thresholds_at_their_edges(score, grade):
    assert sc.grade_for(Decimal(score), GRADES) == grade


def test_grade_edge_reached_by_real_figures(card):
    # Lose exactly 10 points from the best: avg 20 days overdue (8 -> 4), one bad debt (5 -> 1),
    # one legal dispute (4 -> 2).
    at_90 = dict(BEST, avg_days_overdue=20, bad_debts=1, legal_disputes=1)
    assert card.score(at_90)[0] == Decimal("90.00")
    assert sc.grade_for(card.score(at_90)[0], GRADES) == "AAA"
    # and 0.01 less: gross margin 29.9 gives 3 * 24.9/25 = 2.988 -> 2.99
    just_below = dict(at_90, gross_margin=29.9)
    assert card.score(just_below)[0] == Decimal("89.99")
    assert sc.grade_for(card.score(just_below)[0], GRADES) == "AA"


def _shipped():
    return json.loads(SHIPPED_SCORECARD.read_text(encoding="utf-8"))


def _with(change):
    data = copy.deepcopy(_shipped())
    change(data)
    return data


def _find(data, key):
    return next(i for i in data["indicators"] if i["key"] == key)


@pytest.mark.parametrize("change, message", [
    (lambda d: _find(d, "gross_margin").update(points=4),
     "the financial indicators total 31 points and the non-financial 70 (total 101); "
     "they must total 30 and 70 (total 100)"),
    (lambda d: _find(d, "purchase_growth").update(points=7),
     "non-financial 69 (total 99)"),
    # moving 3 points from non-financial to financial keeps the total at 100 but not the split
    (lambda d: _find(d, "reputation_rating").update(financial=True),
     "the financial indicators total 33 points and the non-financial 67 (total 100)"),
    (lambda d: _find(d, "net_margin").update(group="luck"), "group 'luck' is not one of"),
    (lambda d: d["indicators"].append(dict(_find(d, "net_margin"))), "indicator 'net_margin' is declared twice"),
    (lambda d: _find(d, "net_margin").update(rule={"type": "linear", "zero_at": 5, "full_at": 5}),
     "rule.zero_at and rule.full_at must differ"),
    (lambda d: _find(d, "net_margin").update(rule={"type": "stepwise"}), "type 'banded' or 'linear'"),
    (lambda d: _find(d, "bad_debts")["rule"]["bands"].__setitem__(0, {"max": 0, "points": 4}),
     "the best band gives 4 points, not the indicator's 5"),
    (lambda d: _find(d, "bad_debts")["rule"]["bands"].__setitem__(0, {"max": 0, "min": 1, "points": 5}),
     "exactly one of min and max"),
    (lambda d: _find(d, "net_margin").update(points="four"), "points must be a number"),
    (lambda d: _find(d, "net_margin").update(financial="yes"), "'financial' must be true or false"),
    (lambda d: d["groups"].append({"key": "luck", "name": "Luck"}), "group(s) luck have no indicator"),
])
def test_load_time_checks_name_what_is_wrong(change, message):
    with pytest.raises(sc.ScorecardError) as caught:
        sc.parse(_with(change), "card.json")
    assert message in str(caught.value) and str(caught.value).startswith("card.json")


def test_the_shipped_scorecard_is_the_plugins_own_and_the_default(app, build_app, app_config):
    from pathlib import Path

    import plugins.credit_check

    assert SHIPPED_SCORECARD == Path(plugins.credit_check.__file__).resolve().parent / "scorecard.json"
    assert settings().scorecard.source == str(SHIPPED_SCORECARD) and len(settings().scorecard.indicators) == 20
    with build_app({**app_config, "CREDIT_SCORECARD": None}):  # None: the shipped one too
        assert settings().scorecard.source == str(SHIPPED_SCORECARD)


def _start_failure(build_app, config):
    """The message of the PluginStartupError that ``config`` stops kefu with."""
    with pytest.raises(PluginStartupError) as caught, build_app(config):
        pass
    return str(caught.value)


def test_a_bad_scorecard_file_stops_kefu_at_start(build_app, app_config, tmp_path):
    where = "plugin credit_check failed in register_settings: .*CREDIT_SCORECARD: "
    bad = tmp_path / "card.json"
    bad.write_text(json.dumps(_with(lambda d: _find(d, "gross_margin").update(points=4))), encoding="utf-8")
    assert re.search(where + r".*card\.json: the financial indicators total 31 points",
                     _start_failure(build_app, {**app_config, "CREDIT_SCORECARD": str(bad)}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert re.search(where + r".*broken\.json: not valid JSON",
                     _start_failure(build_app, {**app_config, "CREDIT_SCORECARD": str(broken)}))
    assert re.search(where + r".*missing\.json: cannot read the scorecard",
                     _start_failure(build_app, {**app_config, "CREDIT_SCORECARD": str(tmp_path / "missing.json")}))


@pytest.mark.parametrize("key, value, message", [
    ("CREDIT_GRADES", [["AAA", 90], ["AA", 95], ["C", 0]], "minimums must fall"),
    ("CREDIT_GRADES", [["AAA", 90], ["B", 50]], "the lowest grade ('B') must start at 0"),
    ("CREDIT_GRADES", [["AAA", 90], ["AAA", 0]], "grade 'AAA' is named twice"),
    ("CREDIT_REMEDY_RULES", {"AAA": {"auto_limit": 1}}, "must have one entry per grade"),
    ("CREDIT_UNRATED_AS", "D", "must be 'core' or a grade"),
    ("CREDIT_SOURCE_TIMEOUT", 0, "must be seconds above 0"),
    ("CREDIT_CURRENCY", "yuan", "must be a 3-letter ISO code"),
])
def test_bad_settings_stop_kefu_at_start_naming_the_key(build_app, app_config, key, value, message):
    assert f"settings of plugin credit_check: {key}: {message}" in _start_failure(build_app, {**app_config, key: value})


def test_remedy_rule_checks(app):
    rules = dict(settings().rules, C={"auto_limit": -1, "approver": "finance"})
    with pytest.raises(ma.ValidationError) as caught:
        CreditSettingsSchema().load({"CREDIT_REMEDY_RULES": rules})
    assert caught.value.messages == {
        "CREDIT_REMEDY_RULES": ["['C'].auto_limit must be a whole number of minor units >= 0, or null"]}
    rules = dict(settings().rules, B={"auto_limit": None, "approver": "cashier"})
    with pytest.raises(ma.ValidationError) as caught:
        CreditSettingsSchema().load({"CREDIT_REMEDY_RULES": rules})
    assert caught.value.messages == {
        "CREDIT_REMEDY_RULES": ["['B'].approver must be supervisor or finance, not 'cashier'"]}
