"""The SMTP listener for the support address (``kefu mail serve``), on aiosmtpd.

A mail is answered ``250`` only after ``inbound.take_in_or_quarantine`` has
stored it (as a ticket, a message, or a quarantine row), so a crash before
that leaves the mail with the sending server, which retries. When even the
quarantine cannot be written (the database is down) the answer is ``451``:
try again later - never a silent drop.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from email.utils import parseaddr

from aiosmtpd.controller import Controller

from service.extensions import db
from service.mail.incoming import inbound

log = logging.getLogger("kefu.mail")


class SupportHandler:
    """aiosmtpd handler: RCPT only for ``SUPPORT_ADDRESS`` (any when unset);
    DATA stored through ``inbound`` in a worker thread with its own app
    context, so the event loop keeps serving other connections meanwhile."""

    def __init__(self, app, executor: ThreadPoolExecutor):
        self.app = app
        self.executor = executor

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Accept the recipient when it is the support address (or none is set)."""
        support = parseaddr(self.app.config.get("SUPPORT_ADDRESS") or "")[1].strip().lower()
        if support and address.strip().lower() != support:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Store the mail, then answer 250 (451 when it could not be stored)."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        # As a delivering MTA does: the envelope sender, so that a bounce
        # (MAIL FROM:<>) is recognised by its empty Return-Path.
        sender = (envelope.mail_from or "").replace("\r", "").replace("\n", "").strip().strip("<>")
        raw = b"Return-Path: <" + sender.encode("utf-8", "replace") + b">\r\n" + raw
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self.executor, self._store, raw)
        except Exception:
            log.exception("could not store an inbound mail, not even in the quarantine")
            return "451 4.3.0 the message could not be stored; try again later"
        return f"250 2.0.0 OK {outcome.action} {outcome.number or outcome.quarantine_id or ''}".rstrip()

    def _store(self, raw: bytes):
        with self.app.app_context():
            try:
                return inbound.take_in_or_quarantine(raw, "smtp")
            finally:
                db.session.remove()


class _Controller(Controller):
    def _trigger_server(self):
        # With port 0 the OS picked the port: aiosmtpd's start-up check has to
        # connect to that one (and callers want to know it).
        if not self.port and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Listener:
    """A running SMTP listener: ``port`` is where it listens; ``stop()`` ends it
    after the mails being stored are stored."""

    def __init__(self, controller: Controller, executor: ThreadPoolExecutor):
        self.controller, self.executor = controller, executor

    @property
    def host(self) -> str:
        return self.controller.hostname

    @property
    def port(self) -> int:
        return self.controller.port

    def stop(self) -> None:
        """Stop listening, then wait for mails in flight to be stored."""
        try:
            self.controller.stop()
        finally:
            self.executor.shutdown(wait=True)


def start(app, host: str = "127.0.0.1", port: int = 2525) -> Listener:
    """Start listening on ``host:port`` (0: a free port) in a background thread.

    Mail larger than twice ``MAIL_MAX_BYTES`` is refused during DATA (552,
    the sender is told); smaller mail over the limit is quarantined.
    """
    with app.app_context():
        # SQLite takes one writer at a time: more threads would only wait on its lock.
        workers = 1 if db.engine.dialect.name == "sqlite" else 4
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kefu-mail-in")
    controller = _Controller(SupportHandler(app, executor), hostname=host, port=port,
                             ready_timeout=10.0, server_hostname=_hostname(app), ident="kefu",
                             data_size_limit=2 * int(app.config["MAIL_MAX_BYTES"]))
    try:
        controller.start()
    except BaseException:
        executor.shutdown(wait=False)
        raise
    log.info("kefu mail listener on %s:%s (support address: %s)", host, controller.port,
             app.config.get("SUPPORT_ADDRESS") or "any")
    return Listener(controller, executor)


def _hostname(app) -> str:
    support = parseaddr(app.config.get("SUPPORT_ADDRESS") or "")[1]
    return support.rpartition("@")[2] or app.config["MAIL_DOMAIN"]


def serve(app, host: str = "127.0.0.1", port: int = 2525, ready=None) -> None:
    """Listen on ``host:port`` until SIGINT or SIGTERM (or ``ready``'s caller
    sets the event it is handed); then stop cleanly. ``ready(listener,
    stop_event)`` is called once listening (for tests and messages)."""
    stopped = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stopped.set())
    listener = start(app, host, port)
    try:
        if ready is not None:
            ready(listener, stopped)
        while not stopped.wait(0.5):
            pass
    finally:
        listener.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
