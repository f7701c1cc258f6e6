"""The mail a test's kefu would have sent, read back from the mail log.

A test app has no ``SMTP_HOST``: kefu's own delivery writes each message to
``MAIL_LOG_DIR`` as an ``.eml`` file (the same path a demo uses), and this
reads them. Nothing of the sending is replaced.
"""
from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses
from pathlib import Path


@dataclass
class Mail:
    """One sent message: who it went to, what it says, which notice it is."""

    to: str  # the address alone, e.g. "wang@example.test"
    subject: str
    text: str  # the plain-text part
    ticket: str | None  # the ticket number it is about (X-Kefu-Ticket)
    notice: str | None  # e.g. "received", "resolved", "reply", "staff_alert" (X-Kefu-Notice)
    message: EmailMessage  # the whole message, headers and parts

    def __repr__(self) -> str:
        return f"<Mail {self.notice} {self.ticket} to {self.to}: {self.subject!r}>"


def _read(path: Path) -> Mail:
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    addresses = [address for _name, address in getaddresses([message["To"] or ""])]
    part = message.get_body(preferencelist=("plain",))
    return Mail(to=addresses[0] if addresses else "", subject=str(message["Subject"] or ""),
                text=part.get_content() if part is not None else "", ticket=message["X-Kefu-Ticket"],
                notice=message["X-Kefu-Notice"], message=message)


class Mailbox:
    """The mail sent so far (``kefu_mail``). Reading it first runs the jobs
    that are due, since kefu sends mail from jobs after the commit."""

    def __init__(self, folder: str | Path, jobs=None):
        self.folder, self.jobs = Path(folder), jobs
        self._seen = 0

    def _all(self) -> list[Mail]:
        if self.jobs is not None:
            self.jobs.drain()
        if not self.folder.is_dir():
            return []
        files = sorted(self.folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [_read(path) for path in files]

    @property
    def messages(self) -> list[Mail]:
        """Every message sent since the last ``clear``, oldest first."""
        return self._all()[self._seen:]

    def to(self, address: str) -> list[Mail]:
        """The messages sent to ``address`` (case does not matter)."""
        return [m for m in self.messages if m.to.lower() == address.lower()]

    def find(self, *, to: str | None = None, notice: str | None = None, ticket: str | None = None) -> list[Mail]:
        """The messages matching every criterion given."""
        return [m for m in self.messages
                if (to is None or m.to.lower() == to.lower()) and (notice is None or m.notice == notice)
                and (ticket is None or m.ticket == ticket)]

    def clear(self) -> None:
        """Forget what was sent so far: ``messages`` starts again from now."""
        self._seen = len(self._all())

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self):
        return iter(self.messages)
