"""What a reader sees of a page or a mail, and what of it is not in the
reader's language (issue 20: every visible text is a translated label).

``visible_texts(html)`` gives the text nodes and the attributes people see or
hear (placeholder, title, aria-label, alt, button values), without scripts,
styles and hidden inputs. ``untranslated(texts, language, user_data)`` gives
what is wrong in them:

* code-like text in any language: snake_case codes (``in_progress``,
  ``slow_delivery``), actor ids (``staff:3``, ``plugin:tier_sla``), Python's
  ``None``/``True``/``False``, JSON objects;
* on a Chinese page, Latin words that are not in ``LATIN_ON_ZH`` (names of
  products and standards, units, the language switcher's "English");
* on an English page, Chinese characters (other than the switcher's "中文").

``user_data`` are strings people typed (customers' names, subjects, messages,
e-mail addresses, staff names): they are shown as written and removed before
checking, longest first, so that "Acme" inside a customer's name is not a
missed label.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

# Seen on Chinese pages on purpose: product and standard names, units, the
# language switcher's name for English, what an ISO time's zone reads as.
LATIN_ON_ZH = frozenset({
    "kefu", "API", "SLA", "CSAT", "CSV", "URL", "HMAC", "SHA", "JSON", "HTTP", "HTTPS", "OpenAPI", "ID",
    "English", "UTC", "GMT", "VIP", "SMTP", "IMAP", "RQ", "Redis", "PostgreSQL", "SQLite", "Webhook",
    "Webhooks", "webhook", "webhooks", "Asia", "Shanghai", "PNG", "JPG", "PDF",
    "GIF", "TXT", "ZIP", "KB", "MB", "KPI", "NPS", "SDK", "a-z", "YYYY-MM-DD",
})
CHINESE_ON_EN = frozenset({"中文", "简体中文", "简体"})

_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
_SKIPPED = {"script", "style", "template", "noscript"}
_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_ACTOR = re.compile(r"\b(?:staff|plugin|customer|system|mail):[\w.-]+")
_PYTHON = re.compile(r"\b(?:None|True|False)\b")
_JSON = re.compile(r"""[{\[]\s*["'][^"']+["']\s*:|"\w+"\s*:\s*["{\[\d]""")
_LATIN = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
_CHINESE = re.compile(r"[\u3400-\u9fff]+")
# Credit grades (AAA ... D) are read as such in both languages.
_GRADE = re.compile(r"^(?:A{1,3}|B{1,3}|C{1,3}|D)[+-]?$")
_NOT_WORDS = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|/[\w/.-]+|\b[A-Z]{1,4}-\d[\d-]*\b")


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Identifiers shown on purpose (a category's code an admin types, a plugin's
# package name): marked as such, and not words to translate.
_IDENTIFIERS = {"code", "kbd", "samp"}


def _language(value: str | None) -> str | None:
    if not value:
        return None
    return "zh" if value.lower().startswith("zh") else "en"


class _Texts(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[str, str | None]] = []
        self.page_language: str | None = None
        # (tag, language inside it, whether its text is skipped)
        self.open: list[tuple[str, str | None, bool]] = []

    def _state(self) -> tuple[str | None, bool]:
        return (self.open[-1][1], self.open[-1][2]) if self.open else (None, False)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        language, skipped = self._state()
        if tag == "html":
            self.page_language = _language(attrs.get("lang"))
        language = _language(attrs.get("lang")) or language
        inner_skipped = skipped or tag in _SKIPPED or tag in _IDENTIFIERS or attrs.get("translate") == "no" \
            or "hidden" in attrs
        if not inner_skipped and not (tag == "input" and attrs.get("type") == "hidden"):
            for name in _ATTRIBUTES:
                if attrs.get(name):
                    self.texts.append((attrs[name], language))
            if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
                self.texts.append((attrs["value"], language))
        if tag not in _VOID:
            self.open.append((tag, language, inner_skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        language, skipped = self._state()
        if not skipped and data.strip():
            self.texts.append((" ".join(data.split()), language))


def visible_texts(html: str) -> list[tuple[str, str | None]]:
    """The texts a reader sees or hears on ``html``, in document order, each
    with the language its element declares (``lang``; None: the page's).
    Text in ``code``/``kbd``/``samp`` or under ``translate="no"`` is an
    identifier shown on purpose and left out, as is what ``hidden`` hides."""
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return parser.texts


def page_language(html: str) -> str | None:
    """``"zh"`` or ``"en"`` from the page's ``<html lang>``."""
    parser = _Texts()
    parser.feed(html[:2000])
    return parser.page_language


def _without(text: str, user_data: list[str]) -> str:
    for item in user_data:
        if item and item in text:
            text = text.replace(item, " ")
    return text


def untranslated(texts, language: str, user_data=()) -> list[str]:
    """What in ``texts`` is code-like or not in its language, each as
    ``"<problem>: <the text>"``; empty when all is well. ``texts`` are strings
    in ``language`` (``"zh"`` or ``"en"``) or ``(text, language or None)``
    pairs as ``visible_texts`` gives them."""
    data = sorted({d for d in user_data if d and len(d) > 1}, key=len, reverse=True)
    problems = []
    page_language = language
    for item in texts:
        original, language = (item, page_language) if isinstance(item, str) else (item[0], item[1] or page_language)
        text = _without(_NOT_WORDS.sub(" ", original), data)
        for pattern, what in ((_CODE, "code"), (_ACTOR, "actor id"), (_PYTHON, "Python value"),
                              (_JSON, "JSON")):
            found = pattern.search(text)
            if found:
                problems.append(f"{what} {found.group(0)!r}: {original[:120]}")
        if language == "zh":
            words = [w for w in _LATIN.findall(text) if w not in LATIN_ON_ZH and len(w) > 1 and not _GRADE.match(w)]
            if words:
                problems.append(f"English {' '.join(words[:6])!r}: {original[:120]}")
        else:
            words = [w for w in _CHINESE.findall(text) if w not in CHINESE_ON_EN]
            if words:
                problems.append(f"Chinese {' '.join(words[:6])!r}: {original[:120]}")
    return problems
