"""A ticket an agent records for a caller (issue 16, item 4): /console/tickets/new.

Customer search-or-create inline, the console's channels, remedy, the first
note kept internal, files stored after the ticket, every error in one
round, and the receipt with the tracking link mailed to a customer with an
address."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select
from webpages import csrf_of

from service.extensions import db
from service.models import Attachment, Customer, Message, Ticket, TicketEvent
from service.storage import storage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake\n"


def _form(**fields) -> dict:
    base = {"channel": "phone", "kind": "complaint", "category": "other", "priority": "normal",
            "subject": "Fridge arrived dented", "description": "The door is dented; the driver left at once.",
            "name": "Chen Jing", "email": "", "phone": "+86 139 1111 2222", "language": "zh_CN",
            "customer_id": "", "remedy_text": "", "remedy_amount": "", "remedy_currency": "CNY", "note": ""}
    return base | fields


def _post(client, files=(), **fields):
    token = csrf_of(client.get("/console/tickets/new").text)
    data = _form(**fields) | {"csrf_token": token}
    if files:
        data["files"] = [(io.BytesIO(content), name, ctype) for name, content, ctype in files]
    return client.post("/console/tickets/new", data=data, content_type="multipart/form-data")


def _number(response) -> str:
    assert response.status_code == 302, response.text[:2000]
    return re.search(r"/console/tickets/([A-Z]+-\d+)$", response.headers["Location"]).group(1)


def _ticket(number) -> Ticket:
    db.session.rollback()
    return db.session.scalars(select(Ticket).where(Ticket.number == number)).one()


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_page_is_for_agents_only(client, staff_login):
    assert client.get("/console/tickets/new").status_code == 302  # signed out: the sign-in page
    staff_login("finance")
    assert client.get("/console/tickets/new").status_code == 403


def test_a_phone_ticket_for_a_new_customer_with_remedy_note_and_files(client, staff_login, kefu_mail):
    staff = staff_login("agent")
    response = _post(client, files=[("dent.png", PNG, "image/png"), ("receipt.pdf", PDF, "application/pdf")],
                     email="chen@example.test", remedy_text="A new door", remedy_amount="350.50",
                     note="Caller was calm; wants a visit before Friday.")
    number = _number(response)
    ticket = _ticket(number)
    assert (ticket.channel, ticket.kind, ticket.subject) == ("phone", "complaint", "Fridge arrived dented")
    assert ticket.description.startswith("The door is dented")
    assert (ticket.remedy_text, ticket.remedy_amount_minor, ticket.remedy_currency) == ("A new door", 35050, "CNY")
    customer = ticket.customer
    assert (customer.name, customer.email, customer.phone, customer.language) == \
        ("Chen Jing", "chen@example.test", "+86 139 1111 2222", "zh_CN")
    # The opening ran as for any ticket: an SLA, the first history by the agent.
    assert ticket.first_response_due is not None and ticket.resolution_due is not None
    created = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.action == "created")).one()
    assert created.actor_type == "staff" and created.details["channel"] == "phone"
    # The note is internal, by the agent.
    [note] = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id)).all()
    assert note.internal and note.staff_id == staff.id and note.body.startswith("Caller was calm")
    # The files, stored.
    files = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                               .order_by(Attachment.id)).all()
    assert [(f.filename, f.content_type, f.uploaded_by) for f in files] == [
        ("dent.png", "image/png", "staff"), ("receipt.pdf", "application/pdf", "staff")]
    with storage().open(files[0].storage_key) as fh:
        assert fh.read() == PNG
    # The ticket page, with what happened said.
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and f"Ticket {number} created." in page.text
    assert "The customer was mailed the link to follow the case." in page.text
    # The receipt with the tracking link, in the customer's language.
    [mail] = kefu_mail.find(to="chen@example.test", ticket=number)
    assert mail.notice == "received"
    link = re.search(r"http://[^/\s]+(/track/\S+)", mail.text).group(1)
    track = client.get(link)
    assert track.status_code == 200 and number in track.text
    assert "Caller was calm" not in track.text  # the note stays internal
    assert "dent.png" not in track.text  # files staff attached without a reply are staff's


def test_an_existing_customer_is_found_and_picked(client, staff_login, kefu_mail):
    staff_login("agent")
    known = Customer(name="Liu Yang", email="liu@example.test", phone="+86 138 0000 7777", language="en")
    other = Customer(name="Zhou Min", email="zhou@example.test", language="en")
    db.session.add_all([known, other])
    db.session.commit()
    # Found by phone; the search posts the form back with everything typed kept.
    token = csrf_of(client.get("/console/tickets/new").text)
    found = client.post("/console/tickets/new", data=_form(q="0000 7777", subject="Typed before searching",
                                                           csrf_token=token, step="find"))
    assert found.status_code == 200
    assert f'value="{known.id}"' in found.text and f'value="{other.id}"' not in found.text
    assert 'value="Typed before searching"' in found.text
    # Found with a GET too (a search before anything was typed), by name.
    assert f'value="{known.id}"' in client.get("/console/tickets/new?q=liu").text
    # Picked: no new customer, whatever the new-customer fields say.
    before = _count(Customer)
    number = _number(_post(client, customer_id=str(known.id), channel="walk_in", name="Ignored",
                           phone="+86 138 9999 9999"))
    ticket = _ticket(number)
    assert ticket.customer_id == known.id and ticket.channel == "walk_in"
    assert _count(Customer) == before
    assert [m.notice for m in kefu_mail.find(to="liu@example.test")] == ["received"]


def test_a_new_customer_whose_contact_is_known_is_the_known_customer(client, staff_login):
    staff_login("agent")
    known = Customer(name="Sun Li", email="sun@example.test", language="en")
    db.session.add(known)
    db.session.commit()
    number = _number(_post(client, name="Sun Li", email="SUN@example.test", phone=""))
    assert _ticket(number).customer_id == known.id


@pytest.mark.parametrize("channel", ["phone", "walk_in", "fax", "email", "chat"])
def test_every_console_channel(client, staff_login, channel):
    staff_login("agent")
    assert _ticket(_number(_post(client, channel=channel))).channel == channel


def test_channels_kinds_and_priorities_are_labelled(client, staff_login):
    staff_login("agent", language="zh_CN")
    page = client.get("/console/tickets/new").text
    for zh in ("电话", "到访", "传真", "在线聊天", "新客户"):
        assert zh in page, zh


def test_every_error_in_one_round_with_values_kept_and_nothing_written(client, staff_login):
    staff_login("agent")
    before = (_count(Ticket), _count(Customer), _count(Attachment))
    response = _post(client, files=[("virus.exe", b"MZ", "application/x-msdownload")], subject="",
                     description="  ", name="", phone="", email="not-an-address", remedy_amount="lots",
                     priority="whenever", channel="web", note="Kept as typed")
    assert response.status_code == 422
    page = html.unescape(response.text)
    errors = dict(re.findall(r'<(?:span|ul) class="error" id="([a-z_]+)-error">(.*?)</(?:span|ul)>', page, re.S))
    assert set(errors) >= {"subject", "description", "name", "email", "remedy_amount", "priority", "channel",
                           "files"}, errors
    assert "virus.exe" in errors["files"] and "not accepted" in errors["files"]
    assert "Kept as typed" in page and 'value="not-an-address"' in page
    assert "please choose them again" in page
    assert (_count(Ticket), _count(Customer), _count(Attachment)) == before


def test_a_new_customer_needs_an_e_mail_or_a_phone(client, staff_login):
    staff_login("agent")
    response = _post(client, phone="", email="")
    assert response.status_code == 422
    assert 'id="contact-error">Give an e-mail address or a phone number.' in response.text


def test_an_unknown_customer_id_is_a_field_error(client, staff_login):
    staff_login("agent")
    response = _post(client, customer_id="999999")
    assert response.status_code == 422 and 'id="customer_id-error"' in response.text


def test_a_file_too_large_is_named_with_the_other_errors(client, staff_login, app):
    staff_login("agent")
    app.config["ATTACHMENT_MAX_BYTES"] = 100
    response = _post(client, subject="", files=[("big.txt", b"x" * 101, "text/plain"),
                                                ("fine.txt", b"ok", "text/plain")])
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "big.txt: larger than" in page and "fine.txt" not in page.split('id="files-error"')[1][:200]
    assert 'id="subject-error"' in page


def test_a_file_the_store_refuses_after_the_ticket_costs_only_itself(client, staff_login, app, tmp_path):
    """The ticket is saved first; a store that fails then leaves the ticket
    and says on its page which file was not attached and why."""
    staff_login("agent")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store's folder should be")
    app.config["ATTACHMENT_DIR"] = str(blocked)
    app.extensions.pop("kefu_storage", None)
    response = _post(client, files=[("photo.png", PNG, "image/png")])
    number = _number(response)
    assert _ticket(number).status == "new"
    page = html.unescape(client.get(response.headers["Location"]).text)
    assert "File photo.png: not attached, the file store is not available" in page
    assert _count(Attachment) == 0


def test_without_an_e_mail_address_the_agent_is_told_to_send_the_link(client, staff_login, kefu_mail):
    staff_login("agent")
    response = _post(client, email="", phone="+86 137 2222 3333")
    number = _number(response)
    page = client.get(response.headers["Location"]).text
    assert "send a new tracking link to read it out" in page
    assert kefu_mail.find(ticket=number) == []


def test_an_e_mail_ticket_gets_one_receipt(client, staff_login, kefu_mail):
    staff_login("agent")
    number = _number(_post(client, channel="email", email="one@example.test"))
    assert [m.notice for m in kefu_mail.find(ticket=number)] == ["received"]


def test_a_double_click_opens_one_ticket(client, staff_login):
    staff_login("agent")
    page = client.get("/console/tickets/new").text
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    data = _form(csrf_token=csrf_of(page), request_key=key, note="Once")
    first = _number(client.post("/console/tickets/new", data=data))
    again = _number(client.post("/console/tickets/new", data=data))
    assert first == again and _count(Ticket) == 1 and _count(Message) == 1
