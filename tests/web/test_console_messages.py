"""Console pages say what went wrong in words about what was refused: an
admin's own account, an e-mail or a code already used - not the ticket's
state, unless the refusal is about a ticket."""
from __future__ import annotations

import html
import re

from webpages import csrf_of
from service.domain.errors import Conflict, Forbidden, KefuError
from service.extensions import db
from service.web.pages import error_message

SELF = "You cannot demote or deactivate yourself; ask another admin."
SELF_ZH = "您不能降低自己的角色或停用自己的账号；请让另一位管理员操作。"
TICKET_STATE = ("That is not possible in the ticket's current state.", "工单当前的状态不允许这样做。")


def _flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash error"[^>]*>([^<]*)<', page)


def _change_own_account(client, me, **fields):
    token = csrf_of(client.get("/console/admin/staff").text)
    # Refused: the person's edit page again, with the reason (nothing saved).
    response = client.post(f"/console/admin/staff/{me.id}", data={"csrf_token": token, **fields})
    assert response.status_code == 409
    return html.unescape(response.text)


def test_an_admin_who_demotes_themselves_is_told_so(client, staff_login):
    me = staff_login("admin")
    for change in ({"role": "agent", "active": "1"}, {"role": "admin", "active": "0"},
                   {"role": "supervisor", "active": "0"}):
        page = _change_own_account(client, me, **change)
        assert _flashes(page) == [SELF], change
        assert not any(text in page for text in TICKET_STATE)
    db.session.refresh(me)
    assert (me.role, me.active) == ("admin", True)


def test_the_self_demotion_message_is_not_about_a_ticket_in_chinese_either(client, staff_login):
    me = staff_login("admin", language="zh_CN")
    page = _change_own_account(client, me, role="agent", active="1")
    assert '<html lang="zh-CN">' in page
    assert not any(text in page for text in TICKET_STATE)
    assert _flashes(page) == [SELF_ZH]


def test_an_e_mail_already_used_is_named_on_its_field(client, staff_login):
    me = staff_login("admin")
    token = csrf_of(client.get("/console/admin/staff").text)
    again = client.post("/console/admin/staff", data={"csrf_token": token, "name": "Twin", "email": me.email.upper(),
                                                       "role": "agent"})
    assert again.status_code == 422
    assert '<span class="error" id="email-error">This is already in use.</span>' in again.text
    assert not any(text in html.unescape(again.text) for text in TICKET_STATE)


def test_a_category_code_already_used_is_named_on_its_field(client, staff_login):
    staff_login("admin")
    token = csrf_of(client.get("/console/admin/categories").text)
    again = client.post("/console/admin/categories", data={"csrf_token": token, "code": "other", "name": "Other"})
    assert again.status_code == 422
    assert '<span class="error" id="code-error">This is already in use.</span>' in again.text


def test_error_messages_follow_the_error_code_and_mention_a_ticket_only_for_a_ticket(app):
    with app.test_request_context("/console/"):
        assert error_message(Conflict("admins cannot demote or deactivate themselves", code="self_demotion")) == SELF
        # A conflict about a ticket's state names that state.
        ticket = Conflict("ticket T-1 is closed and can no longer be edited", current_status="closed",
                          allowed_actions=[])
        assert error_message(ticket) == "That step is not possible now: the ticket is Closed."
        # Any other conflict: neutral words.
        assert error_message(Conflict("endpoint 3 is disabled; enable it first")) == "That is not possible now."
        assert error_message(Forbidden("needs the finance role", {"decision": ["needs the finance role"]})) \
            == "Your role may not do this."


def test_an_error_may_carry_its_own_code_and_the_class_code_is_the_default():
    own = Conflict("x", {"role": ["r"]}, code="self_demotion")
    assert (own.code, own.fields, own.extra) == ("self_demotion", {"role": ["r"]}, {})
    assert Conflict("y").code == "conflict" and KefuError("z").code == "bad_request"
