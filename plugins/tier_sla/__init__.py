"""tier_sla: customer tiers and a tier x priority SLA (builtin plugin).

Written only through kefu's public hooks, as an outside integrator would.
The logic lives in the modules; this file only wires hooks to it.

Customer tiers (``tiers``, ``transactions``, ``tier_api``, ``tier_cli``, ``settings``):

* ``customer_tier`` answers a customer's effective tier (one query);
* ``register_blueprints`` adds the tier and SLA APIs, ``register_cli`` the
  ``kefu transactions`` and ``kefu tiers`` commands, ``register_jobs`` the
  nightly recompute (``tier_sla.recompute``) and the SLA sweep.

SLA (``policy``, ``calendar``, ``clock``, ``sla``, ``sweep``, ``sla_api``):
the ``sla_targets`` decider and the notifications that keep each ticket's
clock; see ``plugins/tier_sla/sla.py``.
"""
from __future__ import annotations

from service import hookimpl

# --------------------------------------------------------------------------- customer tiers

TIER_JOB = "tier_sla.recompute"


@hookimpl
def customer_tier(customer):
    """The customer's effective tier (override while it lasts, else computed);
    None before the first recompute, so the next plugin or the core decides."""
    from .tiers import tier_of

    return tier_of(customer)


@hookimpl
def customer_columns(purpose):
    """The customer's tier row, read by the core with the customer (see
    ``tiers.tier_of``): the tier is asked both when opening and when showing."""
    from .tiers import customer_columns as columns

    return columns()


@hookimpl
def register_cli():
    """``kefu transactions import`` and ``kefu tiers recompute|show``."""
    from .tier_cli import tiers_group, transactions_group

    return [transactions_group, tiers_group]


# --------------------------------------------------------------------------- SLA
# The SLA clock's hooks live in ``sla``; they are imported here so that the
# plugin module registered by the entry point carries them.
from .sla import sla_targets, ticket_transitioned, ticket_updated  # noqa: E402,F401

SWEEP_JOB = "tier_sla.sweep"


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
    """Check the tier settings (a bad one stops kefu at start, naming the key)
    and add the tier and SLA APIs through kefu's flask-smorest ``Api``, so that
    they are in the OpenAPI document (hence nothing returned)."""
    from .settings import tier_settings
    from .sla_api import blp as sla_blp
    from .tier_api import blp

    tier_settings(app.config)
    app.extensions["kefu_api"].register_blueprint(blp)
    app.extensions["kefu_api"].register_blueprint(sla_blp)
    return []


@hookimpl
def demo_data(app):
    """A year of demo sales, the tiers computed from it, one override."""
    from .demo import load

    return load()


@hookimpl
def dashboard_charts(staff):
    """SLA compliance by week and customers and revenue by tier, for the dashboard."""
    from .dashboard import charts

    return charts()
