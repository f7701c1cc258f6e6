"""credit_check: AAA-C customer credit ratings that gate remedies (builtin plugin).

Written only through kefu's public hooks, as an outside integrator would.
The logic lives in the modules; this file only wires hooks to it:

* ``scorecard`` (the data in ``config/credit_scorecard.json``, checked at
  start), ``settings``, ``quarters``;
* ``figures`` (figures in, by API and CSV), ``rating`` (ratings with their
  breakdown, the quarterly job), ``source`` (the ``credit_source`` hook
  with a deadline and a cache), ``explain`` (the breakdown, views recorded);
* ``gate``: the ``remedy_approval`` decider and the ``credit`` ticket panel;
* ``credit_api``, ``credit_cli``, ``demo``.
"""
from __future__ import annotations

from service import hookimpl

RERATE_JOB = "credit_check.rerate"
# The job runs every 6 hours and rates only those whose current quarter's
# rating is missing, so a new quarter is rated within 6 hours of starting and
# the other runs do nothing.
RERATE_INTERVAL = 6 * 3600


@hookimpl
def register_blueprints(app):
    """Check the settings and the scorecard (a bad one stops kefu at start,
    naming what is wrong) and add the credit API through kefu's ``Api``."""
    from .credit_api import blp
    from .settings import credit_settings

    app.extensions["credit_check_settings"] = credit_settings(app.config)
    app.extensions["kefu_api"].register_blueprint(blp)
    return []


@hookimpl
def register_jobs(app):
    """The periodic re-rate (``credit_check.rerate``)."""
    return [{"name": RERATE_JOB, "func": "plugins.credit_check.rating:rerate_job", "queue": "default",
             "interval": RERATE_INTERVAL}]


@hookimpl
def register_cli():
    """``kefu credit rate`` and ``kefu credit import``."""
    from .credit_cli import credit_group

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
def demo_data(app):
    """Figures for the demo customers, so that every grade and one unrated customer appear."""
    from .demo import load

    return load()
