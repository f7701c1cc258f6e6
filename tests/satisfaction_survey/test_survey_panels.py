"""The agent's survey panel on the console's ticket page: typed rows, in the
staff member's language."""
from __future__ import annotations

import pytest

from survey_helpers import panel_link, resolve, token_of


@pytest.mark.parametrize("language,expected", [
    ("en", ["Satisfaction survey", "Survey of resolution 1", "Answered", "It took too long", "Reopened",
            "Recovery", "Not solved"]),
    ("zh_CN", ["满意度调查", "第 1 次解决的问卷", "已回答", "处理太慢", "已重开", "挽回", "未解决"]),
])
def test_the_console_shows_the_survey_panel_in_the_staff_language(client, staff_login, agent, act, file_ticket,
                                                                    jobs, language, expected):
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    answered = client.post(f"/api/v1/public/surveys/{token_of(panel_link(client, filed['token']))}",
                           json={"solved": False, "rating": 2, "reasons": ["slow"], "comment": "<b>still</b>"})
    assert answered.status_code == 200
    staff_login("agent", language=language)
    page = client.get(f"/console/tickets/{filed['number']}")
    assert page.status_code == 200
    for text in expected:
        assert text in page.text, text
    assert "&lt;b&gt;still&lt;/b&gt;" in page.text and "<b>still</b>" not in page.text
    assert "could not show this" not in page.text
