"""credit_check: AAA-C customer credit ratings that gate remedies (builtin plugin).

Written only through ``service.sdk``, as an outside integrator would. The
logic lives in the modules; this file only wires hooks to it:

* ``register_settings``: the settings (``settings``: marshmallow schema,
  defaults, checks; the scorecard, ``scorecard.json`` by default, is loaded
  and checked with them at start); ``register_migrations``: the tables
  (``models``, ``migrations/``); ``register_hookspecs``: the
  ``credit_source`` decider the plugin asks (``hookspecs``);
* ``figures`` (figures in, by API and CSV), ``rating`` (ratings with their
  breakdown, the quarterly job), ``source`` (``credit_source`` asked with a
  deadline and a cache), ``explain`` (the breakdown, views recorded),
  ``scorecard`` and ``quarters`` (the arithmetic);
* ``gate``: the ``remedy_approval`` decider and the ``credit`` ticket panel;
* ``api`` (``register_blueprints``), ``cli`` (``register_cli``), the
  periodic re-rate (``register_jobs``) and ``demo`` (``demo_data``).
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl

RERATE_JOB = "credit_check.rerate"
# The job runs every 6 hours and rates only those whose current quarter's
# rating is missing, so a new quarter is rated within 6 hours of starting and
# the other runs do nothing.
RERATE_INTERVAL = 6 * 3600


@hookimpl
def register_settings():
    """The scorecard, grades, remedy rules, currency and the external source's limits."""
    from .settings import CreditSettingsSchema

    return CreditSettingsSchema


@hookimpl
def register_migrations():
    """The figures, ratings and breakdown views tables."""
    from . import models  # noqa: F401  (the tables Alembic compares with)

    return str(Path(__file__).parent / "migrations")


@hookimpl
def register_hookspecs():
    """``credit_source``: the external credit score this plugin asks for."""
    from . import hookspecs

    return hookspecs


@hookimpl
def register_blueprints(app):
    """The credit API (a flask-smorest blueprint: it joins kefu's OpenAPI document)."""
    from .api import blp

    return [blp]


@hookimpl
def register_jobs(app):
    """The periodic re-rate (``credit_check.rerate``)."""
    return [{"name": RERATE_JOB, "func": "plugins.credit_check.rating:rerate_job", "queue": "default",
             "interval": RERATE_INTERVAL}]


@hookimpl
def register_cli():
    """``kefu credit rate`` and ``kefu credit import``."""
    from .cli import credit_group

    return [credit_group]


@hookimpl
def remedy_approval(ticket, customer):
    """Gate the remedy by the customer's grade (see ``gate``)."""
    from .gate import decide

    return decide(ticket, customer)


@hookimpl
def ticket_panels(ticket, staff):
    """The credit decision and next step; grade and score for supervisors, admins, finance."""
    from .gate import panel

    return panel(ticket, staff)


@hookimpl
def customer_list_columns(staff):
    """The customer list's grade filter, for finance, supervisors and admins (see ``profile``)."""
    from .profile import list_columns

    return list_columns(staff)


@hookimpl
def customer_columns(purpose):
    """For the profile only: the rating in force, read with the customer
    (``profile.profile_columns``), so the credit section runs no statement."""
    from service import sdk

    from .profile import profile_columns

    return profile_columns() if purpose == sdk.PROFILE else None


@hookimpl
def customer_sections(customer, staff):
    """The profile's credit section, for finance, supervisors and admins."""
    from .profile import sections

    return sections(customer, staff)


@hookimpl
def merging_customers(kept, merged):
    """Move the duplicate's ratings, views and figures (see ``profile``)."""
    from .profile import merge

    return merge(kept, merged)


@hookimpl
def demo_data(app, demo):
    """Figures for the demo customers, so that every grade and one unrated
    customer appear; in the full demo for every quarter of the period."""
    from .demo import load, load_customers, load_history

    if demo.size == "small":
        return load() if demo.stage == "history" else None
    return load_customers(demo) if demo.stage == "customers" else load_history(demo)


@hookimpl
def code_label(group, code):
    """This plugin's name where the core shows who did something, and the
    reasons its remedy decisions recorded (``gate.reason_label``), in the
    page's language."""
    if group == "plugin" and code == "credit_check":
        from service.sdk import gettext as _

        return _("Credit checks")
    if group in ("reason", "remedy_reason") and code.startswith("credit check"):
        from .gate import reason_label

        return reason_label(code)
    return None
