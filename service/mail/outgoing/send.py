"""Handing a composed message to SMTP, or to the dev mail log without SMTP_HOST."""
from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import threading
import time
from email.message import EmailMessage

from flask import current_app

from service.models.base import utcnow

log = logging.getLogger("kefu.mail")


def deliver(message: EmailMessage) -> str:
    """Send ``message``; return where it went (``smtp:host`` or the log file).

    With ``SMTP_HOST`` unset the message is written to ``MAIL_LOG_DIR`` as an
    ``.eml`` file and logged, so a demo without a mail server still shows
    every mail. SMTP errors propagate (the job retries with backoff). The
    SMTP connection stays open for the next mail of this thread (see
    ``_send_smtp``).
    """
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        folder = config["MAIL_LOG_DIR"]
        os.makedirs(folder, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9.-]+", "_", message["Message-ID"] or "message").strip("_")[:120]
        path = os.path.join(folder, f"{utcnow():%Y%m%dT%H%M%S}-{stem}.eml")
        # Written aside and renamed into place, so whoever watches the folder
        # (a developer's mail viewer, a test) never reads half a mail.
        partial = path + ".part"
        with open(partial, "wb") as fh:
            fh.write(message.as_bytes())
        os.replace(partial, path)
        log.info("mail to %s (%s) written to %s", message["To"], message["Subject"], path)
        return path
    return _send_smtp(config, message)


# One open SMTP connection per thread, reused by the mail jobs a worker runs
# one after another: a job no longer pays the TCP (and TLS, and AUTH)
# handshake. Keyed by the server settings, closed when idle too long.
_open = threading.local()


def _settings_key(config) -> tuple:
    return (config["SMTP_HOST"], int(config["SMTP_PORT"]), bool(config.get("SMTP_SSL")),
            bool(config.get("SMTP_STARTTLS")), config.get("SMTP_USER"), config.get("SMTP_PASSWORD"))


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_TIMEOUT"]
    if config.get("SMTP_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
            client.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            client.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
    except BaseException:
        client.close()
        raise
    return client


def close_connection() -> None:
    """Close this thread's SMTP connection, if one is open (QUIT, errors ignored)."""
    client = getattr(_open, "client", None)
    _open.client = _open.key = None
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _send_smtp(config, message: EmailMessage) -> str:
    """Send over this thread's open connection to the configured server,
    opening one when there is none, the settings changed, or it sat idle
    longer than ``SMTP_IDLE_SECONDS`` (servers drop idle clients). A
    connection the server closed meanwhile is opened again once, and the
    message sent on the new one; any other SMTP error propagates (the job
    retries) and the connection is dropped."""
    key = _settings_key(config)
    fresh = False
    idle = time.monotonic() - (getattr(_open, "used", 0.0) or 0.0)
    if getattr(_open, "key", None) != key or idle > config["SMTP_IDLE_SECONDS"]:
        close_connection()
    if getattr(_open, "client", None) is None:
        _open.client, _open.key, fresh = _connect(config), key, True
    try:
        _open.client.send_message(message)
    except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
        close_connection()
        if fresh:
            raise
        log.info("SMTP connection was closed by the server (%s): reconnecting", exc)
        _open.client, _open.key = _connect(config), key
        try:
            _open.client.send_message(message)
        except BaseException:
            close_connection()
            raise
    except BaseException:
        close_connection()
        raise
    _open.used = time.monotonic()
    return f"smtp:{config['SMTP_HOST']}:{int(config['SMTP_PORT'])}"
