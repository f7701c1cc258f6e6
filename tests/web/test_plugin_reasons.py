"""What the builtin plugins record in English (a remedy decision's reason,
the SLA clock's, a survey answer's reopening, a care ticket's policy) reads
in the page's language through ``code_label`` (issue 16: no plugin reasons
in English in the Chinese console); what people typed is left alone."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from service.web.i18n import known_label

REASONS = [
    ("reason", "credit check: within this customer's automatic remedy limit", "信用检查：在该客户的自动补偿额度内"),
    ("reason", "credit check (customer not rated): this customer's credit needs a supervisor's approval for any "
               "remedy", "信用检查（客户尚未评级）：该客户的信用要求任何补偿都由主管批准"),
    ("reason", "credit check: this customer's credit needs finance approval for a remedy, or payment in advance",
     "信用检查：该客户的信用要求由财务批准补偿，或请客户先付款"),
    ("reason", "credit check: above this customer's automatic remedy limit: a supervisor approves",
     "信用检查：超出该客户的自动补偿额度，由主管批准"),
    ("reason", "credit check: the remedy is in USD, limits are in CNY: a supervisor approves",
     "信用检查：补偿的币种是 USD，额度的币种是 CNY，由主管批准"),
    ("reason", "clock paused", "等待客户期间，SLA 计时已暂停"),
    ("reason", "clock resumed", "SLA 计时已恢复"),
    ("reason", "policy v3 re-applied by Sun Li", "Sun Li 重新应用了 SLA 策略第 3 版"),
    ("reason", "customer tier changed from small to vip", "客户等级从小客户变为贵宾客户"),
    ("reason", "customer tier changed from - to major", "客户等级从无变为重要客户"),
    ("reason", "satisfaction survey: not solved, rating 2/5; reasons: It took too long, Staff were unfriendly; "
               "comment: still noisy; really", "满意度调查：未解决，评分 2/5；原因：处理太慢、服务态度不好；留言：still noisy; really"),
    ("reason", "satisfaction survey: solved, rating 1/5", "满意度调查：已解决，评分 1/5"),
    ("policy", "relationship_health:care", "客户关怀时限（客户关系健康度设置）"),
    ("policy", "tier_sla:v2:small:business", "SLA 策略第 2 版：小客户，工作时间"),
]


@pytest.mark.parametrize("group,recorded,chinese", REASONS)
def test_a_recorded_reason_reads_in_chinese_on_a_chinese_page(app, group, recorded, chinese):
    with app.test_request_context("/console/"), force_locale("zh_CN"):
        assert known_label(group, recorded) == chinese


@pytest.mark.parametrize("group,recorded,chinese", [r for r in REASONS if r[0] == "reason"])
def test_a_recorded_reason_reads_in_english_on_an_english_page(app, group, recorded, chinese):
    # As recorded (None: the page shows it so), or reworded as a sentence ("SLA clock paused ...").
    with app.test_request_context("/console/"), force_locale("en"):
        shown = known_label(group, recorded) or recorded
    assert not re.search(r"[\u3400-\u9fff]", shown) and " - " not in shown, shown


@pytest.mark.parametrize("typed", ["credit check: the customer shouted", "clock paused by hand",
                                   "satisfaction survey: maybe", "duplicate of another ticket"])
def test_what_people_typed_is_left_alone(app, typed):
    with app.test_request_context("/console/"), force_locale("zh_CN"):
        assert known_label("reason", typed) is None
