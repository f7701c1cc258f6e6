"""Placeholders in canned replies: ``{customer_name}`` and the like.

Pure Python. A text is checked when a macro is saved (``problems``) and
filled when it is applied (``fill``). Both read the text with
``string.Formatter.parse`` - the format-string syntax people know from
Python, where ``{{`` and ``}}`` are literal braces - but neither ever calls
``format``: only bare names from ``PLACEHOLDERS`` are accepted, no attribute
or index access (``{customer_name.__class__}``, ``{x[0]}``), no conversion
(``!r``) and no format spec (``:>99999``), so a text can neither reach into
objects nor blow up in size. Values are inserted as they are (the page
escapes them; mail is plain text).
"""
from __future__ import annotations

from string import Formatter

# The names a text may use, in the order the help lists them.
PLACEHOLDERS = ("customer_name", "ticket_number", "tracking_link", "department", "agent_name")

_PARSER = Formatter()


def check(text: str) -> list[tuple[str, str]]:
    """What is wrong with ``text``'s placeholders, as ``(kind, placeholder)``
    pairs: ``unknown`` (a name not in ``PLACEHOLDERS``, or attribute or
    index access), ``format`` (a conversion or format spec) or ``brace`` (a
    single ``{`` or ``}``; the placeholder is ''). Empty: nothing."""
    try:
        parts = list(_PARSER.parse(text or ""))
    except ValueError:
        return [("brace", "")]
    found = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            found.append(("unknown", "{" + name + "}"))
        elif spec or conversion:
            found.append(("format", "{" + name + "}"))
    return found


def problems(text: str) -> list[str]:
    """``check``'s findings as English sentences (the API's field errors)."""
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    words = {"unknown": "unknown placeholder %s; use one of " + known,
             "format": "placeholder %s takes no format or conversion",
             "brace": "a single { or }%s; write {{ or }} for a literal brace"}
    return [words[kind] % name for kind, name in check(text)]


def parse(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """``string.Formatter.parse``'s ``(literal, name, spec, conversion)``
    tuples of ``text`` (``ValueError`` for a single brace)."""
    return list(_PARSER.parse(text or ""))


def used(text: str) -> set[str]:
    """The placeholder names ``text`` uses (``text`` passed ``problems``)."""
    return {name for _literal, name, _spec, _conv in _PARSER.parse(text or "") if name}


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each placeholder replaced by ``values[name]`` ('' when
    missing) and ``{{``/``}}`` turned into single braces. ``ValueError`` for
    a text that does not pass ``problems`` (checked at save time)."""
    out = []
    for literal, name, spec, conversion in _PARSER.parse(text or ""):
        out.append(literal)
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} is not allowed")
        out.append(str(values.get(name) or ""))
    return "".join(out)
