"""kefu-example-plugin: one hook of each kind, as a third party would write them.

Registered through the ``kefu`` entry-point group as ``example`` (setup.cfg).
What the notification sees is kept per app, in
``app.extensions["kefu_example_calls"]``, so a test can check it.
"""
from __future__ import annotations

import click
from flask import Blueprint, current_app, jsonify

from service import hookimpl

CALLS_KEY = "kefu_example_calls"


def calls(app=None) -> list:
    """The notifications this plugin received in ``app`` (default: the current app)."""
    app = app or current_app
    return app.extensions.setdefault(CALLS_KEY, [])


@hookimpl
def ticket_created(ticket, actor):
    """Notification: remember which ticket was opened, by whom, in what status."""
    calls().append(("ticket_created", ticket.number, ticket.status, actor.type))


@hookimpl
def customer_tier(customer):
    """Decider: every customer of the example shop is gold."""
    return "gold"


@hookimpl
def ticket_panels(ticket, staff):
    """Collector: one small panel on the agent's ticket view."""
    return {"key": "example", "title": "Example plugin",
            "data": {"number": ticket.number, "viewer_role": staff.role}}


@hookimpl
def register_blueprints(app):
    """Collector: a tiny route, to show a plugin can add pages or API routes."""
    bp = Blueprint("kefu_example", __name__, url_prefix="/example")

    @bp.get("/ping")
    def ping():
        return jsonify(pong=True, plugin="example")

    return [bp]


@hookimpl
def register_cli(cli):
    """Collector: ``kefu example-ping``."""

    @click.command("example-ping")
    def example_ping():
        """Answer pong (kefu-example-plugin)."""
        click.echo("pong from kefu-example-plugin")

    return [example_ping]
