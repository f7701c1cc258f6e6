"""satisfaction_survey: closed-loop satisfaction surveys after a resolution (builtin plugin).

Written only through kefu's public hooks, as an outside integrator would.
The logic lives in the modules; this file only wires hooks to it.

* ``ticket_transitioned``: a resolution schedules its survey (``surveys``),
  delivered after ``SURVEY_DELAY`` by mail and on the tracking page; a reopen
  withdraws an unanswered one.
* The customer answers once through ``/api/v1/public/surveys/{token}`` or the
  page ``/survey/<token>`` (``public_api``, ``page``); ``answers`` closes the
  loop (reopen or follow-up, supervisor alert, recovery mark, or close) and
  fires ``survey_answered``.
* ``satisfaction_class`` answers a customer's class from rules kept as data
  (``classes``); ``staff_api`` lists recoveries and reports (``reports``).
"""
from __future__ import annotations

from service import hookimpl

DELIVER_JOB = "satisfaction_survey.deliver"
REMIND_JOB = "satisfaction_survey.remind"


@hookimpl
def ticket_transitioned(ticket, from_status, to_status):
    """A resolution gets its survey; a reopened resolution loses its unanswered one."""
    from .surveys import schedule, withdraw_open

    if to_status == "resolved":
        schedule(ticket)
    elif from_status == "resolved" and to_status == "in_progress":
        withdraw_open(ticket.id)


@hookimpl
def survey_answered(ticket, answer):
    """Publish ``survey.answered`` to webhooks (no free text: the comment stays in kefu)."""
    from plugins.webhooks import publish

    publish("survey.answered", ticket, {k: answer[k] for k in ("survey_id", "round", "solved", "rating", "effort",
                                                                "nps", "reasons", "outcome", "followup")})


@hookimpl
def satisfaction_class(customer):
    """The customer's class (loyal, ordinary, complaining, lost) by the rules."""
    from .classes import class_of

    return class_of(customer)


@hookimpl
def customer_columns(purpose):
    """The class metrics, read by the core with a customer shown to staff
    (see ``classes.class_of``). Not when a ticket is opened: nothing asks the
    class then, and the metrics count the customer's tickets and answers."""
    from service.reads.lookup import SHOWING

    from .classes import customer_columns as columns

    return columns() if purpose == SHOWING else None


@hookimpl
def tracking_panels(ticket):
    """The open survey and its link on the customer's tracking view."""
    from .panels import tracking_panel

    return tracking_panel(ticket)


@hookimpl
def ticket_panels(ticket):
    """The ticket's surveys, answers and recovery mark for staff."""
    from .panels import staff_panel

    return staff_panel(ticket)


@hookimpl
def dashboard_charts(staff):
    """The CSAT trend by week for the supervisor dashboard."""
    from .dashboard import charts

    return charts()


@hookimpl
def register_jobs(app):
    """The delayed delivery (mail queue) and the periodic reminder (hourly)."""
    return [{"name": DELIVER_JOB, "func": "plugins.satisfaction_survey.surveys:deliver", "queue": "mail"},
            {"name": REMIND_JOB, "func": "plugins.satisfaction_survey.surveys:remind", "queue": "mail",
             "interval": 3600}]


@hookimpl
def register_blueprints(app):
    """Check the settings (a bad one stops kefu at start, naming the key), add
    the public and staff APIs through kefu's flask-smorest ``Api`` (so they are
    in the OpenAPI document) and return the survey page's blueprint."""
    from .page import bp
    from .public_api import blp as public_blp
    from .settings import survey_settings
    from .staff_api import blp as staff_blp

    survey_settings(app.config)
    app.extensions["kefu_api"].register_blueprint(public_blp)
    app.extensions["kefu_api"].register_blueprint(staff_blp)
    return [bp]


@hookimpl
def demo_data(app):
    """Answered surveys for the demo's resolved tickets (one reopened by a bad answer)."""
    from .demo import load

    return load()
