"""satisfaction_survey: closed-loop satisfaction surveys after a resolution (builtin plugin).

Written only through ``service.sdk``, as an outside integrator would. The
logic lives in the modules; this file only wires hooks to it.

* ``ticket_transitioned``: a resolution schedules its survey (``surveys``),
  delivered after ``SURVEY_DELAY`` by mail and on the tracking page; a reopen
  withdraws an unanswered one.
* The customer answers once through ``/api/v1/public/surveys/{token}`` or the
  page ``/survey/<token>`` (``public_api``, ``page``); ``answers`` closes the
  loop in one unit of work (reopen or follow-up, supervisor alert, recovery
  mark, or close), fires this plugin's own hook ``survey_answered``
  (``hookspecs``) and publishes the ``survey.answered`` event (webhooks).
* ``satisfaction_class`` answers a customer's class from rules kept as data
  (``classes``); ``staff_api`` lists recoveries and reports (``reports``);
  panels for the agent and the customer (``panels``), a dashboard chart
  (``dashboard``), the demo's surveys (``demo``).
* ``register_settings`` declares the ``SURVEY_*`` settings (``settings``),
  ``register_migrations`` the tables (``models``), ``register_jobs`` the
  delivery and the reminder, ``register_blueprints`` the APIs and the page.
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl


@hookimpl
def register_hookspecs():
    """``survey_answered``, the hook this plugin fires."""
    from . import hookspecs

    return hookspecs


@hookimpl
def register_settings():
    """The ``SURVEY_*`` settings, their defaults and checks (a bad one stops kefu, naming the key)."""
    from .settings import SurveySettingsSchema

    return SurveySettingsSchema


@hookimpl
def register_migrations():
    """The surveys and recoveries tables (the plugin's own Alembic branch)."""
    from . import models  # noqa: F401  (the tables Alembic compares with)

    return str(Path(__file__).parent / "migrations")


@hookimpl
def ticket_transitioned(ticket, from_status, to_status):
    """A resolution gets its survey; a reopened resolution loses its unanswered one."""
    from .surveys import schedule, withdraw_open

    if to_status == "resolved":
        schedule(ticket)
    elif from_status == "resolved" and to_status == "in_progress":
        withdraw_open(ticket.id)


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
    from service import sdk

    from .classes import customer_columns as columns
    from .profile import profile_columns

    return columns() if purpose == sdk.SHOWING else profile_columns() if purpose == sdk.PROFILE else None


@hookimpl
def customer_list_columns(staff):
    """The customer list's satisfaction class filter (see ``profile``)."""
    from .profile import list_columns

    return list_columns()


@hookimpl
def customer_sections(customer, staff):
    """The profile's satisfaction section: class, its metrics, the survey history."""
    from .profile import sections

    return sections(customer)


@hookimpl
def merging_customers(kept, merged):
    """Move the duplicate's surveys to the kept record."""
    from .profile import merge

    return merge(kept, merged)


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
def dashboard_charts(staff, period):
    """The CSAT trend by week over the period (and the period before) for the supervisor dashboard."""
    from .dashboard import charts

    return charts(period)


@hookimpl
def dashboard_kpis(staff, period):
    """CSAT over the period and the one before, as a dashboard tile."""
    from .dashboard import kpis

    return kpis(period)


@hookimpl
def report_columns(staff, period, by):
    """CSAT per agent or department, for the dashboard's reports."""
    from .dashboard import report_columns as columns

    return columns(period, by)


@hookimpl
def register_jobs(app):
    """The delayed delivery (mail queue) and the periodic reminder (hourly)."""
    from .surveys import DELIVER_JOB, REMIND_JOB

    return [{"name": DELIVER_JOB, "func": "plugins.satisfaction_survey.surveys:deliver", "queue": "mail"},
            {"name": REMIND_JOB, "func": "plugins.satisfaction_survey.surveys:remind", "queue": "mail",
             "interval": 3600}]


@hookimpl
def register_blueprints(app):
    """The public and staff APIs (flask-smorest: they join kefu's API and its
    OpenAPI document) and the survey page (with the mail templates)."""
    from .page import bp
    from .public_api import blp as public_blp
    from .staff_api import blp as staff_blp

    return [public_blp, staff_blp, bp]


@hookimpl
def demo_data(app, demo):
    """Answered surveys for the demo's resolved tickets (one reopened by a bad
    answer); in the full demo the half year's surveys, at their times."""
    from .demo import load, load_history

    if demo.stage != "history":
        return None
    return load() if demo.size == "small" else load_history(demo)


@hookimpl
def code_label(group, code):
    """This plugin's name, history actions and their details, translated."""
    from .labels import label

    return label(group, code)
