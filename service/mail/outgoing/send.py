"""Handing a composed message to SMTP, or to the dev mail log without SMTP_HOST."""
from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from service.models.base import utcnow

log = logging.getLogger("kefu.mail")


def deliver(message: EmailMessage) -> str:
    """Send ``message``; return where it went (``smtp:host`` or the log file).

    With ``SMTP_HOST`` unset the message is written to ``MAIL_LOG_DIR`` as an
    ``.eml`` file and logged, so a demo without a mail server still shows
    every mail. SMTP errors propagate (the job retries with backoff).
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
    port, timeout = int(config["SMTP_PORT"]), config["SMTP_TIMEOUT"]
    if config.get("SMTP_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
            client.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            client.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        client.send_message(message)
    return f"smtp:{host}:{port}"
