"""The ticket kinds and channels in force: the core's, and those plugins add.

The core knows four kinds (complaint, service request, inquiry, suggestion)
and seven channels: web, e-mail, phone, API, and walk-in, fax and chat, which
an agent records from the console for a caller.
A plugin that opens tickets of its own sort - a care call the team starts,
``kind`` ``care`` through channel ``outbound`` - declares the codes with the
``register_ticket_codes`` start-up collector and names them (zh and en) with
the ``code_label`` decider (groups ``kind`` and ``channel``). The staff API
(create and list filters), the console's queue filter and ``sdk.open_ticket``
then accept them; the customers' own forms (public API, web form) keep the
core's kinds, since a customer does not file a care call.

Declared once at start (``service.hooks.startup``) into
``app.extensions[CODES]``; ``Plugins.unregister`` takes a plugin's back out.
"""
from __future__ import annotations

import re

from flask import current_app, has_app_context

from service.models import CHANNELS, KINDS

CODES = "kefu_ticket_codes"  # app.extensions: {"kind": {code: plugin}, "channel": {code: plugin}}
_CODE = re.compile(r"[a-z][a-z0-9_]*")
# The columns' widths (tickets.kind, tickets.channel).
MAX_LENGTH = {"kind": 20, "channel": 10}
CORE = {"kind": KINDS, "channel": CHANNELS}
_KEYS = {"kinds": "kind", "channels": "channel"}


def declare(app, plugin: str, answer) -> None:
    """Record ``plugin``'s ``register_ticket_codes`` answer (a ``TicketCodes``
    dict or None) for ``app``. ``ValueError`` naming the key and the code for
    a malformed answer, a code the core has already, or one another plugin
    declared: kefu then refuses to start, naming the plugin."""
    if answer is None:
        return
    if not isinstance(answer, dict) or set(answer) - set(_KEYS):
        raise ValueError("register_ticket_codes must answer {\"kinds\": [...], \"channels\": [...]}")
    codes = app.extensions.setdefault(CODES, {"kind": {}, "channel": {}})
    for key, group in _KEYS.items():
        found = answer.get(key) or []
        if not isinstance(found, (list, tuple)):
            raise ValueError(f"register_ticket_codes: {key} must be a list of codes")
        for code in found:
            if not isinstance(code, str) or not _CODE.fullmatch(code) or len(code) > MAX_LENGTH[group]:
                raise ValueError(f"register_ticket_codes: {key}: {code!r} is not a snake_case code of at most "
                                 f"{MAX_LENGTH[group]} characters")
            if code in CORE[group]:
                raise ValueError(f"register_ticket_codes: {key}: {code!r} is one of the core's")
            owner = codes[group].get(code)
            if owner is not None and owner != plugin:
                raise ValueError(f"register_ticket_codes: {key}: {code!r} is declared by plugin {owner} already")
            codes[group][code] = plugin


def forget(app, plugin: str) -> None:
    """Drop the codes ``plugin`` declared (it was unregistered)."""
    for group in app.extensions.get(CODES, {}).values():
        for code in [c for c, owner in group.items() if owner == plugin]:
            del group[code]


def _added(group: str) -> tuple[str, ...]:
    if not has_app_context():
        return ()
    return tuple(current_app.extensions.get(CODES, {}).get(group, {}))


def kinds() -> tuple[str, ...]:
    """Every ticket kind in force: the core's ``KINDS``, then the plugins'."""
    return KINDS + _added("kind")


def channels() -> tuple[str, ...]:
    """Every channel in force: the core's ``CHANNELS``, then the plugins'."""
    return CHANNELS + _added("channel")


class OneOfInForce:
    """A marshmallow validator: the value must be a kind (``group`` ``kind``)
    or channel in force when the request is loaded - not when the schema
    class was built, which is before any plugin started."""

    def __init__(self, group: str):
        self.group = group

    def __call__(self, value):
        from marshmallow import ValidationError

        allowed = kinds() if self.group == "kind" else channels()
        if value not in allowed:
            raise ValidationError(f"Must be one of: {', '.join(allowed)}.")
        return value
