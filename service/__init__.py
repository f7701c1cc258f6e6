"""kefu: plugin-based customer-service ticketing.

The public surface is ``create_app`` (the Flask app factory), ``hookimpl``
(the marker for plugin hook implementations, see ``service.hooks.specs``)
and ``service.sdk`` (everything else a plugin may use).
"""
import pluggy

hookimpl = pluggy.HookimplMarker("kefu")


def create_app(test_config=None, **options):
    """Build a kefu Flask app; see ``service.app.create_app``."""
    from service.app import create_app as _create_app

    return _create_app(test_config, **options)


__all__ = ["create_app", "hookimpl"]
