"""The survey's own page: a form with labels, CSRF-protected, in the customer's
language, escaping what it shows; answering through it closes the loop like the API."""
from __future__ import annotations

import re

import pytest

from survey_helpers import panel_link, resolve, stored_status, surveys_of, token_of


@pytest.fixture
def page_of(client, agent, act, file_ticket, jobs):
    """File and resolve a ticket with ``overrides``; return (filed, page path)."""

    def make(**overrides):
        filed = file_ticket(**overrides)
        resolve(act, agent, filed["number"])
        jobs.drain(periodic=False)
        return filed, f"/survey/{token_of(panel_link(client, filed['token']))}"

    return make


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_form_is_labelled_and_keyboard_usable(client, page_of):
    filed, path = page_of()
    page = client.get(path)
    html = page.data.decode()
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert "<legend>Is your problem solved?" in html
    # Each choice is a native input inside its label, grouped by a fieldset with a legend.
    assert '<label><input type="radio" name="solved" value="yes" required> Yes</label>' in html
    assert html.count('type="radio" name="rating"') == 5
    assert '<label for="f-comment"' in html and '<textarea id="f-comment" name="comment"' in html
    assert '<button type="submit">Send my answer</button>' in html
    assert surveys_of(filed["number"])[0]["status"] == "sent"


def test_answering_on_the_page(client, page_of):
    filed, path = page_of()
    csrf = _csrf(client.get(path).data.decode())
    done = client.post(path, data={"csrf_token": csrf, "solved": "yes", "rating": "5", "comment": "Great"})
    assert done.status_code == 200
    assert "Thank you for your answer" in done.data.decode()
    assert f"Your ticket {filed['number']} is now closed." in done.data.decode()
    assert stored_status(filed["number"]) == "closed"
    [survey] = surveys_of(filed["number"])
    assert (survey["solved"], survey["rating"], survey["comment"]) == (True, 5, "Great")
    again = client.post(path, data={"csrf_token": csrf, "solved": "no", "rating": "1"})
    assert again.status_code == 409 and "already been answered" in again.data.decode()


def test_a_bad_answer_on_the_page_reopens_and_says_so(client, page_of, make_staff):
    filed, path = page_of()
    csrf = _csrf(client.get(path).data.decode())
    done = client.post(path, data={"csrf_token": csrf, "solved": "no", "rating": "2", "reasons": ["slow", "other"]})
    assert done.status_code == 200 and "is open again" in done.data.decode()
    assert stored_status(filed["number"]) == "in_progress"
    assert surveys_of(filed["number"])[0]["reasons"] == ["slow", "other"]


def test_reasons_ticked_with_a_good_rating_are_dropped_on_the_page(client, page_of):
    filed, path = page_of()
    csrf = _csrf(client.get(path).data.decode())
    done = client.post(path, data={"csrf_token": csrf, "solved": "yes", "rating": "4", "reasons": ["slow"]})
    assert done.status_code == 200 and stored_status(filed["number"]) == "closed"
    assert surveys_of(filed["number"])[0]["reasons"] == []


def test_missing_or_bad_values_show_the_form_again_with_the_reason(client, page_of):
    filed, path = page_of()
    csrf = _csrf(client.get(path).data.decode())
    response = client.post(path, data={"csrf_token": csrf, "rating": "9", "comment": "kept"})
    html = response.data.decode()
    assert response.status_code == 422
    assert "Please check the marked answers." in html
    assert 'id="err-solved">Missing data for required field.' in html
    assert 'id="err-rating">Must be greater than or equal to 1 and less than or equal to 5.' in html
    assert ">kept</textarea>" in html  # what was typed stays
    assert surveys_of(filed["number"])[0]["status"] == "sent"


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_post_without_a_valid_csrf_token_records_nothing(client, page_of, token):
    filed, path = page_of()
    client.get(path)
    data = {"solved": "yes", "rating": "5"}
    if token:
        data["csrf_token"] = token
    response = client.post(path, data=data)
    assert response.status_code == 400 and "The form has expired." in response.data.decode()
    assert surveys_of(filed["number"])[0]["status"] == "sent"
    assert stored_status(filed["number"]) == "resolved"


def test_what_the_page_shows_is_escaped(client, page_of):
    filed, path = page_of(subject='<script>alert("x")</script> & more')
    html = client.get(path).data.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    csrf = _csrf(html)
    response = client.post(path, data={"csrf_token": csrf, "rating": "1", "comment": "</textarea><b>hi</b>"})
    assert "</textarea><b>hi</b>" not in response.data.decode()
    assert "&lt;/textarea&gt;&lt;b&gt;hi&lt;/b&gt;" in response.data.decode()


def test_the_page_speaks_chinese_to_chinese_customers(client, page_of):
    filed, path = page_of(language="zh_CN")
    html = client.get(path).data.decode()
    assert '<html lang="zh-CN">' in html and "您的问题解决了吗？" in html and "提交" in html
    done = client.post(path, data={"csrf_token": _csrf(html), "solved": "yes", "rating": "4"})
    assert "感谢您的回答" in done.data.decode()


def test_error_pages_follow_the_visitors_language(client):
    page = client.get("/survey/forged", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 404 and "此链接无效" in page.data.decode()
    assert "This link is not valid" in client.get("/survey/forged").data.decode()
