"""The integrator contract: every hook a kefu plugin may implement.

A plugin is a module or object with functions marked ``@kefu.hookimpl`` whose
names match the specs below; it is found through the ``kefu`` entry-point
group (see docs/plugins.md). Hooks are always called with keyword arguments,
and an implementation may accept any subset of them.

There are three kinds of hook, named in each banner below:

* NOTIFICATIONS tell plugins what happened. They fire only after the
  transaction that made the change has committed; their return value is
  ignored. An implementation that raises never loses or rolls back the ticket:
  the error is logged and written to the ticket's history, the request still
  succeeds, and the other plugins are still called.
* DECIDERS answer a question (``firstresult``): the first non-None answer wins,
  and the core ships a ``trylast`` default, so a ticket always gets an answer.
  An implementation that raises is skipped, the error is recorded on the
  ticket's history, and the next one (in the end the core default) answers.
  Deciders run inside the use case's transaction: they must only read. When
  a ticket is being opened they are asked before it is inserted, so its
  ``id`` and ``number`` are still None.
* COLLECTORS let each plugin add its part (blueprints, jobs, commands,
  panels); every implementation's result is gathered.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("kefu")


# --------------------------------------------------------------------------
# NOTIFICATIONS: after commit, return ignored, failures isolated and recorded.
# --------------------------------------------------------------------------


@hookspec
def ticket_created(ticket, actor):
    """A ticket was opened (listen): from the public form, e-mail, API or a follow-up.

    :param ticket: the committed ``service.models.Ticket`` (number, status
        ``new``, customer, due times set).
    :param actor: ``service.domain.actors.Actor`` who opened it (a customer or staff;
        for a follow-up, whoever rejected or reopened after the window).
    :return: ignored.
    """


@hookspec
def ticket_transitioned(ticket, action, from_status, to_status, actor, details):
    """A ticket moved through the workflow (confirm, start, wait, resolve,
    reopen, close, cancel, customer_reply).

    :param ticket: the committed ticket, already in ``to_status``.
    :param action: the workflow action name.
    :param from_status: status before the action.
    :param to_status: status after it.
    :param actor: who did it (staff, customer, or system for automatic closes).
    :param details: dict of what the action carried (``department``,
        ``resolution``, ``reason``, ...).
    :return: ignored.
    """


@hookspec
def ticket_updated(ticket, changes, actor):
    """Fields of a ticket were edited (priority, category, department, assignee).

    :param ticket: the committed ticket.
    :param changes: dict ``{field: [old, new]}`` of what changed, with codes
        for category and department and staff ids for the assignee.
    :param actor: the staff member who edited it.
    :return: ignored.
    """


@hookspec
def message_added(ticket, message, actor):
    """A public reply or an internal note was added to a ticket.

    :param ticket: the committed ticket.
    :param message: the committed ``service.models.Message``; check
        ``message.internal`` before showing it to a customer.
    :param actor: the author (staff or customer).
    :return: ignored.
    """


@hookspec
def resolution_answered(ticket, accepted, reason, followup, actor):
    """The customer accepted or rejected a resolution (feed back).

    :param ticket: the committed ticket: ``closed`` when accepted,
        ``in_progress`` when rejected within the reopen window, ``closed``
        when rejected late (then ``followup`` is the new ticket).
    :param accepted: True when the customer accepted.
    :param reason: the customer's reason for rejecting, or None.
    :param followup: the linked follow-up ``Ticket`` opened for a late
        rejection, else None.
    :param actor: the customer.
    :return: ignored.
    """


@hookspec
def sla_warning(ticket, target, due, step):
    """A ticket is close to missing an SLA target (an SLA plugin raises it).

    Kind: notification, after the commit that recorded the warning; fired
    once per ticket, target and ladder step, also when a sweep catches up.

    :param ticket: the ``Ticket``.
    :param target: ``"first_response"`` or ``"resolution"``.
    :param due: the aware UTC time the target falls due.
    :param step: the escalation step's name (e.g. ``"warning"``).
    :return: ignored.
    """


@hookspec
def sla_breached(ticket, target, due, step):
    """A ticket missed an SLA target (an SLA plugin raises it).

    Kind: notification, after the commit that recorded the breach; fired
    once per ticket, target and ladder step at or past the deadline (e.g.
    ``"breach"``, then ``"takeover"``), also when a sweep catches up.

    :param ticket: the ``Ticket``.
    :param target: ``"first_response"`` or ``"resolution"``.
    :param due: the aware UTC time the target fell due.
    :param step: the escalation step's name.
    :return: ignored.
    """


@hookspec
def survey_answered(ticket, answer, actor):
    """A customer answered a satisfaction survey (a survey plugin raises it).

    Kind: notification, after the commit that recorded the answer together
    with what it set off (the ticket reopened, closed, or a follow-up
    opened); fired once per survey, as surveys are single use.

    :param ticket: the committed ``Ticket`` the survey was about, in its
        status after the answer.
    :param answer: a plain dict: ``survey_id``, ``round`` (0 for the first
        resolution, 1 after one reopen, ...), ``solved`` (bool), ``rating``
        (1-5), ``effort`` (1-7 or None), ``nps`` (0-10 or None), ``reasons``
        (list of codes), ``comment`` (str or None), ``extra`` (dict),
        ``answered_at`` (ISO time), ``outcome`` (``reopened``, ``followup``,
        ``closed`` or ``none``) and ``followup`` (the follow-up ticket's
        number or None).
    :param actor: the customer.
    :return: ignored.
    """


# --------------------------------------------------------------------------
# DECIDERS: firstresult, core default trylast, read-only, failures fall through.
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def sla_targets(ticket, customer, start):
    """Decide a ticket's SLA due times when it is opened or re-prioritised.

    Stops at the first non-None result.

    :param ticket: the ticket (not yet inserted when opened: no ``id`` or
        ``number`` then); read its
        ``priority``, ``kind``, ``customer_tier``.
    :param customer: the ticket's customer.
    :param start: the aware UTC time the clock starts from (the ticket's
        creation, also when re-prioritised later).
    :return: a dict ``{"policy": str, "first_response_due": datetime,
        "resolution_due": datetime}`` (aware datetimes; either due may be
        None for "no target"), or None to let the next plugin decide. The
        core default uses ``DEFAULT_SLA_MINUTES`` by priority, round the clock.
    """


@hookspec(firstresult=True)
def customer_tier(customer):
    """Decide a customer's value tier (e.g. ``A``/``B``/``C`` or ``vip``...).

    Stops at the first non-None result.

    :param customer: a ``service.models.Customer``.
    :return: a short tier code (str), or None to let the next plugin decide.
        The core default answers None: no tiers without a tier plugin, and
        the ticket's ``customer_tier`` stays empty.
    """


@hookspec(firstresult=True)
def remedy_approval(ticket, customer):
    """Decide whether the remedy a customer requested may be granted.

    Called when a ticket with a requested remedy is opened. Stops at the
    first non-None result.

    :param ticket: the ticket; ``remedy_text``, ``remedy_amount_minor``
        (minor units) and ``remedy_currency`` describe the request.
    :param customer: the ticket's customer.
    :return: a dict ``{"decision": "approved"|"needs_approval"|"refused",
        "reason": str, "approver": "supervisor"|"finance"|None}``, or None
        to let the next plugin decide. ``approver`` (optional, only read for
        ``needs_approval``; default ``supervisor``) names who approves: it is
        stored on the ticket, and ``POST /api/v1/tickets/{number}/remedy``
        lets only that role (or an admin) approve or refuse. The reason is
        shown to every staff member who sees the ticket, agents included.
        The core default approves amounts up to ``DEFAULT_REMEDY_AUTO_APPROVE``
        and asks a supervisor for anything larger.
    """


@hookspec(firstresult=True)
def credit_source(customer, quarter):
    """Answer a customer's credit score from an external source (a credit
    bureau, a bank, the ERP's credit module).

    Asked by a credit plugin (the builtin ``credit_check``) when it rates a
    customer; stops at the first non-None result. The caller runs it in a
    worker thread with a deadline (``CREDIT_SOURCE_TIMEOUT``) and caches the
    answer per customer and quarter, so an implementation may do network
    I/O, but must not use the caller's database session: ``customer`` is a
    snapshot, not attached to one. A slow (past the deadline) or failing
    implementation is noted on the rating and the internal score is used.

    :param customer: a read-only snapshot of the customer with ``id``,
        ``external_ref``, ``name``, ``kind`` and ``email``.
    :param quarter: the quarter being rated, e.g. ``"2026Q4"`` (rated from
        the previous quarter's figures).
    :return: a dict ``{"score": number from 0 to 100, "source": str}`` (the
        source's name, shown with the rating), or None when this source
        knows nothing about the customer. The core default answers None.
    """


@hookspec(firstresult=True)
def satisfaction_class(customer):
    """Decide a customer's satisfaction class (DOMAIN.md: ``loyal``,
    ``ordinary``, ``complaining``, ``lost``).

    Stops at the first non-None result. Asked whenever the staff API shows a
    customer; must only read.

    :param customer: a ``service.models.Customer``.
    :return: a short class name (str), or None to let the next plugin
        decide. The core default answers None: no classes without a plugin
        that derives them (the builtin ``satisfaction_survey`` does, from
        survey answers and complaint history).
    """


# --------------------------------------------------------------------------
# COLLECTORS: every implementation's result is gathered.
# --------------------------------------------------------------------------


@hookspec
def customer_columns(purpose):
    """Add values to the core's read of a customer, so that a decider need
    not query for them.

    The core reads a customer by id when opening a ticket for a known
    customer (purpose ``"ticket"``: ``sla_targets``, ``customer_tier`` and
    ``remedy_approval`` will be asked) and when showing customers to staff
    (purpose ``"show"``: ``GET /api/v1/customers/{id}`` and the customer
    list; ``customer_tier`` and ``satisfaction_class`` will be asked). It
    selects these expressions in the same SELECT and keeps the values with
    the customer for the rest of the transaction. Read them with ``service.reads.lookup.preloaded(customer,
    name)``; it answers ``service.reads.lookup.NOT_LOADED`` when the customer was
    read another way (found by a contact's e-mail, loaded through a ticket,
    or in an earlier transaction), so query as usual then. Gathered when
    the app first reads a customer (again if the plugins change); the values
    are as read, so a plugin that changes them in the same transaction must
    not trust them.

    :param purpose: ``"ticket"`` or ``"show"`` (``service.reads.lookup.OPENING``,
        ``SHOWING``). Return only what that read needs: every column is
        computed on every such read, needed or not.
    :return: a dict ``{name: SQL expression}`` (or None). Each expression is
        a scalar correlated to the ``customers`` table, typically
        ``select(t.c.x).where(t.c.customer_id == Customer.id).scalar_subquery()``;
        names must be unique across plugins (prefix them with your plugin's
        name): a name given twice raises ``ValueError`` at the first read.
    """


@hookspec
def register_blueprints(app):
    """Add Flask blueprints (pages or API routes) to the app.

    Called once by ``create_app`` after the core blueprints.

    :param app: the Flask app being built.
    :return: a list of ``flask.Blueprint`` objects (or None). Staff API
        routes should use ``service.usecases.auth.require_role`` to check roles.
    """


@hookspec
def register_jobs(app):
    """Declare background jobs, periodic ones as data.

    Gathered once per app, the first time a job is enqueued, relayed or
    worked (``service.jobs.registry.registry``); a malformed entry or a name
    declared twice raises ``service.jobs.registry.JobError`` there.

    :param app: the Flask app.
    :return: a list of dicts (or None): ``name`` (unique, e.g.
        ``"acme.export"``), ``func`` (``"module:function"``), ``queue``
        (one of ``service.jobs.registry.QUEUES``: default, mail, webhooks, sla),
        optional ``interval`` (seconds: periodic, run once per period
        however many workers run; ``JOB_INTERVALS`` overrides), ``retries``
        (default ``JOB_RETRIES``), ``timeout`` (seconds, default 300) and
        ``kwargs`` (for periodic runs). Job functions take ids, never ORM
        objects; they run in an app context with a fresh session and may be
        run twice, so side effects go through ``service.jobs.registry.effect_once``.
        Queue a job from a use case or notification with
        ``service.jobs.registry.enqueue(name, **kwargs)``.
    """


@hookspec
def register_cli(cli):
    """Add commands to the ``kefu`` command line.

    :param cli: the ``kefu`` click group; call ``cli.add_command(...)``, or
        return the commands.
    :return: a list of ``click.Command`` objects (or None).
    """


@hookspec
def tracking_panels(ticket):
    """Add panels to the customer's own view of a ticket.

    Called for ``GET /api/v1/public/tickets/{token}`` (``panels``) and the
    web tracking page, i.e. for the ticket's customer, never for staff; must
    be quick and must only read. Never put staff-only data here (credit,
    tiers, internal notes): whatever is returned is shown to the customer.

    :param ticket: the ticket the customer's token opens.
    :return: a dict ``{"key": str, "title": str, "text": str, "url": str or
        None, "url_label": str or None}`` (plain text, escaped when shown; the
        url is shown as one button or link), a list of such dicts, or None.
    """


@hookspec
def demo_data(app):
    """Add this plugin's part of the demo (``kefu demo`` / ``make run``).

    Called once, on a fresh database, after the core's demo (departments,
    staff, the customers ``C-0001`` ... ``C-0008`` and their tickets) is
    committed. Write through your own use cases and commit; a failure here
    is a programming error and stops ``kefu demo``.

    :param app: the Flask app (an app context is active).
    :return: a list of short lines describing what was added (printed by
        ``kefu demo``), or None.
    """


@hookspec
def ticket_panels(ticket, staff):
    """Add panels to the agent's view of a ticket.

    Called for ``GET /api/v1/tickets/{number}?panels=true`` (``panels``) and the
    console's ticket page; must be quick and must only read.

    :param ticket: the ticket shown.
    :param staff: the ``Staff`` viewing it (check roles before showing
        restricted data).
    :return: a dict ``{"key": str, "title": str, "data": JSON-able}``, a list
        of such dicts, or None.
    """


@hookspec
def dashboard_charts(staff):
    """Add charts to the supervisor dashboard (``/console/dashboard``).

    Called each time the dashboard is shown, for supervisors and admins;
    must only read, and should be quick (aggregate in SQL, or read a report
    your plugin already keeps). The core draws each chart as server-side
    SVG with a data table under it; a chart whose spec cannot be drawn is
    left out.

    :param staff: the ``Staff`` viewing the dashboard (check roles before
        showing restricted figures).
    :return: a chart spec, a list of them, or None. A spec is a dict
        ``{"key": str, "title": str, "kind": "bar"|"line"|"pareto",
        "labels": [str, ...], "series": [{"name": str, "values": [number
        or None, ...]}], "unit": str or None}``: one value per label in
        each series; ``pareto`` takes one series, sorted largest first with
        the running share drawn over it. Titles and labels are plain text
        (escaped when shown): translate them yourself if you like
        (``flask_babel.gettext`` works here, the page's language is set).
    """
