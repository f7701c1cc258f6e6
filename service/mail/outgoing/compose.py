"""Composing notices: per-language templates, plain text and HTML, threading headers.

A notice template is ``templates/mail/<lang>/<notice>.txt``: its first line
is the subject, the rest (after a blank line) the body. The HTML part is the
same text in ``mail/base.html``, escaped, with the links as buttons.
"""
from __future__ import annotations

import hashlib
import re
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from flask import current_app, render_template

LANGS = ("en", "zh")
# Headers are not folded below 998 characters: CPython folds a long subject
# right after "Subject:", and readers then see it with a leading space.
MAIL_POLICY = policy.default.clone(max_line_length=998)
_NUMBER_IN_ID = re.compile(r"<([A-Za-z]{1,10}-\d{1,10})(?:\.[^@>]*)?@([^>]+)>")


def mail_language(language: str | None) -> str:
    """The template language for a person's language tag (zh, zh_CN, zh-TW ... -> zh)."""
    return "zh" if (language or "").lower().startswith("zh") else "en"


def thread_id(number: str) -> str:
    """The Message-ID every mail about ticket ``number`` refers to (the thread root)."""
    return f"<{number}@{current_app.config['MAIL_DOMAIN']}>"


def message_id(number: str, key: str) -> str:
    """A Message-ID derived from the effect key: the same mail sent twice has
    the same id, so mail clients and servers fold the duplicate."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"<{number}.{digest}@{current_app.config['MAIL_DOMAIN']}>"


def numbers_in_ids(header_value: str | None) -> list[str]:
    """Ticket numbers inside kefu Message-IDs found in a References/In-Reply-To value."""
    domain = current_app.config["MAIL_DOMAIN"].lower()
    return [m.group(1) for m in _NUMBER_IN_ID.finditer(header_value or "") if m.group(2).lower() == domain]


def render(notice: str, lang: str, **context) -> tuple[str, str, str]:
    """``(subject, text, html)`` of ``notice`` in ``lang``."""
    lang = lang if lang in LANGS else "en"
    subject, text = _subject_and_body(render_template(f"mail/{lang}/{notice}.txt", html=False, **context))
    # The HTML part shows the links as buttons instead of "label: url" lines.
    _, html_text = _subject_and_body(render_template(f"mail/{lang}/{notice}.txt", html=True, **context))
    html = render_template("mail/base.html", lang=lang, subject=subject, links=context.get("links") or [],
                           paragraphs=[p for p in re.split(r"\n\s*\n", html_text.strip()) if p.strip()])
    return subject, text, html


def _subject_and_body(rendered: str) -> tuple[str, str]:
    subject, _, body = rendered.strip("\n").partition("\n")
    body = re.sub(r"\n{3,}", "\n\n", body.strip("\n")) + "\n"
    return subject.strip(), body


def build(*, number: str | None, to: tuple[str | None, str], notice: str, lang: str, key: str,
          references: list[str] | None = None, **context) -> EmailMessage:
    """An ``EmailMessage`` for ``notice`` about ticket ``number`` to ``(name, address)``.

    The subject carries ``[number]``; Message-ID comes from ``key``;
    In-Reply-To/References point at the thread root (and ``references``,
    e.g. the customer's own first mail) so clients thread the conversation.
    ``number`` None: a notice about no ticket (a plugin's, about a
    customer): no ``[number]``, no thread, a Message-ID still from ``key``
    (and without a ticket number, so a reply to it opens no ticket's thread).
    """
    subject, text, html = render(notice, lang, number=number, **context)
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = f"[{number}] {subject}" if number else subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(number or "notice", key) if key else make_msgid()
    if number:
        root = thread_id(number)
        refs = [r for r in (references or []) if r] + [root]
        message["In-Reply-To"] = refs[0]
        message["References"] = " ".join(dict.fromkeys(refs))
    # Tells autoresponders not to answer (RFC 3834): no mail loops.
    message["Auto-Submitted"] = "auto-generated"
    if number:
        message["X-Kefu-Ticket"] = number
    # Which notice this is (``resolved``, ``receipt``...): for filters, and
    # for tests that assert on a notice rather than on its translated subject.
    message["X-Kefu-Notice"] = notice
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
