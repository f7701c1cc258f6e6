"""The public form, the confirmation, the tracking page, replies, answers, plugin panels."""
from __future__ import annotations

import re

from sqlalchemy import select

from webpages import csrf_of
from service import hookimpl
from service.extensions import db
from service.models import Message, Ticket


def _ticket(number):
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def test_filing_the_form_opens_a_web_ticket_and_shows_the_number_and_link_once(client, file_on_form):
    number, path = file_on_form(remedy="Deliver it this week")
    ticket = _ticket(number)
    assert ticket.channel == "web" and ticket.kind == "complaint" and ticket.status == "new"
    assert ticket.remedy_text == "Deliver it this week"
    assert ticket.customer.email == "wang@example.test" and ticket.customer.language == "en"
    assert client.get(path).status_code == 200
    # The confirmation shows the private link only once.
    assert client.get("/filed").headers["Location"] == "/"


def test_the_form_names_each_bad_field_and_keeps_what_was_typed(client):
    token = csrf_of(client.get("/").text)
    response = client.post("/", data={"csrf_token": token, "subject": "", "description": "Broken",
                                      "name": "Wang", "email": "not-an-address", "kind": "complaint"})
    assert response.status_code == 422
    assert re.search(r'id="subject-error">This field is required\.', response.text)
    assert re.search(r'id="email-error">Not a valid e-mail address\.', response.text)
    assert 'aria-invalid="true" aria-describedby="subject-error"' in response.text
    assert ">Broken</textarea>" in response.text
    no_contact = client.post("/", data={"csrf_token": token, "subject": "S", "description": "D", "name": "W"})
    assert no_contact.status_code == 422 and "Give an e-mail address or a phone number." in no_contact.text
    unknown = client.post("/", data={"csrf_token": token, "subject": "S", "description": "D", "name": "W",
                                      "email": "w@example.test", "category": "no_such_category"})
    assert unknown.status_code == 422 and "Not one of the choices." in unknown.text
    assert db.session.scalars(select(Ticket)).all() == []


def test_the_tracking_page_shows_steps_and_public_messages_never_notes(client, file_on_form, agent, act):
    number, path = file_on_form()
    page = client.get(path).text
    assert 'aria-current="step"' in page and re.search(r'class="current" aria-current="step">\s*<span '
                                                        r'class="step-no">1</span> Listen', page)
    act(agent, number, "confirm", department="logistics")
    client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "We are on it."})
    client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                json={"body": "secret staff note", "internal": True})
    page = client.get(path).text
    assert "We are on it." in page and "secret staff note" not in page
    assert re.search(r'class="current" aria-current="step">\s*<span class="step-no">2</span> Confirm', page)
    assert "Logistics" in page


def test_unknown_or_forged_tokens_get_a_404_page(client, file_on_form):
    _number, path = file_on_form()
    response = client.get(path[:-3] + "xyz")
    assert response.status_code == 404 and "Not found." in response.text
    assert response.mimetype == "text/html"


def test_the_customer_replies_and_a_blank_reply_is_refused(client, file_on_form):
    number, path = file_on_form()
    token = csrf_of(client.get(path).text)
    response = client.post(path + "/reply", data={"csrf_token": token, "body": "Any news?"})
    assert response.status_code == 302
    assert "Your message was sent." in client.get(path).text
    blank = client.post(path + "/reply", data={"csrf_token": token, "body": "  "}, follow_redirects=True)
    assert "This field is required." in blank.text
    assert [m.body for m in db.session.scalars(select(Message))] == ["Any news?"]


def test_rejecting_needs_a_reason_and_accepting_closes(client, file_on_form, agent, act):
    number, path = file_on_form()
    answer = path + "/reject"
    assert "no resolution waiting" in client.get(answer).text  # nothing to answer yet
    for action, fields in (("confirm", {"department": "logistics"}), ("start", {}),
                           ("resolve", {"resolution": "Sent a new one."})):
        act(agent, number, action, **fields)
    page = client.get(path).text
    assert "Sent a new one." in page and 'id="accept"' in page
    token = csrf_of(client.get(answer).text)
    refused = client.post(answer, data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422 and "This field is required." in refused.text
    assert _ticket(number).status == "resolved"
    client.post(answer, data={"csrf_token": token, "reason": "It is broken too."})
    assert _ticket(number).status == "in_progress" and _ticket(number).reason == "It is broken too."
    act(agent, number, "resolve", resolution="Repaired.")
    client.post(path + "/accept", data={"csrf_token": token})
    assert _ticket(number).status == "closed"
    page = client.get(path).text
    assert "Closed" in page and 'id="body"' not in page  # no reply form on a closed case


def test_tracking_panels_show_escaped_text_and_a_safe_button(kefu_plugins, client, file_on_form):
    class Parcel:
        @hookimpl
        def tracking_panels(self, ticket):
            return [{"key": "parcel", "title": "Your <parcel>", "text": "Sent <b>today</b>",
                     "url": "https://parcel.example/1?a=1&b=2", "url_label": "Follow it"},
                    {"key": "evil", "title": "Evil", "text": "x", "url": "javascript:alert(1)", "url_label": "Click"}]

    kefu_plugins.register(Parcel(), name="parcel")
    _number, path = file_on_form()
    page = client.get(path).text
    assert "Your &lt;parcel&gt;" in page and "Sent &lt;b&gt;today&lt;/b&gt;" in page
    assert '<a class="button primary" href="https://parcel.example/1?a=1&amp;b=2">Follow it</a>' in page
    assert "javascript:" not in page


def test_the_language_switch_and_accept_language(client, file_on_form):
    assert "告诉我们遇到了什么问题" in client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Tell us what went wrong" in client.get("/", headers={"Accept-Language": "en-US"}).text
    token = csrf_of(client.get("/").text)
    client.post("/lang/zh_CN", data={"csrf_token": token, "back": "/"})
    # The visitor's choice wins over the browser's language.
    page = client.get("/", headers={"Accept-Language": "en-US"}).text
    assert "告诉我们遇到了什么问题" in page and '<html lang="zh-CN">' in page
    number, _path = file_on_form()
    assert _ticket(number).customer.language == "zh_CN"  # mail follows the language filed in


def test_every_form_error_comes_in_one_answer(client):
    # A missing subject and no way to reach the customer: both named at once,
    # not the contact only after the subject was fixed.
    token = csrf_of(client.get("/").text)
    response = client.post("/", data={"csrf_token": token, "subject": "", "description": "Broken", "name": "Wang"})
    assert response.status_code == 422
    assert re.search(r'id="subject-error">This field is required\.', response.text)
    assert re.search(r'id="email-error">Give an e-mail address or a phone number\.<', response.text)
    # A malformed address is its own error, not also "give an e-mail address".
    bad = client.post("/", data={"csrf_token": token, "subject": "S", "description": "D", "name": "W",
                                 "email": "not-an-address"})
    assert re.search(r'id="email-error">Not a valid e-mail address\.<', bad.text)
    assert db.session.scalars(select(Ticket)).all() == []


def test_customer_pages_carry_no_staff_links(client, file_on_form, staff_login):
    # The API's documentation is for staff and integrators: linked from the console only.
    number, path = file_on_form()
    for page in ("/", path):
        assert "/api/v1/docs" not in client.get(page).text, page
    staff_login("agent")
    assert "/api/v1/docs" in client.get("/console/").text


def _first_resolution(act, agent, number, resolution):
    """Walk a new ticket to its first resolution (confirm, start, resolve)."""
    for action, fields in (("confirm", {"department": "logistics"}), ("start", {}),
                           ("resolve", {"resolution": resolution})):
        act(agent, number, action, **fields)


def _reject(client, path, reason) -> str:
    """The customer rejects the resolution on the page; returns the form's CSRF token."""
    token = csrf_of(client.get(path + "/reject").text)
    client.post(path + "/reject", data={"csrf_token": token, "reason": reason})
    return token


def test_the_timeline_keeps_earlier_resolutions_and_the_customers_reasons(client, file_on_form, agent, act):
    number, path = file_on_form()
    _first_resolution(act, agent, number, "We sent a new power cable.")
    token = _reject(client, path, "The cable was not the problem.")
    act(agent, number, "wait")  # staff's own steps are not the customer's timeline
    client.post(path + "/reply", data={"csrf_token": token, "body": "The fan still rattles."})
    act(agent, number, "resolve", resolution="A technician replaced the fan.")

    page = client.get(path).text
    timeline = page[page.index('id="messages"'):]
    earlier = timeline.index("We sent a new power cable.")
    reason = timeline.index("The cable was not the problem.")
    reply = timeline.index("The fan still rattles.")
    assert earlier < reason < reply, "oldest first"
    assert "Earlier resolution" in timeline and "You did not accept the resolution" in timeline
    # The current resolution is shown once, above, with the answer buttons.
    assert page.count("A technician replaced the fan.") == 1 and 'id="accept"' in page

    # The same timeline in the public API, for apps.
    api = client.get(f"/api/v1/public/tickets/{path.rsplit('/', 1)[1]}").json
    assert [(e["kind"], e["author"], e["body"]) for e in api["timeline"]] == [
        ("resolution", "staff", "We sent a new power cable."),
        ("rejection", "customer", "The cable was not the problem."),
        ("message", "customer", "The fan still rattles."),
    ]
    assert api["resolution"] == "A technician replaced the fan."
    # Staff's reasons stay theirs: a reopen by an agent adds nothing the customer reads.
    act(agent, number, "reopen", reason="Supervisor wants a second look at the wiring.")
    assert "second look" not in client.get(path).text
    assert "second look" not in str(client.get(f"/api/v1/public/tickets/{path.rsplit('/', 1)[1]}").json)


def test_the_timeline_in_chinese(client, file_on_form, agent, act):
    client.post("/lang/zh_CN", data={"csrf_token": csrf_of(client.get("/").text), "back": "/"})
    number, path = file_on_form()
    _first_resolution(act, agent, number, "已补发新配件。")
    _reject(client, path, "配件型号不对。")
    act(agent, number, "resolve", resolution="已上门更换。")
    page = client.get(path).text
    assert "之前的处理结果" in page and "您未接受处理结果" in page and "配件型号不对。" in page


def test_the_customer_sees_times_with_their_zone(client, file_on_form):
    _number, path = file_on_form()
    assert re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d China Standard Time</time>', client.get(path).text)
    client.post("/lang/zh_CN", data={"csrf_token": csrf_of(client.get("/").text), "back": "/"})
    assert re.search(r'\d\d:\d\d 中国标准时间</time>', client.get(path).text)


def test_the_customer_is_told_when_to_expect_an_answer(client, agent, act):
    token = csrf_of(client.get("/").text)
    filed = client.post("/", data={"csrf_token": token, "subject": "Oven door", "description": "The door will not close.",
                                   "name": "Zhou", "email": "zhou@example.test"}, follow_redirects=True)
    promise = re.search(r'<p id="reply-by">We will get back to you by <time datetime="([^"]+)">[^<]+ China Standard '
                        r'Time</time>\.</p>', filed.text)
    assert promise, filed.text
    number = re.search(r'id="ticket-number">([^<]+)<', filed.text).group(1)
    ticket = _ticket(number)
    assert ticket.first_response_due is not None
    assert promise.group(1) == ticket.first_response_due.isoformat()  # the SLA's own time, not a guess
    path = re.search(r'id="tracking-link" href="http://[^/]+(/track/[^"]+)"', filed.text).group(1)
    assert 'id="reply-by"' in client.get(path).text
    api = client.get(f"/api/v1/public/tickets/{path.rsplit('/', 1)[1]}").json
    assert api["reply_by"] == ticket.first_response_due.isoformat()
    act(agent, number, "confirm", department="logistics")  # answered: nothing more to promise
    assert 'id="reply-by"' not in client.get(path).text
    assert client.get(f"/api/v1/public/tickets/{path.rsplit('/', 1)[1]}").json["reply_by"] is None
    client.post("/lang/zh_CN", data={"csrf_token": token, "back": "/"})
    zh = client.post("/", data={"csrf_token": token, "subject": "烤箱门", "description": "烤箱门关不上。",
                                "name": "周", "email": "zhou2@example.test"}, follow_redirects=True)
    assert re.search(r'我们会在 <time datetime="[^"]+">[^<]+ 中国标准时间</time> 之前回复您。', zh.text), zh.text
