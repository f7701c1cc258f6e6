"""Notices to customers and staff, through the in-process runner to a real SMTP server."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from jobparts import smtp_settings


@pytest.fixture
def overrides(smtp_sink):
    return smtp_settings(smtp_sink)


def _sent(sink):
    return sink.handler_obj.messages


def _walk_ticket(act, agent, number):
    act(agent, number, "confirm", department="logistics")
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="We sent a new unit; it arrives <Friday>.")


def test_resolution_mail_has_summary_links_and_threading(app, client, agent, file_ticket, act, jobs, smtp_sink):
    filed = file_ticket(subject="Washer <b>broken</b>")
    number = filed["number"]
    _walk_ticket(act, agent, number)
    jobs.drain(periodic=False)
    received, confirmed, resolved = _sent(smtp_sink)
    assert [m["X-Kefu-Ticket"] for m in (received, confirmed, resolved)] == [number] * 3
    assert resolved["Subject"] == f"[{number}] Your ticket is resolved - does this solve it? Washer <b>broken</b>"
    assert resolved["To"] == "Wang Fang <wang@example.test>"
    assert resolved["Auto-Submitted"] == "auto-generated"
    root = f"<{number}@{app.config['MAIL_DOMAIN']}>"
    assert resolved["In-Reply-To"] == root and root in resolved["References"]
    assert len({m["Message-ID"] for m in (received, confirmed, resolved)}) == 3
    text = resolved.get_body(("plain",)).get_content()
    html = resolved.get_body(("html",)).get_content()
    assert "We sent a new unit; it arrives <Friday>." in text
    assert "it arrives &lt;Friday&gt;." in html and "<Friday>" not in html
    assert "Washer &lt;b&gt;broken&lt;/b&gt;" in html
    links = dict(re.findall(r"^(Yes, this solves it|No, it is not solved|Track your ticket): (\S+)\r?$", text, re.M))
    assert set(links) == {"Yes, this solves it", "No, it is not solved", "Track your ticket"}
    assert all(f'href="{url}"' in html for url in links.values())
    # The link from the mail opens this ticket for the customer, and no other.
    path = urlsplit(links["Track your ticket"]).path
    assert path.startswith("/track/")
    assert urlsplit(links["Yes, this solves it"]).path == path + "/accept"
    assert urlsplit(links["No, it is not solved"]).path == path + "/reject"
    shown = client.get(path)  # the web tracking page, with the answer buttons
    assert shown.status_code == 200 and number in shown.text and 'id="accept"' in shown.text
    assert number in client.get(path + "/reject").text
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_chinese_customers_get_chinese_mail(app, client, agent, file_ticket, act, jobs, smtp_sink):
    number = file_ticket(name="王芳", language="zh_CN")["number"]
    act(agent, number, "confirm", department="logistics")
    jobs.drain(periodic=False)
    received, confirmed = _sent(smtp_sink)
    assert received["Subject"].startswith(f"[{number}] 我们已收到您的投诉")
    assert "王芳，您好" in confirmed.get_body(("plain",)).get_content()
    assert 'lang="zh-CN"' in confirmed.get_body(("html",)).get_content()


def test_public_replies_are_mailed_and_internal_notes_never(app, client, agent, file_ticket, jobs, smtp_sink):
    number = file_ticket()["number"]
    jobs.drain(periodic=False)
    before = len(_sent(smtp_sink))
    note = client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": "Customer sounds angry; escalate if late.", "internal": True})
    assert note.status_code == 201
    jobs.drain(periodic=False)
    assert len(_sent(smtp_sink)) == before
    reply = client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                        json={"body": "The courier comes tomorrow morning.", "internal": False})
    assert reply.status_code == 201
    jobs.drain(periodic=False)
    [mail] = _sent(smtp_sink)[before:]
    body = mail.get_body(("plain",)).get_content()
    assert mail["Subject"].startswith(f"[{number}] New reply") and "The courier comes tomorrow morning." in body
    assert "escalate" not in body


def test_staff_hear_about_assignments(app, client, agent, make_staff, file_ticket, jobs, smtp_sink):
    member, _headers = make_staff("agent")
    number = file_ticket(email=None, phone="13900000000")["number"]
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    response = client.patch(f"/api/v1/tickets/{number}", headers=agent,
                            json={"version": version, "assignee": member.id})
    assert response.status_code == 200
    jobs.drain(periodic=False)
    [mail] = _sent(smtp_sink)
    assert mail["To"].addresses[0].addr_spec == member.email
    assert mail["Subject"] == f"[{number}] Assigned to you: Washing machine not delivered"


def test_without_smtp_host_mail_goes_to_the_dev_mail_log(app, client, agent, file_ticket, jobs, smtp_sink):
    app.config["SMTP_HOST"] = None
    number = file_ticket()["number"]
    jobs.drain(periodic=False)
    assert _sent(smtp_sink) == []
    import glob
    [path] = glob.glob(f"{app.config['MAIL_LOG_DIR']}/*.eml")
    assert f"Subject: [{number}] We have received your complaint" in open(path, encoding="utf-8").read()
