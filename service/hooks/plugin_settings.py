"""Plugins' own settings: declared with a marshmallow schema, checked at start.

A plugin's ``register_settings`` gives a schema whose fields are its setting
names (UPPER_CASE) with defaults and validation. Its keys are read from the
app's settings like the core's (files, ``KEFU_<KEY>`` variables, a test's
overrides) and loaded through the schema: at start (a bad value stops kefu,
naming the plugin and the key) and whenever the plugin asks
(``service.sdk.plugin_settings``), again only if a value changed since.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import marshmallow as ma
from flask import current_app, has_request_context, request

SETTINGS = "kefu_plugin_settings"  # app.extensions: {plugin name: Declared}


class SettingsError(ValueError):
    """A plugin's settings do not pass its schema; names the plugin and each key."""

    def __init__(self, plugin: str, messages):
        self.plugin, self.messages = plugin, messages
        if isinstance(messages, dict):
            why = "; ".join(f"{key}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                            for key, v in messages.items())
        else:
            why = str(messages)
        super().__init__(f"settings of plugin {plugin}: {why}")


@dataclass
class Declared:
    """One plugin's settings schema and its last load (by the values loaded)."""

    schema: ma.Schema
    keys: tuple[str, ...]
    cache: tuple[dict, object] | None = field(default=None)


def _raw(config, declared: Declared) -> dict:
    return {key: config[key] for key in declared.keys if key in config}


def declare(app, plugin: str, schema) -> object:
    """Keep ``plugin``'s ``schema`` (class or instance) for ``app`` and load its
    settings now; returns them. ``SettingsError`` when they do not pass."""
    schema = schema() if isinstance(schema, type) else schema
    if not isinstance(schema, ma.Schema):
        raise TypeError(f"register_settings must give a marshmallow Schema, not {type(schema).__name__}")
    bad = [name for name in schema.fields if not name.isupper()]
    if bad:
        raise ValueError(f"setting names are UPPER_CASE: {', '.join(bad)}")
    declared = Declared(schema, tuple(schema.fields))
    app.extensions.setdefault(SETTINGS, {})[plugin] = declared
    return load(app, plugin)


def load(app, plugin: str):
    """``plugin``'s settings as its schema loads them from ``app``'s current
    settings (cached until a value changes). ``KeyError`` when the plugin
    declared none; ``SettingsError`` when they do not pass."""
    declared = app.extensions.get(SETTINGS, {})[plugin]
    raw = _raw(app.config, declared)
    if declared.cache is not None and declared.cache[0] == raw:
        return declared.cache[1]
    try:
        value = declared.schema.load(raw)
    except ma.ValidationError as exc:
        raise SettingsError(plugin, exc.messages) from None
    # A deep copy of what was loaded: a value changed in place counts as a change.
    declared.cache = (copy.deepcopy(raw), value)
    return value


_REQUEST_MEMO = "kefu.plugin_settings"  # WSGI environ key: this request's loaded settings
_UNSET = object()


def settings_of(plugin: str):
    """The current app's loaded settings of ``plugin`` (see ``load``); within a
    request, loaded once per request (settings change between requests, not
    inside one, and a list may ask for them once per row)."""
    if not has_request_context():
        return load(current_app, plugin)
    memo = request.environ.setdefault(_REQUEST_MEMO, {})
    value = memo.get(plugin, _UNSET)
    if value is _UNSET:
        value = memo[plugin] = load(current_app, plugin)
    return value


# Settings whose value must not be shown (the admin plugins page masks them):
# the field says so (``metadata={"secret": True}``), or its name does.
# (SURVEY_TOKEN_DAYS is a number of days, ACME_API_TOKEN a secret.)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|CREDENTIAL|PRIVATE_KEY|API_KEY|(_TOKEN|_KEY|_DSN)$")


def is_secret(key: str, fld) -> bool:
    """Whether setting ``key`` (schema field ``fld``) holds a secret."""
    return bool(fld.metadata.get("secret")) or bool(SECRET_NAME.search(key))


def described(app, plugin: str) -> list[dict]:
    """Each declared setting of ``plugin``: ``key``, its ``value`` in force
    (the default when unset), ``default``, whether it is ``set``, whether it
    is a ``secret`` (never show its value: see ``is_secret``) and the field's
    ``description`` (its metadata's, else None)."""
    declared = app.extensions.get(SETTINGS, {}).get(plugin)
    if declared is None:
        return []
    out = []
    for key, fld in declared.schema.fields.items():
        default = fld.load_default() if callable(fld.load_default) else fld.load_default
        default = None if default is ma.missing else default
        out.append({"key": key, "value": app.config.get(key, default), "default": default,
                    "set": key in app.config, "secret": is_secret(key, fld),
                    "description": fld.metadata.get("description")})
    return out
