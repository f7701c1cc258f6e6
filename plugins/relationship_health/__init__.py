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

Key-account owners and proactive care (``care_hooks``, ``owners``,
``care``, ``care_api``, ``care_models``, ``care_settings``): owners of top-tier
accounts, their notices (a list and a mail), care tickets (kind ``care``,
channel ``outbound``) for key customers who reach "at risk", and a raised
priority for their complaints.
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl

PLUGIN = "relationship_health"
RECOMPUTE_JOB = "relationship_health.recompute"

# --- key-account owners and proactive care (issue 18 items 3-4): hooks in care_hooks
from .care_hooks import (  # noqa: E402,F401
    customer_columns,
    event_published,
    opening_ticket,
    register_ticket_codes,
    sla_targets,
    ticket_created,
)

# --- end


@hookimpl
def register_settings():
    """The signals file, window, level thresholds, recompute period and chunk size."""
    from .settings import HealthSettingsSchema

    return HealthSettingsSchema


@hookimpl
def register_migrations():
    """The health, level changes and contact changes tables."""
    from . import care_models, models  # noqa: F401  (the tables Alembic compares with)

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
             "queue": "default", "interval": settings().recompute_interval},
            # key-account owners and proactive care (care_hooks)
            {"name": "relationship_health.care", "func": "plugins.relationship_health.care:care_job",
             "queue": "default"},
            {"name": "relationship_health.owner_mail", "func": "plugins.relationship_health.owners:mail_job",
             "queue": "mail"}]


@hookimpl
def register_blueprints(app):
    """The health, owner and report APIs (flask-smorest blueprints: they join
    kefu's OpenAPI document) and the owner's console page."""
    from .accounts_views import bp as accounts_bp  # the owner's page in the console (console_links)
    from .api import blp
    from .care_api import blp as owners_blp  # key-account owners (care_hooks); with the mail templates
    from .report_api import blp as reports_blp  # issue 18 item 5: the health report

    return [blp, owners_blp, reports_blp, accounts_bp]


@hookimpl
def register_cli():
    """``kefu health recompute`` and ``kefu health show``."""
    from .cli import health_group

    return [health_group]


@hookimpl
def code_label(group, code):
    """This plugin's name and the health levels, translated."""
    if group == "plugin" and code == PLUGIN:
        from service.sdk import gettext as _

        return _("Relationship health")
    if group == "health_level":
        from .texts import level_label

        return level_label(code)
    from .care_hooks import (
        code_label as care_label,  # key-account owners and proactive care
    )

    return care_label(group, code)


# --- issue 18, items 5 and 6: the report's dashboard parts and the console pages ---------------------------
# (``report_api``, ``report``, ``pages``, ``dashboard``, ``tiervalue``; wired here only)


@hookimpl
def customer_sections(customer, staff):
    """The profile's health section: level, score, the signals that score with
    their explanations, the latest level changes (see ``pages``); then the
    account owner's, when there is one (``care_hooks``)."""
    from .care_hooks import owner_section
    from .pages import section

    return [*section(customer), *filter(None, [owner_section(customer)])]


@hookimpl
def ticket_panels(ticket, staff):
    """A compact health panel beside the ticket (the customer's level and
    main reason), and the account owner's when there is one."""
    from .care_hooks import owner_panel
    from .pages import panel

    return [*filter(None, [panel(ticket), owner_panel(ticket)])]


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


@hookimpl(trylast=True)
def demo_data(app, demo):
    """After the other plugins' history: a lapsed key customer at risk with
    an owner and a care ticket, a customer whose returns doubled, a
    complainer; the health recomputed (see ``demo``)."""
    if demo.stage != "history":
        return None
    from .demo import load

    return load(demo)


@hookimpl
def console_links(staff):
    """"My accounts" in the console's navigation, with the unread notices'
    count, for staff who own customers or have notices (``accounts_views``)."""
    from .accounts_views import link

    return link(staff)


@hookimpl
def merging_customers(kept, merged):
    """Two records of one customer become one: the duplicate's health
    history, notices, account owner and care state move (see ``merging``)."""
    from .merging import merge

    return merge(kept, merged)
