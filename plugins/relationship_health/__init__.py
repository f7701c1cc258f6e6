"""relationship_health: churn-risk signals and a health level per customer (builtin plugin).

Written only through ``service.sdk``, as an outside integrator would. It
reads the tables of tier_sla (``tier_transactions``: sales, returns,
exchanges, cancellations) and satisfaction_survey (``surveys``,
``survey_recoveries``, and that plugin's class rules through its settings)
by name in SQL, and the core's tickets and customers; with either plugin
switched off its signals have no value and score nothing. This file only
wires hooks to the modules:

* ``register_settings``: windows, level thresholds, the recompute's period
  and chunk (``settings``), the signals file (``signals.json`` by default)
  loaded and checked with them at start; ``register_migrations``: the
  tables (``models``, ``migrations/``); ``register_hookspecs``: the
  ``health_signals`` collector through which integrators add signals
  (``hookspecs``);
* ``recompute`` (set-based, by ranges of customer ids, with ``measures``
  building its SQL and ``catalog`` the signals in force), the periodic job
  (``register_jobs``), ``kefu health recompute`` (``register_cli``) and
  the API (``register_blueprints``: ``api``, reading through ``detail``).
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl

PLUGIN = "relationship_health"
RECOMPUTE_JOB = "relationship_health.recompute"


@hookimpl
def register_settings():
    """The signals file, window, level thresholds, recompute period and chunk size."""
    from .settings import HealthSettingsSchema

    return HealthSettingsSchema


@hookimpl
def register_migrations():
    """The health, level changes and contact changes tables."""
    from . import models  # noqa: F401  (the tables Alembic compares with)

    return str(Path(__file__).parent / "migrations")


@hookimpl
def register_hookspecs():
    """``health_signals``: the signals integrators add."""
    from . import hookspecs

    return hookspecs


@hookimpl
def register_jobs(app):
    """The periodic recompute, every ``HEALTH_RECOMPUTE_INTERVAL`` seconds."""
    from .settings import settings

    return [{"name": RECOMPUTE_JOB, "func": "plugins.relationship_health.recompute:recompute_job",
             "queue": "default", "interval": settings().recompute_interval}]


@hookimpl
def register_blueprints(app):
    """The health API (a flask-smorest blueprint: it joins kefu's OpenAPI document)."""
    from .api import blp
    from .report_api import blp as reports_blp  # issue 18 item 5: the health report

    return [blp, reports_blp]


@hookimpl
def register_cli():
    """``kefu health recompute`` and ``kefu health show``."""
    from .cli import health_group

    return [health_group]


@hookimpl
def code_label(group, code):
    """This plugin's name and the health levels, translated."""
    if group == "plugin" and code == PLUGIN:
        from flask_babel import gettext as _

        return _("Relationship health")
    if group == "health_level":
        from .texts import level_label

        return level_label(code)
    return None


# --- issue 18, items 5 and 6: the report's dashboard parts and the console pages ---------------------------
# (``report_api``, ``report``, ``pages``, ``dashboard``, ``tiervalue``; wired here only)


@hookimpl
def customer_sections(customer, staff):
    """The profile's health section: level, score, the signals that score with
    their explanations, the latest level changes (see ``pages``)."""
    from .pages import section

    return section(customer)


@hookimpl
def ticket_panels(ticket, staff):
    """A compact health panel beside the ticket: the customer's level and main reason."""
    from .pages import panel

    return panel(ticket)


@hookimpl
def customer_list_columns(staff):
    """The customer list's health level column and filter ("at risk" in one click)."""
    from .pages import list_columns

    return list_columns()


@hookimpl
def dashboard_charts(staff, period):
    """Revenue at risk by tier, week by week over the period (see ``dashboard``)."""
    from .dashboard import charts

    return charts(period)


@hookimpl
def dashboard_kpis(staff, period):
    """Customers and value at risk at the period's end, against the period before."""
    from .dashboard import kpis

    return kpis(period)
# --- end of issue 18 items 5 and 6 -------------------------------------------------------------------------
