"""Reading an inbound mail: its sender, its text (HTML turned into text, quoted
history cut off), its attachments, and whether a machine sent it.

Pure functions over ``email.message.EmailMessage`` (parsed with
``policy.default``); no Flask, no database.
"""
from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

# Automatic senders: answering them is how mail loops start (RFC 3834).
_AUTO_LOCALPARTS = ("mailer-daemon", "postmaster")
_BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")

# Where quoted reply history starts (the customer's own text is above it).
_QUOTE_STARTS = [
    re.compile(r"^-{2,}\s*(original message|forwarded message|原始邮件|转发邮件)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^在.{0,200}写道[:：]\s*$"),
    re.compile(r"^_{20,}\s*$"),  # Outlook's rule above "From: ... Sent: ..."
]
_ON_WROTE = re.compile(r"^on\b.{0,300}\bwrote:\s*$", re.IGNORECASE)
_OUTLOOK_HEADER = re.compile(r"^\*?(from|发件人)\s*[:：]", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\*?(sent|date|to|发送时间|收件人)\s*[:：]", re.IGNORECASE)


def machine_reason(msg: EmailMessage, sender: str | None) -> str | None:
    """Why ``msg`` looks like an auto-reply or a bounce, or None for a person's mail.

    Checks Auto-Submitted (anything but ``no``), Precedence bulk/junk/list,
    X-Autoreply / X-Autorespond, kefu's own X-Kefu-Ticket, an empty
    Return-Path (``<>``), senders
    such as mailer-daemon@ or postmaster@, and multipart/report (delivery
    status and read receipts).
    """
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"auto-reply: Auto-Submitted: {auto[:80]}"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"auto-reply: Precedence: {precedence}"
    if msg.get("X-Kefu-Ticket") is not None:
        return "auto-reply: kefu's own mail (X-Kefu-Ticket)"
    for header in ("X-Autoreply", "X-Autorespond"):
        if msg.get(header) is not None:
            return f"auto-reply: {header} header"
    if msg.get_content_type() == "multipart/report":
        kind = msg.get_param("report-type") or "unknown"
        return f"bounce: multipart/report ({kind})"
    return_paths = msg.get_all("Return-Path") or []
    if return_paths and str(return_paths[0]).strip() in ("<>", ""):
        return "bounce: empty Return-Path <>"
    if sender and sender.split("@")[0].lower() in _AUTO_LOCALPARTS:
        return f"bounce: sent by {sender}"
    return None


def sender_of(msg: EmailMessage) -> tuple[str | None, str | None]:
    """``(display name, address)`` of the first usable From address, else ``(None, None)``.

    Usable: one ``@`` with something on both sides, a dot in the domain, at
    most 254 characters (the customer column), no spaces or control characters.
    """
    header = msg["From"]
    for address in getattr(header, "addresses", ()) or ():
        spec = (address.addr_spec or "").strip()
        local, at, domain = spec.rpartition("@")
        if at and local and "." in domain.strip(".") and len(spec) <= 254 and spec.isprintable() \
                and " " not in spec:
            return (address.display_name or "").strip() or None, spec
    return None, None


def body_text(msg: EmailMessage) -> tuple[str, EmailMessage | None]:
    """What the sender wrote, and the part it came from: plain text preferred,
    else HTML turned into text; quoted history cut off."""
    for kind in ("plain", "html"):
        part = msg.get_body(preferencelist=(kind,))
        if part is not None:
            text = strip_quoted(part_text(part))
            if text:
                return text, part
    return "", None


def part_text(part: EmailMessage) -> str:
    """The decoded text of ``part``; an unknown or wrong charset is read as
    UTF-8 with replacement characters rather than refused."""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return ""
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


class _TextOfHtml(HTMLParser):
    """Collects the visible text; block elements become line breaks (one for
    lines, a blank line for paragraphs), and quoted history
    (``<blockquote>``, Gmail's ``gmail_quote``) is left out."""

    _LINES = frozenset({"br", "div", "li", "tr", "dt", "dd"})
    _PARAGRAPHS = frozenset({"p", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre",
                             "blockquote"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})
    _VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.quoted = 0
        self.pending = 0  # line breaks owed before the next text
        self.stack: list[tuple[str, str]] = []

    def _break(self, tag):
        if tag in self._PARAGRAPHS:
            self.pending = 2
        elif tag in self._LINES:
            self.pending = max(self.pending, 1)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in self._VOID:
            kind = "q" if tag == "blockquote" or "gmail_quote" in (attrs.get("class") or "") else (
                "h" if tag in self._HIDDEN else "-")
            self.stack.append((tag, kind))
            self.quoted += kind == "q"
            self.hidden += kind == "h"
        self._break(tag)

    def handle_endtag(self, tag):
        # Pop up to the matching start tag: unclosed <p> or <li> inside a
        # quote must not leave the rest of the mail counted as quoted.
        if tag not in self._VOID and any(t == tag for t, _ in self.stack):
            while self.stack:
                name, kind = self.stack.pop()
                self.quoted -= kind == "q"
                self.hidden -= kind == "h"
                if name == tag:
                    break
        self._break(tag)

    def handle_data(self, data):
        if self.hidden or self.quoted:
            return
        data = re.sub(r"[ \t\r\n]+", " ", data)
        if not data.strip():
            if not self.pending and self.parts:
                self.parts.append(" ")
            return
        if self.pending and self.parts:
            self.parts.append("\n" * self.pending)
        self.pending = 0
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail body (no markup, no quoted history)."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """``text`` without the quoted history of earlier mails.

    Cuts at "On ... wrote:" (also split over two lines), "-----Original
    Message-----", an Outlook "From:/Sent:" block, the Chinese equivalents,
    and drops lines starting with ">". Returns the whole text when the cut
    would leave nothing: better a long message than a lost one.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if (any(p.match(stripped) for p in _QUOTE_STARTS) or _ON_WROTE.match(stripped)
                or (stripped.lower().startswith("on ") and following.lower().endswith("wrote:"))
                or (_OUTLOOK_HEADER.match(stripped) and _OUTLOOK_NEXT.match(following))):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return result or re.sub(r"\n{3,}", "\n\n", text).strip()


def attachments(msg: EmailMessage, body: EmailMessage | None):
    """Yield ``(filename, content_type, bytes)`` for each attached file.

    A part counts when it has a file name or says ``attachment``; the
    text/HTML alternatives of the body do not.
    """
    for part in msg.walk():
        if part.is_multipart() or part is body:
            continue
        filename = part.get_filename()
        if not filename and part.get_content_disposition() != "attachment":
            continue
        data = part.get_payload(decode=True)
        if data is None:
            continue
        yield filename or "attachment", part.get_content_type(), data
