"""The webhooks plugin's settings, declared (``register_settings``) with
their defaults and checked when kefu starts (a bad value stops kefu,
naming the key). Set them like any kefu setting: a ``KEFU_SETTINGS`` file,
``KEFU_<KEY>`` environment variables (JSON), a test's overrides."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from service import sdk


class WebhookSettings(Schema):
    # Seconds a webhook endpoint gets to connect and to answer (each).
    WEBHOOK_TIMEOUT_SECONDS = fields.Float(load_default=10, validate=validate.Range(min=0.1, max=120))
    # Active endpoints are remembered per process this long (0: look up per event).
    WEBHOOK_CACHE_SECONDS = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=0, max=3600))
    # Let webhooks reach addresses that are not globally routable (a receiver
    # on this machine or its network). Off: such URLs are refused when
    # registered and at each delivery (see ``targets``).
    WEBHOOK_ALLOW_PRIVATE = fields.Boolean(load_default=False)


def settings() -> dict:
    """The checked settings of this app (``{key: value}``)."""
    return sdk.plugin_settings("webhooks")
