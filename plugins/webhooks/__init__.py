"""Signed webhooks (builtin plugin): kefu's events POSTed to the URLs admins register.

Written only through ``service.sdk``, as an outside integrator would. This
module only wires hooks:

* ``event_published`` (every event of kefu's vocabulary: the core's
  ``ticket.created`` ... and what other plugins publish, ``sla.breached``,
  ``survey.answered``) becomes one ``WebhookDelivery`` per subscribed,
  active endpoint and a ``webhooks.deliver`` job each (``events``);
* ``register_blueprints`` adds the admin API (``api``, over ``endpoints``)
  and the console's admin page (``admin_views``, listed by ``admin_pages``),
  ``register_jobs`` the delivery job (``deliver``) on the plugin's own
  ``webhooks`` queue, ``register_settings`` its settings, and
  ``register_migrations`` its tables.

Receivers check the ``X-Kefu-Signature`` header with ``verify`` (a reference
implementation; docs/webhooks.md has the contract).
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl

from .signing import sign, verify  # noqa: F401  (the receivers' reference implementation)

JOB = "webhooks.deliver"


@hookimpl
def event_published(event, ticket, data, occurred_at):
    """Queue a delivery of ``event`` for every endpoint subscribed to it."""
    from .events import queue_deliveries

    queue_deliveries(event, ticket, data, occurred_at)


@hookimpl
def register_settings():
    """Timeouts, the endpoints cache, and whether private addresses may be reached."""
    from .settings import WebhookSettings

    return WebhookSettings


@hookimpl
def register_migrations():
    """The endpoints, deliveries and attempts tables."""
    from . import models  # noqa: F401  (the tables Alembic compares with)

    return str(Path(__file__).parent / "migrations")


@hookimpl
def register_jobs():
    """The delivery job on the plugin's own queue; retries come from the settings."""
    return [{"name": JOB, "func": "plugins.webhooks.deliver:deliver", "queue": "webhooks"}]


@hookimpl
def register_blueprints(app):
    """The admin API (a flask-smorest blueprint: it joins kefu's OpenAPI
    document) and the admin page (``admin_pages``)."""
    from .admin_views import bp
    from .api import blp

    return [blp, bp]


@hookimpl
def admin_pages(staff):
    """The webhooks page (``admin_pages``), for the admin index."""
    from .admin_views import pages

    return pages()


@hookimpl
def code_label(group, code):
    """This plugin's name where the core shows who did something."""
    if group == "plugin" and code == "webhooks":
        from service.sdk import gettext as _

        return _("Webhooks")
    return None
