"""Files on the customer's pages (issue 16, item 5): photos and documents
on the public form and the tracking page, with the API's type and size
checks, errors in the same round as the other fields; the tracking page
lists the case's files the customer may see and serves them through the
private link only."""
from __future__ import annotations

import html
import io
import re

from sqlalchemy import func, select
from webpages import csrf_of

from service.domain.actors import Actor
from service.extensions import db
from service.models import Attachment, Message, Staff, Ticket
from service.usecases import messages

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100 + b"\xff\xd9"
PDF = b"%PDF-1.4\n%fake\n"


def _file_form(client, files=(), **fields):
    page = client.get("/")
    data = {"kind": "complaint", "category": "other", "subject": "Broken screen", "description": "Cracked on arrival.",
            "name": "Wang Fang", "email": "wang@example.test", "csrf_token": csrf_of(page.text), **fields}
    data["files"] = [(io.BytesIO(content), name, ctype) for name, content, ctype in files]
    return client.post("/", data=data, content_type="multipart/form-data")


def _filed(client, response) -> tuple[str, str]:
    assert response.status_code == 302, response.text[:1500]
    done = client.get(response.headers["Location"])
    number = re.search(r'id="ticket-number">([^<]+)<', done.text).group(1)
    path = re.search(r'id="tracking-link" href="http://localhost(/track/[^"]+)"', done.text).group(1)
    return number, path


def _ticket(number) -> Ticket:
    db.session.rollback()
    return db.session.scalars(select(Ticket).where(Ticket.number == number)).one()


def _listed(page: str) -> list[tuple[str, str]]:
    """(href, file name) of the tracking page's file list."""
    return re.findall(r'<li data-file="\d+"><a href="([^"]+)" download>([^<]+)</a>', page)


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Attachment)) + \
        db.session.scalar(select(func.count()).select_from(Ticket))


def test_the_form_takes_photos_and_the_tracking_page_lists_and_serves_them(client):
    form = client.get("/").text
    assert 'type="file" multiple accept="image/png,image/jpeg' in form and "capture" not in form
    assert 'enctype="multipart/form-data"' in form
    number, path = _filed(client, _file_form(client, files=[("screen.jpg", JPEG, "image/jpeg"),
                                                            ("invoice.pdf", PDF, "application/pdf")]))
    ticket = _ticket(number)
    rows = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                              .order_by(Attachment.id)).all()
    assert [(a.filename, a.uploaded_by) for a in rows] == [("screen.jpg", "customer"), ("invoice.pdf", "customer")]
    page = client.get(path).text
    listed = _listed(page)
    assert [name for _href, name in listed] == ["screen.jpg", "invoice.pdf"]
    download = client.get(listed[0][0])
    assert download.status_code == 200 and download.data == JPEG
    assert download.mimetype == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "private" in download.headers["Cache-Control"]


def test_a_bad_type_or_size_is_a_field_error_with_the_others_and_nothing_is_filed(client, app):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    before = _count()
    response = _file_form(client, subject="", files=[("run.exe", b"MZ", "application/x-msdownload"),
                                                     ("huge.jpg", JPEG + b"\x00" * 1000, "image/jpeg"),
                                                     ("fine.pdf", PDF, "application/pdf"),
                                                     ("fake.png", PDF, "application/pdf")])
    assert response.status_code == 422
    page = html.unescape(response.text)
    files_error = re.search(r'<ul class="error" id="files-error">(.*?)</ul>', page, re.S).group(1)
    assert "run.exe: this type of file is not accepted" in files_error
    assert "huge.jpg: larger than" in files_error
    assert "fake.png: this type of file is not accepted" in files_error  # the type must match the name
    assert "fine.pdf" not in files_error
    assert 'id="subject-error"' in page  # the same round
    assert 'value="Wang Fang"' in page and "please choose them again" in page
    assert _count() == before


def test_the_customer_replies_with_a_photo_or_a_photo_alone(client):
    number, path = _filed(client, _file_form(client))
    token = csrf_of(client.get(path).text)
    sent = client.post(path + "/reply", content_type="multipart/form-data", data={
        "csrf_token": token, "body": "Here is the box.", "files": [(io.BytesIO(JPEG), "box.jpg", "image/jpeg")]})
    assert sent.status_code == 302
    alone = client.post(path + "/reply", content_type="multipart/form-data", data={
        "csrf_token": token, "body": "", "files": [(io.BytesIO(PDF), "label.pdf", "application/pdf")]})
    assert alone.status_code == 302
    page = client.get(path).text
    assert "Your files were sent." in page
    assert [name for _href, name in _listed(page)] == ["box.jpg", "label.pdf"]
    assert [m.body for m in db.session.scalars(select(Message))] == ["Here is the box."]


def test_a_refused_reply_keeps_the_text_and_names_the_file(client):
    _number, path = _filed(client, _file_form(client))
    token = csrf_of(client.get(path).text)
    response = client.post(path + "/reply", content_type="multipart/form-data", data={
        "csrf_token": token, "body": "Typed with care",
        "files": [(io.BytesIO(b"MZ"), "x.exe", "application/x-msdownload")]})
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "x.exe: this type of file is not accepted" in page and ">Typed with care</textarea>" in page
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    blank = client.post(path + "/reply", data={"csrf_token": token, "body": " "})
    assert blank.status_code == 422 and 'id="body-error">This field is required.' in blank.text


def test_the_customer_sees_staff_public_reply_files_only(client, app, make_staff):
    """Their own files and those on the team's public replies: not a file
    on an internal note, nor one staff attached without a message."""
    number, path = _filed(client, _file_form(client, files=[("mine.jpg", JPEG, "image/jpeg")]))
    make_staff("agent")
    staff = db.session.scalars(select(Staff)).first()
    actor = Actor.staff(staff)
    reply = messages.add_message(number, "Please print this label.", actor)
    note = messages.add_message(number, "Courier blamed; keep quiet.", actor, internal=True)
    public = messages.store_attachment(number, "label.pdf", "application/pdf", io.BytesIO(PDF), actor)
    internal = messages.store_attachment(number, "courier-report.pdf", "application/pdf", io.BytesIO(PDF), actor)
    loose = messages.store_attachment(number, "scan.pdf", "application/pdf", io.BytesIO(PDF), actor)
    # As a reply with files links them (the console's thread does).
    public.message_id, internal.message_id = reply.id, note.id
    db.session.commit()
    page = client.get(path).text
    listed = dict((name, href) for href, name in _listed(page))
    assert list(listed) == ["mine.jpg", "label.pdf"]
    assert client.get(listed["label.pdf"]).data == PDF
    # The staff-only files answer 404 through the link, as if they did not exist.
    base = path + "/files/"
    assert client.get(f"{base}{internal.id}").status_code == 404
    assert client.get(f"{base}{loose.id}").status_code == 404
    assert client.get(f"{base}999999").status_code == 404


def test_a_customer_never_reaches_another_cases_file(client):
    _n1, mine = _filed(client, _file_form(client, files=[("mine.jpg", JPEG, "image/jpeg")]))
    _n2, theirs = _filed(client, _file_form(client, name="Li Lei", email="li@example.test",
                                            files=[("theirs.jpg", JPEG, "image/jpeg")]))
    [(their_href, _name)] = _listed(client.get(theirs).text)
    their_id = their_href.rsplit("/", 1)[1]
    # Their file's id through my link: 404; a forged token: 404.
    assert client.get(f"{mine}/files/{their_id}").status_code == 404
    assert client.get(f"{theirs[:-3]}xyz/files/{their_id}").status_code == 404
    assert "theirs.jpg" not in client.get(mine).text


def test_the_same_form_sent_twice_keeps_its_files_once(client):
    page = client.get("/")
    key = re.search(r'name="request_key" value="([^"]+)"', page.text).group(1)
    first = _file_form(client, files=[("a.jpg", JPEG, "image/jpeg")], request_key=key)
    again = _file_form(client, files=[("a.jpg", JPEG, "image/jpeg")], request_key=key)
    number, _path = _filed(client, first)
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert _ticket(number).id == db.session.scalar(select(func.max(Ticket.id)))


def test_the_tracking_form_posts_without_a_csrf_token_are_refused(client):
    _number, path = _filed(client, _file_form(client))
    response = client.post(path + "/reply", content_type="multipart/form-data",
                           data={"body": "hi", "files": [(io.BytesIO(JPEG), "a.jpg", "image/jpeg")]})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
