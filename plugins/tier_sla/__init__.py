"""tier_sla: customer tiers and a tier x priority SLA (builtin plugin).

Written only through ``service.sdk``, as an outside integrator would. The
logic lives in the modules; this file only wires hooks to it.

Customer tiers (``tiers``, ``transactions``, ``tier_api``, ``tier_cli``, ``settings``):

* ``customer_tier`` answers a customer's effective tier (read with the
  customer through ``customer_columns``, else one query);
* ``register_settings`` declares the tier settings (``settings``),
  ``register_migrations`` the plugin's tables, ``register_blueprints`` the
  tier and SLA APIs, ``register_cli`` the ``kefu transactions`` and
  ``kefu tiers`` commands, ``register_jobs`` the nightly recompute
  (``tier_sla.recompute``), the SLA sweep and the re-targeting after a tier
  change (on the plugin's own ``sla`` queue).

Admin pages (``admin_views``, ``policy_form``): the SLA policy and the tier
overrides as console forms, listed through the ``admin_pages`` hook.

SLA (``policy``, ``calendar``, ``clock``, ``sla``, ``sweep``, ``sla_api``):
the ``sla_targets`` decider and the notifications that keep each ticket's
clock (see ``plugins/tier_sla/sla.py``), and the ``sla_warning`` /
``sla_breached`` hooks the sweep fires (``hookspecs``, declared through
``register_hookspecs``).
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl

TIER_JOB = "tier_sla.recompute"
SWEEP_JOB = "tier_sla.sweep"


# --------------------------------------------------------------------------- the plugin's contract and parts


@hookimpl
def register_hookspecs():
    """``sla_warning`` and ``sla_breached``, which the sweep fires."""
    from . import hookspecs

    return hookspecs


@hookimpl
def register_settings():
    """The tier settings (method, shares, period, measure, currency, work_mem)."""
    from .settings import TierSettingsSchema

    return TierSettingsSchema


@hookimpl
def register_migrations():
    """Transactions, tiers and their history, SLA policies and ticket clocks."""
    from . import models  # noqa: F401  (the tables Alembic compares with)

    return str(Path(__file__).parent / "migrations")


@hookimpl
def register_jobs(app):
    """The nightly tier recompute, the SLA sweep (every minute) and the
    re-targeting of open tickets after a tier change."""
    from .tiers import RETIER_JOB

    return [{"name": TIER_JOB, "func": "plugins.tier_sla.tiers:recompute_job", "queue": "default",
             "interval": 24 * 3600},
            {"name": SWEEP_JOB, "func": "plugins.tier_sla.sweep:sweep_job", "queue": "sla", "interval": 60},
            {"name": RETIER_JOB, "func": "plugins.tier_sla.sla:retier_job", "queue": "sla"}]


@hookimpl
def register_blueprints(app):
    """The tier and SLA APIs (flask-smorest blueprints: they join kefu's
    OpenAPI document) and the admin pages (``admin_pages``)."""
    from .admin_views import bp as admin_bp
    from .sla_api import blp as sla_blp
    from .tier_api import blp

    return [blp, sla_blp, admin_bp]


@hookimpl
def admin_pages(staff):
    """The SLA policy and tier overrides pages (``admin_pages``), for the admin index."""
    from .admin_views import pages

    return pages()


@hookimpl
def register_cli():
    """``kefu transactions import`` and ``kefu tiers recompute|show``."""
    from .tier_cli import tiers_group, transactions_group

    return [transactions_group, tiers_group]


# --------------------------------------------------------------------------- customer tiers


@hookimpl
def customer_tier(customer):
    """The customer's effective tier (override while it lasts, else computed);
    None before the first recompute, so the next plugin or the core decides."""
    from .tiers import tier_of

    return tier_of(customer)


@hookimpl
def customer_columns(purpose):
    """The customer's tier row, read by the core with the customer (see
    ``tiers.tier_of``): the tier is asked both when opening and when showing;
    for the profile also what its tier and transactions sections show
    (``profile.profile_columns``)."""
    from service import sdk

    from .profile import profile_columns
    from .tiers import customer_columns as columns

    return {**columns(), **profile_columns()} if purpose == sdk.PROFILE else columns()


@hookimpl
def customer_list_columns(staff):
    """The customer list's tier filter and value sort (see ``profile``)."""
    from .profile import list_columns

    return list_columns()


@hookimpl
def customer_sections(customer, staff):
    """The profile's tier (value, rank) and transactions sections."""
    from .profile import sections

    return sections(customer)


@hookimpl
def merging_customers(kept, merged):
    """Move the duplicate's transactions, tier history and override (see ``profile``)."""
    from .profile import merge

    return merge(kept, merged)


# --------------------------------------------------------------------------- SLA
# The SLA clock's hooks live in ``sla``; they are imported here so that the
# plugin module registered by the entry point carries them.
from .sla import message_added, sla_targets, ticket_transitioned, ticket_updated  # noqa: F401

# --------------------------------------------------------------------------- demo and dashboard


@hookimpl
def demo_data(app, demo):
    """A year of demo sales, the tiers computed from it, one override; in
    the full demo before the tickets (and recomputed after them)."""
    from .demo import load, load_customers, load_history

    if demo.size == "small":
        return load() if demo.stage == "history" else None
    return load_customers(demo) if demo.stage == "customers" else load_history(demo)


@hookimpl
def dashboard_charts(staff, period):
    """First responses and resolutions on time by week over the period (with
    the period before), and customers and revenue by tier, for the dashboard."""
    from .dashboard import charts

    return charts(period)


@hookimpl
def dashboard_kpis(staff, period):
    """The shares of first responses and resolutions on time, as dashboard tiles."""
    from .dashboard import kpis

    return kpis(period)


@hookimpl
def report_columns(staff, period, by):
    """Average business hours to the first response and to the resolution,
    per agent or department, for the dashboard's reports."""
    from .dashboard import report_columns as columns

    return columns(period, by)


@hookimpl
def code_label(group, code):
    """Tiers, calendars, SLA policy ids and this plugin's name, translated."""
    from .labels import label

    return label(group, code)
