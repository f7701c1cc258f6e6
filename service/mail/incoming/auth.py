"""Was the sender verified? Reading the ``Authentication-Results`` headers
(RFC 8601) that the receiving MTA wrote after checking SPF, DKIM and DMARC.

kefu does not check SPF, DKIM or DMARC itself: that needs the connecting IP
and DNS, which only the MTA in front of kefu has. It reads that MTA's verdict
and quarantines mail whose ``From`` the MTA found forged, so that a stranger
cannot write onto a customer's ticket by forging the customer's address.

Which headers count (``MAIL_AUTHSERV_ID``): anyone can put an
Authentication-Results header into the mail they send, so only the trusted
MTA's count (RFC 8601 section 5): those whose authserv-id is one of the
configured names; with none configured, only the topmost header, which the
last MTA prepended. The MTA must also remove incoming headers that carry
its own authserv-id (RFC 8601 section 5 asks it to) - else a sender could
forge one with that name. As a defence in depth, a fail in any trusted
header wins over a pass in another, so a forged pass cannot hide the
MTA's fail.

The decision (``failure``), over the trusted headers' results:

* ``dmarc=fail`` (whatever the domain's policy, also ``p=none``: the From
  address is unverified either way) quarantines; so do the nonstandard
  ``dmarc=reject``/``dmarc=quarantine`` some filters write.
* else ``dmarc=pass`` accepts: DMARC is the statement about the From domain,
  and a forwarded mail passes it by DKIM while SPF fails for the forwarder.
* else ``spf=fail`` (and its old name ``hardfail``) quarantines.
  ``softfail`` does not: the domain owner's ``~all`` asks receivers not to
  act on it.
* ``dkim=fail`` alone does not: a broken signature counts as no signature
  (RFC 6376 section 6.3; mailing lists and gateways that add footers break
  signatures), and whether the From domain demands a valid one is what its
  DMARC result says.
* ``none``, ``neutral``, ``temperror``, ``permerror`` and unknown results are
  no verdict, as is mail without any trusted header.

The parser is small and lenient, not a full RFC 8601 implementation: it
removes comments (nested, kept as the result's ``comment``) and honours
quoted strings, splits on ``;``, and reads ``method[/version]=result``
followed by ``name=value`` pairs (``ptype.property=value``, ``reason=``,
also vendor pairs such as ``action=``). It does not check the property
types or values against the IANA registry and does not decode encoded
words. A header without an authserv-id (Microsoft 365 writes such) parses
with authserv-id ``""``, which only counts as the topmost header.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage

_KEYWORD = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
_METHODSPEC = re.compile(rf"\s*({_KEYWORD})\s*(?:/\s*[0-9]+\s*)?=\s*({_KEYWORD})(?=\s|$)")
_PAIR = re.compile(rf"\s*({_KEYWORD}(?:\s*\.\s*[A-Za-z0-9_.-]+)?)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s\"]+)")
_WORD = re.compile(r"\s*(\"(?:[^\"\\]|\\.)*\"|[^\s\"]+|\S)")

DMARC_FAIL = frozenset({"fail", "reject", "quarantine"})
SPF_FAIL = frozenset({"fail", "hardfail"})


@dataclass(frozen=True)
class Result:
    """One ``method=result`` of a header: its method and result lowercased,
    its first comment, and its ``name=value`` pairs as written (names
    lowercased)."""

    method: str
    result: str
    comment: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    authserv_id: str = ""

    def describe(self) -> str:
        """The result as a person reads it: ``dmarc=fail (p=reject) header.from=example.test``."""
        parts = [f"{self.method}={self.result}"]
        if self.comment:
            parts.append(f"({self.comment})")
        parts += [f"{k}={v}" for k, v in self.properties.items()]
        return " ".join(parts)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _segments(value: str) -> list[tuple[str, list[str]]]:
    """Split at ``;`` outside quoted strings and comments: ``(text without
    comments, [comments])`` per segment. An unclosed comment or quote runs
    to the end (lenient: MTAs write these headers, not people)."""
    segments: list[tuple[str, list[str]]] = []
    text: list[str] = []
    comments: list[str] = []
    comment: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in value:
        if escaped:
            (comment if depth else text).append(ch)
            escaped = False
        elif ch == "\\" and (quoted or depth):
            escaped = True
            if quoted and not depth:
                text.append(ch)  # kept for _unquote
        elif depth:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if not depth:
                    comments.append(" ".join("".join(comment).split()))
                    comment = []
                    text.append(" ")
                    continue
            comment.append(ch)
        elif quoted:
            text.append(ch)
            quoted = ch != '"'
        elif ch == '"':
            text.append(ch)
            quoted = True
        elif ch == "(":
            depth = 1
        elif ch == ";":
            segments.append(("".join(text), comments))
            text, comments = [], []
        else:
            text.append(ch)
    if comment:
        comments.append(" ".join("".join(comment).split()))
    segments.append(("".join(text), comments))
    return segments


def _result(text: str, comments: list[str], authserv_id: str) -> Result | None:
    spec = _METHODSPEC.match(text)
    if spec is None:
        return None
    properties: dict[str, str] = {}
    rest = text[spec.end():]
    while rest.strip():
        pair = _PAIR.match(rest)
        if pair is not None:
            name = re.sub(r"\s+", "", pair.group(1)).lower()
            properties.setdefault(name, _unquote(pair.group(2)))
            rest = rest[pair.end():]
        else:  # a stray word: skipped, the pairs after it still count
            rest = rest[_WORD.match(rest).end():]
    return Result(spec.group(1).lower(), spec.group(2).lower(), comments[0] if comments else "",
                  properties, authserv_id)


def parse(value: str) -> tuple[str, list[Result]] | None:
    """``(authserv-id, results)`` of one Authentication-Results header value,
    or None when it has no structure kefu can read (or a version other than 1).

    Unreadable ``method=result`` segments are left out; ``none`` gives no
    results. Folding (CRLF + space) may still be in ``value``.
    """
    segments = _segments(value.replace("\r", " ").replace("\n", " "))
    head = segments[0][0]
    results = segments[1:]
    words = _WORD.findall(head)
    if not words:
        return None
    if _METHODSPEC.match(head):
        # No authserv-id (Microsoft 365): the first segment is already a result.
        authserv_id, results = "", segments
    else:
        authserv_id = _unquote(words[0]).strip()
        version = words[1:]
        if len(version) > 1 or (version and version[0] != "1"):
            return None
    found = []
    for text, comments in results:
        if text.strip().lower() == "none":
            continue
        parsed = _result(text, comments, authserv_id)
        if parsed is not None:
            found.append(parsed)
    return authserv_id, found


def trusted_ids(setting) -> list[str]:
    """The authserv-ids from ``MAIL_AUTHSERV_ID`` (None, a name, names
    separated by commas or spaces, or a list), lowercased."""
    if not setting:
        return []
    names = re.split(r"[\s,]+", setting) if isinstance(setting, str) else [str(n) for n in setting]
    return [n.strip().lower() for n in names if n and n.strip()]


def trusted_results(msg: EmailMessage, authserv_ids: Iterable[str]) -> list[Result]:
    """The results of the Authentication-Results headers kefu trusts, in header order.

    With ``authserv_ids``: every header whose authserv-id is one of them
    (case-insensitive). Without: the topmost header only, whatever its name.
    Headers are read raw (``raw_items``), before any decoding.
    """
    ids = {i.lower() for i in authserv_ids}
    headers = [value for name, value in msg.raw_items() if name.lower() == "authentication-results"]
    if not ids:
        headers = headers[:1]
    found: list[Result] = []
    for value in headers:
        parsed = parse(str(value))
        if parsed is not None and (not ids or parsed[0].lower() in ids):
            found += parsed[1]
    return found


def failure(results: Iterable[Result]) -> Result | None:
    """The result that makes the sender unverified (see the module's
    decision), or None: verified, or no verdict."""
    results = list(results)
    dmarc = [r for r in results if r.method == "dmarc"]
    failed = next((r for r in dmarc if r.result in DMARC_FAIL), None)
    if failed is not None:
        return failed
    if any(r.result == "pass" for r in dmarc):
        return None
    return next((r for r in results if r.method == "spf" and r.result in SPF_FAIL), None)


def unverified_reason(msg: EmailMessage, authserv_ids: Iterable[str]) -> str | None:
    """The quarantine reason when the trusted MTA found the sender forged,
    e.g. ``sender not verified: dmarc=fail (p=reject) header.from=example.test
    (by mx.kefu.test)``; None otherwise."""
    failed = failure(trusted_results(msg, authserv_ids))
    if failed is None:
        return None
    by = f" (by {failed.authserv_id})" if failed.authserv_id else ""
    return f"sender not verified: {failed.describe()}"[:400] + by[:100]
