"""The web UI: the public complaint form, the customer's tracking page and the
staff console (queues, ticket page, dashboard, admin pages).

Server-rendered Jinja, no front-end build step. Views are thin: they read a
form, call the same use cases as the API (``service.usecases.tickets``,
``service.usecases.messages``, ``service.usecases.tracking``) and render. Blueprints by noun:

* ``customer`` (blueprint ``web``): ``/``, ``/track/<token>``, ``/track/<token>/<answer>``
* ``console_auth``: ``/console/login``, ``/console/logout``, ``/console/settings``
* ``console_queues``: ``/console/`` and ``/console/queue/<name>``
* ``console_new``: ``/console/tickets/new`` (a ticket an agent records for a caller)
* ``console_ticket``: ``/console/tickets/<number>`` and its forms
* ``console_search``: ``/console/search`` (the header's search box)
* ``saved_views``: ``/console/views`` (saved queue views); ``console_bulk``: ``/console/bulk``
* ``console_customers``: ``/console/customers`` (list) and ``/console/customers/<id>`` (profile, notes, contacts)
* ``console_macros``: ``/console/macros`` (canned replies) and applying one from a ticket
* ``console_merge``: ``/console/customers/<id>/merge`` (supervisors)
* ``console_notifications``: ``/console/notifications`` (each staff member's own notices; the bell)
* ``dashboard``: ``/console/dashboard`` (supervisors)
* ``admin``: ``/console/admin/...`` (admins)
"""
from __future__ import annotations

from flask import Flask

from service.web import (
    admin,
    console_auth,
    console_bulk,
    console_customers,
    console_frame,
    console_macros,
    console_merge,
    console_new,
    console_notifications,
    console_queues,
    console_search,
    console_ticket,
    customer,
    dashboard,
    fragments,
    i18n,
    saved_views,
    security,
)


def init_web(app: Flask) -> None:
    """Bind the web UI to ``app``: Babel, CSRF, security headers, blueprints.

    Call after the API and plugin blueprints are registered: every blueprint
    under ``/api/`` is exempted from CSRF (it authenticates with bearer
    tokens, not cookies), everything else is protected.
    """
    i18n.init_app(app)
    # The console's sidebar (queues with counts, saved views, the plugins' links) and keyboard
    # help, drawn once per distinct content (service.web.fragments).
    fragments.init_app(app)
    console_frame.init_app(app)
    # console_new before console_ticket: /console/tickets/new is not a ticket number.
    for module in (customer, console_auth, console_queues, console_new, console_ticket, console_customers,
                   console_merge, console_macros, console_notifications, dashboard, admin, console_search,
                   saved_views, console_bulk):
        app.register_blueprint(module.bp)
    security.init_app(app)
