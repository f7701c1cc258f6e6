"""The quarantine for admins (API and CLI), ``kefu mail test``/``take``, and
``kefu mail serve`` as a real process stopped by SIGTERM."""
from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import cli as mail_cli
from service.mail.incoming import server
from service.models import QuarantinedMail, Ticket

ROOT = Path(__file__).resolve().parents[2]
NO_FROM = b"Subject: who sent this?\r\nMessage-ID: <nofrom.1@example.test>\r\n\r\nanonymous text\r\n"


def test_quarantine_api_lists_serves_raw_and_deletes(client, admin, agent, send):
    send(NO_FROM, sender="ghost@example.test")
    send(b"From: a@example.test\r\nAuto-Submitted: auto-generated\r\nSubject: ping\r\n\r\nx\r\n",
         sender="a@example.test")
    listed = client.get("/api/v1/admin/mail/quarantine", headers=admin)
    assert listed.status_code == 200, listed.json
    items = listed.json["items"]
    assert [i["reason"] for i in items] == ["auto-reply: Auto-Submitted: auto-generated",
                                            "no usable sender address (From)"]
    assert items[1]["subject"] == "who sent this?" and items[1]["source"] == "smtp"
    assert items[1]["size"] > len(NO_FROM) and listed.json["next_cursor"] is None
    first = client.get("/api/v1/admin/mail/quarantine?limit=1", headers=admin).json
    assert len(first["items"]) == 1 and first["next_cursor"] == str(items[0]["id"])
    rest = client.get(f"/api/v1/admin/mail/quarantine?limit=1&cursor={first['next_cursor']}", headers=admin).json
    assert rest["items"][0]["id"] == items[1]["id"]

    raw = client.get(f"/api/v1/admin/mail/quarantine/{items[1]['id']}/raw", headers=admin)
    assert raw.status_code == 200 and raw.mimetype == "message/rfc822"
    assert raw.data.endswith(NO_FROM) and raw.data.startswith(b"Return-Path: <ghost@example.test>")
    assert "attachment" in raw.headers["Content-Disposition"]

    gone = client.delete(f"/api/v1/admin/mail/quarantine/{items[1]['id']}", headers=admin)
    assert gone.status_code == 204
    again = client.delete(f"/api/v1/admin/mail/quarantine/{items[1]['id']}", headers=admin)
    assert again.status_code == 404 and again.json["error"]["fields"] == {"mail_id": ["not found"]}
    assert [i["id"] for i in client.get("/api/v1/admin/mail/quarantine", headers=admin).json["items"]] == \
        [items[0]["id"]]


def test_quarantine_api_refuses_agents_and_bad_cursors(client, admin, agent):
    for method, url in (("GET", "/api/v1/admin/mail/quarantine"), ("GET", "/api/v1/admin/mail/quarantine/1/raw"),
                        ("DELETE", "/api/v1/admin/mail/quarantine/1")):
        refused = client.open(url, method=method, headers=agent)
        assert refused.status_code == 403 and "admin" in refused.json["error"]["message"]
        assert client.open(url, method=method).status_code == 401
    for cursor in ("abc", "99999999999"):
        bad = client.get(f"/api/v1/admin/mail/quarantine?cursor={cursor}", headers=admin)
        assert bad.status_code == 422 and "cursor" in bad.json["error"]["fields"]
    assert client.get("/api/v1/admin/mail/quarantine?limit=0", headers=admin).status_code == 422
    assert client.get("/api/v1/admin/mail/quarantine/7/raw", headers=admin).status_code == 404


def test_cli_quarantine_lists_and_take_feeds_one_mail(app, tmp_path):
    runner = app.test_cli_runner()
    assert "the mail quarantine is empty" in runner.invoke(mail_cli.mail, ["quarantine"]).output
    eml = tmp_path / "in.eml"
    eml.write_bytes(b"From: Zhang San <zhang@example.test>\r\nSubject: Fridge\r\nMessage-ID: <t.1@example.test>"
                    b"\r\n\r\nIt is warm.\r\n")
    result = runner.invoke(mail_cli.mail, ["take", str(eml)])
    assert result.exit_code == 0 and result.output.strip() == "opened KF-000001"
    assert runner.invoke(mail_cli.mail, ["take", str(eml)]).output.strip() == "duplicate KF-000001"
    held = runner.invoke(mail_cli.mail, ["take"], input=NO_FROM)
    assert held.exit_code == 0 and "quarantined" in held.output and "no usable sender" in held.output
    listed = runner.invoke(mail_cli.mail, ["quarantine"])
    assert listed.exit_code == 0
    [line] = listed.output.strip().splitlines()
    _id, _received, sender, subject, reason = line.split("\t")
    assert (sender, subject, reason) == ("-", "who sent this?", "no usable sender address (From)")
    assert db.session.scalar(select(QuarantinedMail.source)) == "cli"


def test_cli_test_mail_is_written_to_the_mail_log(app):
    runner = app.test_cli_runner()
    result = runner.invoke(mail_cli.mail, ["test", "ops@example.test", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    [eml] = Path(app.config["MAIL_LOG_DIR"]).glob("*.eml")
    sent = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert sent["To"] == "ops@example.test" and sent["Auto-Submitted"] == "auto-generated"
    assert "kefu" in sent.get_body(("plain",)).get_content()
    bad = runner.invoke(mail_cli.mail, ["test", "not an address"])
    assert bad.exit_code == 2 and "ADDRESS" in bad.output


def test_serve_stores_mail_until_stopped(app, make_mail):
    ready = threading.Event()
    box = {}

    def on_ready(listener, stopped):
        box["listener"], box["stopped"] = listener, stopped
        ready.set()

    thread = threading.Thread(target=server.serve, args=(app, "127.0.0.1", 0), kwargs={"ready": on_ready})
    thread.start()
    try:
        assert ready.wait(15)
        with smtplib.SMTP("127.0.0.1", box["listener"].port, timeout=30) as client:
            client.send_message(make_mail())
    finally:
        if "stopped" in box:
            box["stopped"].set()
        thread.join(20)
    assert not thread.is_alive()
    db.session.rollback()
    assert db.session.scalar(select(Ticket.channel)) == "email"
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", box["listener"].port, timeout=5)


def test_kefu_mail_serve_runs_until_sigterm(app, app_config, make_mail, tmp_path):
    env = {**os.environ, "KEFU_DATABASE_URL": app_config["DATABASE_URL"], "KEFU_SECRET_KEY": "x" * 32,
           "KEFU_SUPPORT_ADDRESS": "support@kefu.test", "KEFU_MAIL_LOG_DIR": str(tmp_path / "mail"),
           "KEFU_ATTACHMENT_DIR": str(tmp_path / "files"), "PYTHONUNBUFFERED": "1"}
    kefu = Path(sys.executable).with_name("kefu")
    proc = subprocess.Popen([str(kefu), "mail", "serve", "--port", "0"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        while "listener on" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "kefu mail serve ended before listening"
        port = int(line.split("listener on 127.0.0.1:")[1].split()[0])
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            assert client.send_message(make_mail()) == {}
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert "stopped" in out
    db.session.rollback()
    assert db.session.scalar(select(Ticket)).number == "KF-000001"
