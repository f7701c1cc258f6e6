"""Attachments through the storage backend: shared between nodes on S3, the
old local layout still read, a missing file a 404, a store that is down a
503 with nothing written, a failed transaction leaving no stored object.

The S3 store is a real HTTP server (moto's server mode) on loopback.
"""
from __future__ import annotations

import io
import os
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from testdb import IS_PG

from service.domain.actors import SYSTEM
from service.extensions import db
from service.mail.incoming import inbound
from service.models import Attachment, QuarantinedMail, Ticket
from service.usecases import messages

PDF = b"%PDF-1.4 receipt " + bytes(range(256)) * 40


def upload(client, headers, number, data=PDF, filename="receipt.pdf", content_type="application/pdf"):
    return client.post(f"/api/v1/tickets/{number}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


def download(client, headers, number, attachment_id):
    return client.get(f"/api/v1/tickets/{number}/attachments/{attachment_id}", headers=headers)


def attachment_events(client, headers, number) -> list[dict]:
    events = client.get(f"/api/v1/tickets/{number}/history", headers=headers).json
    return [e for e in events if e["action"] == "attachment_added"]


def ticket_id_of(number: str) -> int:
    return db.session.scalar(select(Ticket.id).where(Ticket.number == number))


def files_under(folder) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).is_dir() else []


def mail_with_attachment(data: bytes, filename="photo.png") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zhao Lei <zhao.lei@example.test>"
    msg["To"] = "support@kefu.test"
    msg["Subject"] = "Cracked screen on arrival"
    msg["Message-ID"] = "<cracked-screen-1@example.test>"
    msg.set_content("The photo of the screen is attached.")
    msg.add_attachment(data, maintype="image", subtype="png", filename=filename)
    return msg.as_bytes()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    error = response.json["error"]
    assert error["code"] == code and error["message"], error
    return error


# --- two nodes, one bucket ------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["s3"])
def test_a_file_uploaded_through_one_node_downloads_through_another(app, client, agent, file_ticket, node_b,
                                                                     app_config, stored_keys):
    number = file_ticket()["number"]
    created = upload(client, agent, number)
    assert created.status_code == 201, created.json

    through_b = download(node_b.test_client(), agent, number, created.json["id"])
    assert through_b.status_code == 200
    assert through_b.data == PDF
    assert through_b.mimetype == "application/pdf"
    assert through_b.headers["Content-Disposition"].startswith("attachment") and "receipt.pdf" in \
        through_b.headers["Content-Disposition"]
    # In the bucket, and on neither node's own disk.
    [key] = stored_keys()
    assert key.startswith(f"{ticket_id_of(number)}/")
    assert files_under(app_config["ATTACHMENT_DIR"]) == [] and files_under(node_b.config["ATTACHMENT_DIR"]) == []


@pytest.mark.parametrize("backend", ["s3"])
def test_a_mail_attachment_taken_in_by_one_node_downloads_through_another(app, agent, node_b, stored_keys):
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)
    with app.app_context():  # node A's listener takes the mail in
        outcome = inbound.take_in(mail_with_attachment(png), "smtp")
    assert outcome.action == "opened" and not outcome.notes

    b = node_b.test_client()
    [listed] = b.get(f"/api/v1/tickets/{outcome.number}/attachments", headers=agent).json
    assert (listed["filename"], listed["content_type"], listed["size"]) == ("photo.png", "image/png", len(png))
    through_b = download(b, agent, outcome.number, listed["id"])
    assert through_b.status_code == 200 and through_b.data == png
    assert len(stored_keys()) == 1


# --- a missing file, the old layout ---------------------------------------------------------

@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_file_missing_from_the_store_is_a_404_in_the_standard_shape(request, backend, app, client, agent,
                                                                       file_ticket, stored_keys):
    number = file_ticket()["number"]
    created = upload(client, agent, number)
    assert created.status_code == 201, created.json
    [key] = stored_keys()
    if backend == "s3":
        server = request.getfixturevalue("s3")
        server.client().delete_object(Bucket=server.bucket, Key="attachments/" + key)
    else:
        os.unlink(os.path.join(app.config["ATTACHMENT_DIR"], key))

    error = assert_error(download(client, agent, number, created.json["id"]), 404, "not_found")
    assert "missing" in error["message"]
    # The row is still listed: staff see that a file was attached, and that it is gone.
    assert [a["id"] for a in client.get(f"/api/v1/tickets/{number}/attachments", headers=agent).json] == \
        [created.json["id"]]


def test_files_written_in_the_old_local_layout_still_download(app, client, agent, file_ticket):
    number = file_ticket()["number"]
    ticket_id = ticket_id_of(number)
    # What kefu wrote before storage backends: ATTACHMENT_DIR/<ticket id>/<token>-<digest>.
    key = f"{ticket_id}/0123456789abcdef-{'ab' * 8}"
    path = Path(app.config["ATTACHMENT_DIR"], key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"order 42\n")
    row = Attachment(ticket_id=ticket_id, filename="order.txt", content_type="text/plain", size=9,
                     sha256="0" * 64, storage_key=key, uploaded_by="staff")
    db.session.add(row)
    db.session.commit()

    response = download(client, agent, number, row.id)
    assert response.status_code == 200 and response.data == b"order 42\n"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_download_is_a_private_file_of_its_stated_size(backend, client, agent, file_ticket):
    number = file_ticket()["number"]
    invoice = "发票 42\n".encode()
    created = upload(client, agent, number, data=invoice, filename="发票.txt", content_type="text/plain")
    response = download(client, agent, number, created.json["id"])
    assert response.status_code == 200 and response.data == invoice
    assert response.headers["Content-Length"] == str(len(invoice))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8.txt" in response.headers["Content-Disposition"]


# --- the store is down ----------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["s3"])
def test_while_the_store_is_down_an_upload_answers_503_and_writes_nothing(s3, app, client, agent, file_ticket):
    number = file_ticket()["number"]
    first = upload(client, agent, number)
    assert first.status_code == 201, first.json
    s3.stop()

    response = upload(client, agent, number, data=b"second", filename="second.txt", content_type="text/plain")
    error = assert_error(response, 503, "storage_unavailable")
    assert "attachment store" in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    listed = client.get(f"/api/v1/tickets/{number}/attachments", headers=agent).json
    assert [a["id"] for a in listed] == [first.json["id"]]
    assert [e["details"]["filename"] for e in attachment_events(client, agent, number)] == ["receipt.pdf"]
    # Reading is refused the same way, not a 500 and not a 404 (the file is not lost).
    assert_error(download(client, agent, number, first.json["id"]), 503, "storage_unavailable")


@pytest.mark.parametrize("backend", ["s3"])
def test_a_mail_taken_in_while_the_store_is_down_keeps_its_file_in_the_quarantine(s3, app):
    s3.stop()
    outcome = inbound.take_in(mail_with_attachment(b"\x89PNG\r\n\x1a\nphoto"), "smtp")
    assert outcome.action == "opened"
    assert outcome.notes and "attachment store" in outcome.notes[0]
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    [held] = db.session.scalars(select(QuarantinedMail)).all()
    assert held.reason.startswith(f"taken in as {outcome.number}") and b"photo.png" in held.raw


# --- nothing half-written -------------------------------------------------------------------

@pytest.fixture
def attachments_refused(app):
    """A database trigger that makes every insert into ``attachments`` fail,
    as a database that breaks mid-transaction would; dropped afterwards."""
    if IS_PG:
        create = [("CREATE FUNCTION kefu_test_refuse() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"),
                  ("CREATE TRIGGER kefu_test_refuse BEFORE INSERT ON attachments "
                   "FOR EACH ROW EXECUTE FUNCTION kefu_test_refuse()")]
        drop = ["DROP TRIGGER IF EXISTS kefu_test_refuse ON attachments",
                "DROP FUNCTION IF EXISTS kefu_test_refuse()"]
    else:
        create = [("CREATE TRIGGER kefu_test_refuse BEFORE INSERT ON attachments "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")]
        drop = ["DROP TRIGGER IF EXISTS kefu_test_refuse"]
    for statement in create:
        db.session.execute(sa.text(statement))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        for statement in drop:
            db.session.execute(sa.text(statement))
        db.session.commit()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_failed_transaction_deletes_the_stored_object(backend, app, file_ticket, stored_keys,
                                                         attachments_refused):
    number = file_ticket()["number"]
    with pytest.raises(sa.exc.DBAPIError, match="refused by the test"):
        messages.store_attachment(number, "receipt.pdf", "application/pdf", io.BytesIO(PDF), SYSTEM)
    assert stored_keys() == []
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
