"""The hook contract: the core's specs (``specs``), the shapes hooks take and
return (``types``), the plugin manager (``manager``), the core's default
answers (``defaults``), start-up (``startup``) and failure counting (``failures``)."""
from __future__ import annotations

from flask import current_app


def plugins():
    """The current app's ``service.hooks.manager.Plugins``."""
    return current_app.extensions["kefu_plugins"]
