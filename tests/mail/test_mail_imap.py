"""The IMAP poll job against a real, throwaway Dovecot on a loopback port.

Needs Debian's ``dovecot-imapd`` (skipped only when the dovecot binary is
missing). Dovecot runs from a config in a temp dir (its own base_dir, state,
log, Maildir), plain-text login without TLS on 127.0.0.1, and is stopped by
its master pid afterwards.
"""
from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail.incoming import imap
from service.models import QuarantinedMail, Ticket

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(DOVECOT is None, reason="dovecot is not installed (Debian: dovecot-imapd)")]
PASSWORD = "imap-test-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        # Dovecot never gives mail access to root: the mailbox belongs to nobody.
        mail_user, mail_group = "nobody", "nogroup"
        users = ""
    else:
        mail_user = mail_group = pwd.getpwuid(os.getuid()).pw_name
        users = f"default_login_user = {mail_user}\ndefault_internal_user = {mail_user}\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log
instance_name = kefu-test-{port}
{users}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {mail_user}
mail_gid = {mail_group}
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else f"({path.name} missing)"


@pytest.fixture(scope="module")
def dovecot_port():
    """A running Dovecot for this module: yields its port; stopped (by its
    master pid) and removed afterwards. Any user name logs in with PASSWORD
    and has a mailbox of its own."""
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    root.chmod(0o755)  # the mail user (not the test's) must reach the Maildir
    (root / "home").mkdir()
    if os.geteuid() == 0:
        shutil.chown(root / "home", "nobody", "nogroup")
    port = _free_port()
    (root / "dovecot.conf").write_text(_config(root, port))
    pid = None
    try:
        # Dovecot forks into the background: its output goes to a file, or
        # the daemon would hold a pipe open and run() would never return.
        with open(root / "start.log", "wb") as out:
            started = subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf")], check=False, stdout=out,
                                     stderr=out, stdin=subprocess.DEVNULL, timeout=30)
        assert started.returncode == 0, _read(root / "start.log")
        deadline = time.monotonic() + 10
        while True:  # the forked master writes its pid file, then listens
            try:
                pid = pid or int((root / "run" / "master.pid").read_text().split()[0])
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except (OSError, ValueError, IndexError):
                assert time.monotonic() < deadline, _read(root / "log")
                time.sleep(0.05)
        yield port
    finally:
        if pid is None and (root / "run" / "master.pid").exists():
            pid = int((_read(root / "run" / "master.pid").split() or ["0"])[0]) or None
        if pid is not None:
            os.kill(pid, 15)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_port, request):
    """``(port, user)``: the module's Dovecot and a mailbox of this test's own."""
    return dovecot_port, f"support-{request.node.name[:40].replace('[', '-').replace(']', '')}"


def _mailbox(box):
    port, user = box
    client = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    client.login(user, PASSWORD)
    return client


def _append(box, *raws):
    client = _mailbox(box)
    try:
        for raw in raws:
            assert client.append("INBOX", None, None, raw)[0] == "OK"
    finally:
        client.logout()


def _unseen(box) -> int:
    client = _mailbox(box)
    try:
        client.select("INBOX")
        return len(client.uid("SEARCH", None, "UNSEEN")[1][0].split())
    finally:
        client.logout()


NEW = (b"From: Zhao Lei <zhao@example.test>\r\nTo: support@kefu.test\r\nSubject: Broken kettle\r\n"
       b"Message-ID: <kettle.1@example.test>\r\n\r\nThe kettle does not heat.\r\n")
AUTO = (b"From: zhao@example.test\r\nTo: support@kefu.test\r\nSubject: Out of office\r\n"
        b"Auto-Submitted: auto-replied\r\nMessage-ID: <ooo.1@example.test>\r\n\r\nAway.\r\n")


def test_poll_is_off_without_imap_host(app):
    assert imap.poll_job() == "off"


def test_poll_takes_in_unseen_mail_and_marks_it_seen(app, dovecot, jobs):
    app.config.update(IMAP_HOST="127.0.0.1", IMAP_PORT=dovecot[0], IMAP_SSL=False, IMAP_USER=dovecot[1],
                      IMAP_PASSWORD=PASSWORD, IMAP_FOLDER="INBOX")
    _append(dovecot, NEW, AUTO)
    assert _unseen(dovecot) == 2
    assert imap.poll_job() == "2 taken in: opened KF-000001, quarantined 1"
    assert _unseen(dovecot) == 0
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "email" and ticket.email_message_id == "<kettle.1@example.test>"
    held = db.session.scalar(select(QuarantinedMail))
    assert held.source == "imap" and held.reason.startswith("auto-reply")
    # Seen mail is not taken again; a reply arriving later is.
    assert imap.poll_job() == "0 taken in"
    _append(dovecot, b"From: zhao@example.test\r\nSubject: Re: [KF-000001] Broken kettle\r\n"
                     b"Message-ID: <kettle.2@example.test>\r\n\r\nIt is model K-7.\r\n")
    assert imap.poll_job() == "1 taken in: replied KF-000001"


def test_poll_with_a_wrong_password_fails_and_takes_nothing(app, dovecot):
    app.config.update(IMAP_HOST="127.0.0.1", IMAP_PORT=dovecot[0], IMAP_SSL=False, IMAP_USER=dovecot[1],
                      IMAP_PASSWORD="wrong")
    _append(dovecot, NEW)
    with pytest.raises(imaplib.IMAP4.error):
        imap.poll_job()
    assert _unseen(dovecot) == 1
    assert db.session.scalar(select(Ticket)) is None
