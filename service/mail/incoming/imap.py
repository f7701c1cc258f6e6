"""Polling an existing mailbox over IMAP: the periodic ``mail.imap_poll`` job.

Each unseen mail in ``IMAP_FOLDER`` is fetched without marking it (``BODY.PEEK``),
taken in (``inbound.take_in_or_quarantine``), and only then flagged ``\\Seen``:
a crash in between leaves it unseen, and the next poll takes it again, which
the Message-ID check makes harmless.
"""
from __future__ import annotations

import imaplib
import logging
import ssl

from flask import current_app

from service.mail.incoming import inbound

log = logging.getLogger("kefu.mail")

# Mails per run: a full mailbox is worked off over several runs, so that one
# run stays short and the next period's run is not blocked.
BATCH = 100
TIMEOUT_SECONDS = 30


def _connect(config) -> imaplib.IMAP4:
    host, port = config["IMAP_HOST"], int(config["IMAP_PORT"])
    if config.get("IMAP_SSL"):
        return imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS)
    return imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)


def _check(answer, what: str):
    typ, data = answer
    if typ != "OK":
        raise imaplib.IMAP4.error(f"IMAP {what} failed: {typ} {data!r}")
    return data


def poll_job() -> str:
    """Take in the unseen mails of the configured mailbox, at most ``BATCH``.

    Returns at once with ``"off"`` when ``IMAP_HOST`` is unset. Uses
    ``IMAP4_SSL`` when ``IMAP_SSL``. A mail is flagged ``\\Seen`` only after
    it was stored (ticket, message or quarantine). IMAP errors propagate
    (the job fails and the next period tries again). Returns a summary
    such as ``"3 taken in: opened KF-000001, ..."``.
    """
    config = current_app.config
    if not config.get("IMAP_HOST"):
        return "off"
    client = _connect(config)
    done = []
    try:
        _check(client.login(config.get("IMAP_USER") or "", config.get("IMAP_PASSWORD") or ""), "LOGIN")
        _check(client.select(_quoted(config.get("IMAP_FOLDER") or "INBOX")), "SELECT")
        uids = _check(client.uid("SEARCH", None, "UNSEEN"), "SEARCH")[0].split()[:BATCH]
        for uid in uids:
            data = _check(client.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:  # expunged by someone else meanwhile
                continue
            outcome = inbound.take_in_or_quarantine(raw, "imap")
            _check(client.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE")
            done.append(f"{outcome.action} {outcome.number or outcome.quarantine_id or ''}".strip())
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            log.warning("IMAP logout failed", exc_info=True)
    return f"{len(done)} taken in" + (": " + ", ".join(done) if done else "")


def _quoted(folder: str) -> str:
    # imaplib sends the name as is: a folder with spaces needs quotes.
    if folder.startswith('"') or not any(c in folder for c in ' "\\()'):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
