"""What kefu refuses before any view runs: JSON it will not read, and text it
cannot store.

Every request passes ``refuse_unreadable_input`` (a ``before_request`` of the
whole app, so plugin routes and pages are covered too):

- a body declared as JSON that does not parse, or is nested deeper than
  ``MAX_JSON_DEPTH``, is a 400 naming the reason. Deep nesting is refused
  because every consumer of the body (marshmallow, our own checks, plugins)
  walks it recursively: a kilobyte of ``[[[[...`` would otherwise end in a
  ``RecursionError`` (a 500) somewhere;
- text holding a NUL character or a lone surrogate (``"\\ud800"`` is legal
  JSON but not Unicode text) is a 422 naming the field. PostgreSQL cannot
  store NUL and neither database can store a surrogate: refused up front,
  both databases answer the same and nothing is half-written.

``KefuJSONProvider`` is the app's JSON provider: its ``loads`` (behind
``request.get_json`` and the session cookie) turns a nesting ``RecursionError``
into the ``ValueError`` every caller already handles, and its ``response``
(behind ``jsonify``, so every API answer) encodes with orjson.
"""
from __future__ import annotations

import json

import orjson
from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

from service.domain.errors import ValidationFailed

# Deeper than any document kefu accepts (ticket bodies nest 3 levels; a
# plugin's settings or answers a few more) and far from Python's recursion limit.
MAX_JSON_DEPTH = 64

NUL = "must not contain NUL characters"
SURROGATE = "must be valid Unicode text (it holds a lone surrogate such as \\ud800)"


def _too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests lists and dicts deeper than ``limit`` (iterative:
    the check itself must not recurse)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads_bounded(text, **kwargs):
    """``json.loads`` that raises ``ValueError`` (not ``RecursionError``) for
    documents nested deeper than ``MAX_JSON_DEPTH``."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        value = None
        deep = True
    else:
        deep = _too_deep(value)
    if deep:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


# Values orjson would write in its own way go to Flask's ``default`` instead,
# so they come out as before: datetimes as HTTP dates, dataclasses through
# ``asdict``. Anything else orjson refuses (a non-string key, an integer
# beyond 64 bits, a tuple subclass, a lone surrogate) falls back to the json module.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class KefuJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``loads_bounded``, and compact responses
    encoded by orjson."""

    def loads(self, s, **kwargs):
        return loads_bounded(s, **kwargs)

    def response(self, *args, **kwargs):
        """``jsonify``'s response: the same JSON text as Flask's compact one
        (keys in order, non-ASCII kept, no spaces), written by orjson.

        Why: encoding a page of 25 tickets with the json module took a tenth
        of a list request; orjson takes a tenth of that. Pretty-printed,
        sorted or ASCII-only answers (debug mode, other settings), and
        values orjson refuses, go through Flask's own ``response``."""
        pretty = (self.compact is None and self._app.debug) or self.compact is False
        if pretty or self.sort_keys or self.ensure_ascii:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=self.default, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            return super().response(*args, **kwargs)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)


def _reason(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if "\x00" in text:
        return NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return None


def _printable(name: str) -> str:
    """A field name safe to put in an answer (a surrogate in a key, escaped)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_fields(value, name: str) -> dict[str, str]:
    """``{field path: reason}`` for every string in ``value`` (JSON-like,
    depth already bounded) that cannot be stored, keys included."""
    found: dict[str, str] = {}
    stack = [(value, name)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            reason = _reason(item)
            if reason:
                found[path] = reason
        elif isinstance(item, dict):
            for key, child in item.items():
                key = str(key)
                child_path = f"{path}.{key}" if path else key
                reason = _reason(key)
                if reason:
                    found[_printable(child_path)] = reason
                else:
                    stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(item))
    return found


def _json_body():
    """The request's JSON body (None when empty); ``BadRequest`` naming the
    reason when it does not parse or nests too deep."""
    data = request.get_data(cache=True)
    if not data.strip():
        return None
    try:
        return current_app.json.loads(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadRequest(f"malformed JSON body: {exc}") from None


def refuse_unreadable_input() -> None:
    """``before_request``: 400 for a JSON body kefu will not read, 422 naming
    every field (path parameter, query parameter, JSON path or form field)
    whose text cannot be stored. See the module's docstring for why."""
    found: dict[str, str] = {}
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and _reason(value):
            found[key] = _reason(value)
    for key in request.args:
        for value in [key, *request.args.getlist(key)]:
            if _reason(value):
                found[_printable(key)] = _reason(value)
    if request.is_json:
        found.update(_bad_fields(_json_body(), ""))
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for key in request.form:
            for value in [key, *request.form.getlist(key)]:
                if _reason(value):
                    found[_printable(key)] = _reason(value)
        for key, upload in request.files.items(multi=True):
            if _reason(upload.filename or ""):
                found[_printable(key)] = _reason(upload.filename)
    if found:
        raise ValidationFailed("text that cannot be stored: " + ", ".join(sorted(found)),
                               {name: [reason] for name, reason in found.items()})
