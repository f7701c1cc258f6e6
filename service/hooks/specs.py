"""The integrator contract: every hook of the core a kefu plugin may implement.

A plugin is a module or object with functions marked ``@service.hookimpl``
whose names match the specs below; it is found through the ``kefu``
entry-point group (see docs/plugins.md). Hooks are always called with keyword
arguments, and an implementation may accept any subset of them. Hooks that
only a plugin fires live in that plugin (``register_hookspecs``).

Each spec is marked with its kind (``kefu_kind``), and the kinds read in the
names too:

* NOTIFICATIONS (past tense: ``ticket_created``) tell plugins what happened,
  after the transaction that made the change committed; the return value is
  ignored. One that raises never loses or rolls back the ticket: the error is
  logged and written to the ticket's history, and the other plugins are
  still called.
* GUARDS (``guard_*``) are asked inside the use case before a change commits,
  by every path (API, console, mail, surveys, CLI, jobs, plugins): None, or a
  ``Refusal`` that stops the change (409 with the refusal's code; recorded on
  the ticket's history). One that raises is no objection (recorded as a
  plugin error) unless the plugin is named in ``GUARDS_FAIL_CLOSED``.
* OPENERS (``opening_*``) are asked before a new ticket is first saved and
  may change its fields and add internal notes; failures are recorded and
  skipped.
* STEPS (``merging_*``) are the plugins' part of a change that spans their
  own tables: called inside the use case's transaction, they WRITE there
  (through ``service.sdk.db``), and one that raises undoes the whole change
  (nothing is half done; the use case answers 409 naming the plugin).
* DECIDERS (nouns: ``sla_targets``) answer a question; the first non-None
  answer wins and the core ships a ``trylast`` default. One that raises or
  answers malformed is skipped and recorded.
* COLLECTORS (``register_*`` at start; ``*_panels``, ``*_charts``, ``*_kpis``,
  ``*_columns`` on reads) gather every plugin's part. A start-up collector
  that fails stops kefu naming the plugin; a read collector that fails shows
  a placeholder instead of its part.

Guards, openers and deciders run inside the use case's transaction: they
must only read (through ``service.sdk.db``), and their queries are rolled
back to a savepoint if they fail. Hookwrappers are refused at registration:
kefu calls implementations one by one, so that each failure stays its own.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

from service.hooks.types import (
    AdminPage,
    ChartSpec,
    ConsoleLink,
    CustomerListColumn,
    CustomerSection,
    DemoPeriod,
    JobDeclaration,
    Kpi,
    MergeMoved,
    Opening,
    Refusal,
    RemedyDecision,
    ReportColumn,
    ReportPeriod,
    SlaTargets,
    TicketChange,
    TicketCodes,
    TicketDraft,
    TicketPanel,
    TrackingPanel,
)

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from marshmallow import Schema

    from service.domain.actors import Actor
    from service.models import Customer, Message, Staff, Ticket

hookspec = pluggy.HookspecMarker("kefu")

KINDS = ("notification", "guard", "opener", "step", "decider", "collector")


def _marked(kind: str, doc: str, **options):
    def mark(fn):
        fn.kefu_kind = kind
        return hookspec(**options)(fn)

    mark.__name__, mark.__doc__ = kind, doc
    return mark


notification = _marked("notification", """Mark a hook spec as a notification: fired after the
commit (``UnitOfWork.emit``), return ignored, each implementation's failure
recorded on the ticket's history.""")
guard = _marked("guard", """Mark a hook spec as a guard: asked before a change commits;
None, or a ``Refusal`` that stops it.""")
opener = _marked("opener", """Mark a hook spec as an opener: asked before a new ticket's
first save; answers changes and notes.""")
step = _marked("step", """Mark a hook spec as a step: called inside the use case's
transaction, may write; one that raises rolls the whole change back.""")
decider = _marked("decider", """Mark a hook spec as a decider: the first non-None answer
wins (``service.sdk.ask``).""", firstresult=True)
collector = _marked("collector", """Mark a hook spec as a collector: every plugin's part is
gathered.""")


# --------------------------------------------------------------------------
# NOTIFICATIONS: after commit, return ignored, failures isolated and recorded.
# --------------------------------------------------------------------------


@notification
def ticket_created(ticket: Ticket, actor: Actor) -> None:
    """A ticket was opened (listen): from the public form, e-mail, API, a
    follow-up, or a plugin through the SDK.

    :param ticket: the committed ``Ticket`` (number, status ``new``,
        customer, due times set, openers' changes applied).
    :param actor: ``Actor`` who opened it (a customer, staff, or a plugin;
        for a follow-up, whoever rejected or reopened after the window).
    :return: ignored.
    """


@notification
def ticket_transitioned(ticket: Ticket, action: str, from_status: str, to_status: str, actor: Actor,
                        details: dict) -> None:
    """A ticket moved through the workflow (confirm, start, wait, resolve,
    reopen, close, cancel, customer_reply).

    :param ticket: the committed ticket, already in ``to_status``.
    :param action: the workflow action name.
    :param from_status: status before the action.
    :param to_status: status after it.
    :param actor: who did it (staff, customer, a plugin, or the system for
        automatic closes).
    :param details: dict of what the action carried (``department``,
        ``resolution``, ``reason``, ...).
    :return: ignored.
    """


@notification
def ticket_updated(ticket: Ticket, changes: dict, actor: Actor) -> None:
    """Fields of a ticket were edited (priority, category, department,
    assignee, tags), a remedy was decided, or the ticket moved to another
    customer record (a customer merge).

    :param ticket: the committed ticket.
    :param changes: dict ``{field: [old, new]}`` of what changed, with codes
        for category and department, staff ids for the assignee and customer
        ids for ``customer`` (the duplicate's, the kept record's).
    :param actor: the staff member or plugin who edited it.
    :return: ignored.
    """


@notification
def message_added(ticket: Ticket, message: Message, actor: Actor) -> None:
    """A public reply or an internal note was added to a ticket.

    :param ticket: the committed ticket.
    :param message: the committed ``Message``; check ``message.internal``
        before showing it to a customer.
    :param actor: the author (staff, customer or a plugin).
    :return: ignored.
    """


@notification
def resolution_answered(ticket: Ticket, accepted: bool, reason: str | None, followup: Ticket | None,
                        actor: Actor) -> None:
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


@notification
def event_published(event: str, ticket: Ticket | None, data: dict, occurred_at: datetime) -> None:
    """An event in kefu's event vocabulary happened (what webhooks deliver).

    The core publishes ``ticket.created``, ``ticket.transitioned``,
    ``ticket.updated``, ``message.added`` (public messages only) and
    ``resolution.answered``; plugins publish their own through
    ``service.sdk.UnitOfWork.publish`` (``sla.breached``, ``survey.answered``,
    ...). Fired after the commit that made it, after the notification hooks
    of the same change.

    :param event: a ``noun.verb`` name, e.g. ``ticket.created``.
    :param ticket: the committed ticket it is about, or None for an event
        about no ticket (``customer.health_changed``, which carries
        ``customer_id`` in ``data``).
    :param data: the event's own JSON-able details (never customer contact
        data): ``{"action", "from", "to"}`` for a transition, ``{"changes"}``
        for an update, ``{"message"}``, ``{"accepted", "reason", "followup"}``,
        or what the publishing plugin documents.
    :param occurred_at: the aware UTC time of the commit.
    :return: ignored.
    """


# --------------------------------------------------------------------------
# GUARDS: asked before a change commits; None, or a Refusal that stops it.
# --------------------------------------------------------------------------


@guard
def guard_ticket_change(ticket: Ticket, change: TicketChange, actor: Actor) -> Refusal | None:
    """May this change be made? Asked before every workflow step and field
    change of a ticket commits, whatever made it.

    Stops at the first refusal. Runs inside the use case's transaction:
    read only. ``ticket`` is as it was before the change.

    :param ticket: the ticket about to change (its current status and fields).
    :param change: a ``TicketChange``: ``kind`` ``transition`` (``action``,
        ``from_status``, ``to_status``, ``details``) or ``update``
        (``fields`` ``{name: [old, new]}``).
    :param actor: who is making the change.
    :return: None for no objection, or a ``Refusal`` ``{"code": str,
        "message": str}``: the change is not made, the caller gets a 409 with
        that code and message (the console shows it on the page), and the
        refusal is recorded in the ticket's history with the plugin's name.
    """


# --------------------------------------------------------------------------
# OPENERS: asked before a new ticket's first save.
# --------------------------------------------------------------------------


@opener
def opening_ticket(draft: TicketDraft, actor: Actor) -> Opening | None:
    """Shape a new ticket before it is first saved: change its fields, add notes.

    Asked for every new ticket (form, e-mail, API, console, follow-ups,
    plugins), after the ``customer_tier`` decider and before the SLA,
    remedy and history are decided, so that they see the changes. Plugins
    are asked in order, each seeing the draft as the ones before left it.

    :param draft: a ``TicketDraft`` (customer, customer_tier, kind,
        category, channel, priority, subject, description, department,
        assignee, tags).
    :param actor: who is opening it.
    :return: None, or an ``Opening`` ``{"changes": {"priority", "category",
        "department", "assignee", "tags"}, "notes": [str, ...]}``; the changes
        are recorded in the history with the plugin's name, the notes become
        internal notes by the plugin. An unknown code or a malformed answer
        is recorded as a plugin error and ignored.
    """


# --------------------------------------------------------------------------
# STEPS: inside the transaction, may write; a failure undoes the whole change.
# --------------------------------------------------------------------------


@step
def merging_customers(kept: Customer, merged: Customer, actor: Actor) -> MergeMoved | list[MergeMoved] | None:
    """Move this plugin's rows of customer ``merged`` to customer ``kept``:
    two records of the same person become one.

    Called by ``service.usecases.merging.merge_customers`` (console and
    ``POST /api/v1/customers/{id}/merge``) inside its transaction, after the
    core moved the tickets and notes and before ``merged`` is marked merged
    (``merged_into_id``). Write with ``service.sdk.db`` (bulk ``update()``
    statements are best); never commit. Resolve your own conflicts (two rows
    where one is allowed) so that nothing is lost and say how in your docs.
    If you raise, the whole merge is rolled back (no half-merged customer)
    and answered with 409 naming your plugin. The console's confirmation
    page runs the same merge and rolls it back to show what would move, so
    the counts you answer must be the rows you moved.

    :param kept: the customer that stays and takes the rows.
    :param merged: the duplicate whose rows move (marked merged afterwards).
    :param actor: ``Actor`` who merges (a supervisor or admin).
    :return: a ``MergeMoved`` ``{"key", "label", "count"}`` per kind of row
        moved (label translated), a list of them, or None.
    """


# --------------------------------------------------------------------------
# DECIDERS: firstresult, core default trylast, read-only, failures fall through.
# --------------------------------------------------------------------------


@decider
def sla_targets(ticket: Ticket, customer: Customer, start: datetime) -> SlaTargets | None:
    """Decide a ticket's SLA due times when it is opened or re-prioritised.

    Stops at the first non-None result.

    :param ticket: the ticket (not yet inserted when opened: no ``id`` or
        ``number`` then); read its ``priority``, ``kind``, ``customer_tier``.
    :param customer: the ticket's customer.
    :param start: the aware UTC time the clock starts from (the ticket's
        creation, also when re-prioritised later).
    :return: ``SlaTargets`` ``{"policy": str, "first_response_due": datetime,
        "resolution_due": datetime}`` (aware datetimes; either due may be
        None for "no target"), or None to let the next plugin decide. The
        core default uses ``DEFAULT_SLA_MINUTES`` by priority, round the clock.
    """


@decider
def customer_tier(customer: Customer) -> str | None:
    """Decide a customer's value tier (e.g. ``A``/``B``/``C`` or ``vip``...).

    Stops at the first non-None result.

    :param customer: a ``Customer``.
    :return: a short tier code (str), or None to let the next plugin decide.
        The core default answers None: no tiers without a tier plugin, and
        the ticket's ``customer_tier`` stays empty.
    """


@decider
def remedy_approval(ticket: Ticket, customer: Customer) -> RemedyDecision | None:
    """Decide whether the remedy a customer requested may be granted.

    Called when a ticket with a requested remedy is opened. Stops at the
    first non-None result.

    :param ticket: the ticket; ``remedy_text``, ``remedy_amount_minor``
        (minor units) and ``remedy_currency`` describe the request.
    :param customer: the ticket's customer.
    :return: ``RemedyDecision`` ``{"decision": "approved"|"needs_approval"|"refused",
        "reason": str, "approver": "supervisor"|"finance"|None}``, or None
        to let the next plugin decide. ``approver`` (optional, only read for
        ``needs_approval``; default ``supervisor``) names who approves: it is
        stored on the ticket, and ``POST /api/v1/tickets/{number}/remedy``
        lets only that role (or an admin) approve or refuse. The reason is
        shown to every staff member who sees the ticket, agents included.
        The core default approves amounts up to ``DEFAULT_REMEDY_AUTO_APPROVE``
        and asks a supervisor for anything larger.
    """


@decider
def satisfaction_class(customer: Customer) -> str | None:
    """Decide a customer's satisfaction class (DOMAIN.md: ``loyal``,
    ``ordinary``, ``complaining``, ``lost``).

    Stops at the first non-None result. Asked whenever the staff API shows a
    customer; must only read.

    :param customer: a ``Customer``.
    :return: a short class name (str), or None to let the next plugin
        decide. The core default answers None: no classes without a plugin
        that derives them (the builtin ``satisfaction_survey`` does, from
        survey answers and complaint history).
    """


@decider
def code_label(group: str, code: str) -> str | None:
    """Name, in the reader's language, a code of yours that the core shows.

    The core shows some values as they are stored: a ticket's or customer's
    tier (group ``"tier"``), the name of the plugin that wrote a history
    event or a note (``"plugin"``), the actions and detail keys of the
    events your plugin records (``"action"``, ``"field"``) and their values
    (the detail's key as the group: ``"policy"`` for a ``policy`` detail).
    It names its own codes itself; for any other it asks this decider, once
    per group and code per request, so it must be quick and only read.

    :param group: what kind of code it is (see above).
    :param code: the code as stored (``"vip"``, ``"tier_sla"``,
        ``"tier_sla:v3:vip:business"``).
    :return: the text to show (translate it: ``flask_babel.gettext`` works
        here), or None when the code is not yours. The core default answers
        None, and the code is then shown with its underscores as spaces.
    """


# --------------------------------------------------------------------------
# COLLECTORS at start: every plugin's part; a failure stops kefu naming the plugin.
# --------------------------------------------------------------------------


@collector
def register_hookspecs() -> Any:
    """Declare hooks that this plugin fires or asks (its own contract).

    Gathered when the plugin manager is built, before implementations are
    checked against the specs, so other plugins may implement them. Mark
    the specs with ``service.sdk.notification`` (fire them with
    ``UnitOfWork.emit``) or ``service.sdk.decider`` (ask them with
    ``service.sdk.ask``).

    :return: a module or class holding the specs (or None).
    """


@collector
def register_settings() -> type[Schema] | Schema | None:
    """Declare this plugin's settings, with their defaults and validation.

    Called at start inside an app context; kefu loads the plugin's keys
    from its settings (``config`` files, ``KEFU_SETTINGS``, ``KEFU_<KEY>``
    variables, a test's overrides) through the schema, and refuses to start
    when one is wrong, naming the plugin and the key. Read them with
    ``service.sdk.plugin_settings(name)``.

    :return: a marshmallow ``Schema`` (class or instance) whose fields are
        the setting names (UPPER_CASE, prefixed with the plugin's name or
        topic), each with ``load_default`` and its validation; a
        ``post_load`` may build a typed settings object. Or None.
    """


@collector
def register_ticket_codes() -> TicketCodes | None:
    """Add ticket kinds and channels of this plugin's own to the core's.

    The core's kinds are ``complaint``, ``service_request``, ``inquiry`` and
    ``suggestion``, its channels ``web``, ``email``, ``phone``, ``api``,
    ``walk_in``, ``fax`` and ``chat``: what customers file or call through. A plugin that opens tickets of another
    sort (a care call the team starts: kind ``care``, channel ``outbound``)
    declares them here. Called at start, after ``register_settings``. The
    staff API (``POST /api/v1/tickets``, the ``kind`` filter of the list),
    the console's queue filter and ``service.sdk.open_ticket`` then accept
    them; the customers' own forms keep the core's kinds. Name them in both
    languages with ``code_label`` (groups ``"kind"`` and ``"channel"``),
    else they are shown as stored.

    :return: a ``TicketCodes`` ``{"kinds": [str, ...], "channels": [str,
        ...]}`` (either may be left out), or None. A code that is not
        snake_case, too long for its column (kind 20, channel 10
        characters), one of the core's, or another plugin's stops kefu at
        start, naming the plugin.
    """


@collector
def register_migrations() -> str | None:
    """Declare where this plugin's Alembic migrations are (its own tables).

    Called at start inside an app context. ``kefu db upgrade`` applies the
    migrations of every enabled plugin after the core's. Import your models
    module inside the implementation, so that Alembic and the schema tests
    see your tables.

    :return: the directory holding the plugin's revision files (one branch:
        the first revision has ``branch_labels = ("<plugin name>",)``,
        ``down_revision = None`` and ``depends_on`` the core revision whose
        tables it refers to), or None.
    """


@collector
def register_blueprints(app: Flask) -> list[Blueprint] | None:
    """Add Flask blueprints (pages or API routes) to the app.

    Called once by ``create_app`` after the core blueprints, inside an app
    context (so settings and the database can be read).

    :param app: the Flask app being built.
    :return: a list of blueprints (or None). A ``flask_smorest.Blueprint``
        joins kefu's API and its OpenAPI document; a plain ``flask.Blueprint``
        is registered as is. Staff routes check roles with
        ``service.sdk.require_role``.
    """


@collector
def register_jobs(app: Flask) -> list[JobDeclaration] | None:
    """Declare background jobs, periodic ones as data.

    Gathered once at start, inside an app context; a malformed entry or a
    name declared twice stops kefu naming the plugin.

    :param app: the Flask app.
    :return: a list of ``JobDeclaration`` dicts (or None): ``name`` (unique,
        e.g. ``"acme.export"``), ``func`` (``"module:function"``), ``queue``
        (``default``, ``mail``, or one of the plugin's own), optional
        ``interval`` (seconds: periodic, run once per period however many
        workers run; ``JOB_INTERVALS`` overrides), ``retries`` (default
        ``JOB_RETRIES``), ``timeout`` (seconds, default 300) and ``kwargs``
        (for periodic runs). Job functions take ids, never ORM objects; they
        run in an app context with a fresh session and may run twice, so
        side effects go through ``service.sdk.effect_once``. Queue one with
        ``service.sdk.enqueue(name, **kwargs)``.
    """


@collector
def register_cli(cli: click.Group) -> list[click.Command] | None:
    """Add commands to the ``kefu`` command line.

    Called at start inside an app context.

    :param cli: the ``kefu`` click group; call ``cli.add_command(...)``, or
        return the commands.
    :return: a list of ``click.Command`` objects (or None).
    """


@collector
def demo_data(app: Flask, demo: DemoPeriod) -> list[str] | None:
    """Add this plugin's part of the demo (``kefu demo`` / ``make run``).

    Called on a fresh database. An implementation that takes ``demo`` is
    called twice: at ``demo.stage == "customers"`` (departments, staff and
    customers are committed, no ticket yet; the clock is the real time) and
    at ``"history"`` (the core's tickets are committed); one that takes
    only ``app`` is called once, at ``"history"``. For the ``full`` demo,
    make the past happen at its time inside ``demo.at(when)`` (every use
    case reads the moved clock) and draw choices from
    ``demo.random(name)``. Write through the SDK's use cases and units of
    work; jobs asked for meanwhile (mail too) never run: the outbox is off
    and they are dropped at the end. A failure here stops ``kefu demo``.

    :param app: the Flask app (an app context is active).
    :param demo: the ``DemoPeriod``: ``size`` (``small``/``full``),
        ``stage``, ``start``, ``end``, ``seed``, ``random(name)``, ``at(when)``.
    :return: a list of short lines describing what was added (printed by
        ``kefu demo``), or None.
    """


# --------------------------------------------------------------------------
# COLLECTORS on reads: a failing part shows as a placeholder, never a 500.
# --------------------------------------------------------------------------


@collector
def customer_columns(purpose: str) -> dict[str, Any] | None:
    """Add values to the core's read of a customer, so that a decider need
    not query for them.

    The core reads a customer by id when opening a ticket for a known
    customer (purpose ``"ticket"``: ``sla_targets``, ``customer_tier`` and
    ``remedy_approval`` will be asked) and when showing customers to staff
    (purpose ``"show"``: ``GET /api/v1/customers/{id}`` and the customer
    list; ``customer_tier`` and ``satisfaction_class`` will be asked) and
    for the customer's profile page in the console (purpose ``"profile"``:
    ``customer_sections`` will be asked, so a section can show what was
    read here instead of querying on every view). It
    selects these expressions in the same SELECT and keeps the values with
    the customer for the rest of the transaction. Read them with
    ``service.sdk.preloaded(customer, name)``; it answers
    ``service.sdk.NOT_LOADED`` when the customer was read another way (found
    by a contact's e-mail, loaded through a ticket, or in an earlier
    transaction), so query as usual then. Gathered when the app first reads
    a customer; a plugin whose columns fail is left out of the read (and
    recorded on the admin plugins page).

    :param purpose: ``"ticket"``, ``"show"`` or ``"profile"``
        (``service.sdk.OPENING``, ``SHOWING``, ``PROFILE``). Return only what that read needs: every column is
        computed on every such read, needed or not.
    :return: a dict ``{name: SQL expression}`` (or None). Each expression is
        a scalar correlated to the ``customers`` table, typically
        ``select(t.c.x).where(t.c.customer_id == Customer.id).scalar_subquery()``;
        names must be unique across plugins (prefix them with your plugin's
        name).
    """


@collector
def customer_list_columns(staff: Staff) -> CustomerListColumn | list[CustomerListColumn] | None:
    """Add columns to the console's customer list (``/console/customers``),
    to show, filter and sort on.

    Called once per list page; must be quick and must only read. Each
    column's ``expression`` is selected in the list's one query (so it costs
    per page, not per row) and, when filtered or sorted on, evaluated for
    every customer: keep it an indexed lookup. A plugin that raises or
    answers malformed is left out of the page (and recorded on the admin
    plugins page); the list still renders.

    :param staff: the ``Staff`` viewing the list. Answer nothing for a role
        that may not see the values (credit grades are for finance,
        supervisors and admins): a filter on a column not given is ignored.
    :return: a ``CustomerListColumn`` ``{"key", "label", "expression",
        "choices": [{"value", "label"}], "sortable", "kind"}`` (key prefixed
        with the plugin's name), a list of them, or None.
    """


@collector
def ticket_panels(ticket: Ticket, staff: Staff) -> TicketPanel | list[TicketPanel] | None:
    """Add panels to the agent's view of a ticket.

    Called for ``GET /api/v1/tickets/{number}?panels=true`` (``panels``) and the
    console's ticket page; must be quick and must only read. A panel that
    raises or is malformed shows as "plugin NAME could not show this".

    :param ticket: the ticket shown.
    :param staff: the ``Staff`` viewing it (check roles before showing
        restricted data).
    :return: a ``TicketPanel`` ``{"key": str, "title": str, "rows": [PanelRow,
        ...]}`` (or ``"data"``: any JSON), a list of them, or None.
    """


@collector
def customer_sections(customer: Customer, staff: Staff) -> CustomerSection | list[CustomerSection] | None:
    """Add sections to the console's customer profile (customer 360).

    Called each time a customer's profile (``/console/customers/{id}``) is
    shown to staff; must be quick and must only read. A section that raises
    or is malformed shows as "plugin NAME could not show this"; the profile
    still renders.

    :param customer: the customer shown.
    :param staff: the ``Staff`` viewing it (check roles before showing
        restricted data: credit figures are for finance, supervisors and
        admins).
    :return: a ``CustomerSection`` ``{"key": str, "title": str, "rows":
        [PanelRow, ...]}`` (or ``"data"``: any JSON), drawn like a ticket
        panel; a list of them, or None.
    """


@collector
def admin_pages(staff: Staff) -> AdminPage | list[AdminPage] | None:
    """List the admin pages a plugin serves (from its own blueprint, see
    ``register_blueprints``) on the console's admin index and navigation.

    Called each time an admin page is shown, for admins only; must be quick.
    A plugin whose answer raises or is malformed is left out of the list
    (and recorded on the admin plugins page).

    :param staff: the admin viewing the page.
    :return: an ``AdminPage`` ``{"key": str, "title": str, "url": str,
        "summary": str or None}`` (``url`` a path on this site, title and
        summary translated), a list of them, or None.
    """


@collector
def console_links(staff: Staff) -> ConsoleLink | list[ConsoleLink] | None:
    """Add links to the console's main navigation for the signed-in staff
    member: a page a plugin serves to agents or supervisors (from its own
    blueprint, ``sdk.console_page``), with a count that asks for attention
    (unread notices, say) shown beside it.

    Called on every console page, so it must be quick: answer from what is
    at hand or with one indexed read (``sdk.read``), and answer None for
    staff it has nothing for. A plugin whose answer raises or is malformed
    is left out of the navigation (and recorded on the admin plugins page).

    :param staff: the staff member signed in to the console.
    :return: a ``ConsoleLink`` ``{"key": str, "label": str, "url": str,
        "count": int (optional, shown when above 0)}`` (``url`` a path on
        this site, ``label`` translated), a list of them, or None.
    """


@collector
def tracking_panels(ticket: Ticket) -> TrackingPanel | list[TrackingPanel] | None:
    """Add panels to the customer's own view of a ticket.

    Called for ``GET /api/v1/public/tickets/{token}`` (``panels``) and the
    web tracking page, i.e. for the ticket's customer, never for staff; must
    be quick and must only read. Never put staff-only data here (credit,
    tiers, internal notes): whatever is returned is shown to the customer.
    A panel that raises is left out (and recorded on the admin plugins page).

    :param ticket: the ticket the customer's token opens.
    :return: a ``TrackingPanel`` ``{"key": str, "title": str, "text": str,
        "url": str or None, "url_label": str or None}`` (plain text, escaped
        when shown; the url is shown as one button or link), a list of
        them, or None.
    """


@collector
def dashboard_charts(staff: Staff, period: ReportPeriod) -> ChartSpec | list[ChartSpec] | None:
    """Add charts to the supervisor dashboard (``/console/dashboard``).

    Called each time the dashboard is shown (and when one of its tables is
    exported as CSV), for supervisors and admins; must only read, and should
    be quick (aggregate in SQL over day buckets, or read a report your
    plugin already keeps). The core draws each chart as server-side SVG
    with a data table under it. A chart that raises or cannot be drawn shows
    as "plugin NAME could not show this".

    :param staff: the ``Staff`` viewing the dashboard (check roles before
        showing restricted figures).
    :param period: the ``ReportPeriod`` the supervisor picked (``start``,
        ``end``, ``since``, ``until``, ``previous``, ``weeks``,
        ``week_of``): count over it, and show ``period.previous`` as a
        second series to compare with. Implementations written before it
        may leave it out (an implementation takes any subset of arguments).
    :return: a ``ChartSpec`` ``{"key": str, "title": str, "kind":
        "bar"|"line"|"pareto", "labels": [str, ...], "series": [{"name": str,
        "values": [number or None, ...]}], "unit": str or None, "links":
        [str or None, ...], "label_title": str, "value_title": str}`` (the
        last four optional), a list of them, or None: one value per label in
        each series; ``links`` one path on this site per label (where the
        bar or point leads, e.g. the queue filtered to its tickets);
        ``pareto`` sorts the first series largest first and draws its
        running share. Titles and labels are plain text (escaped when
        shown): translate them yourself (``flask_babel.gettext`` works here).
    """


@collector
def dashboard_kpis(staff: Staff, period: ReportPeriod) -> Kpi | list[Kpi] | None:
    """Add figures to the tiles at the top of the supervisor dashboard.

    Called with ``dashboard_charts`` (same rules: supervisors and admins,
    reads only, quick). A tile that raises or is malformed is left out and
    recorded on the admin plugins page.

    :param staff: the ``Staff`` viewing the dashboard.
    :param period: the ``ReportPeriod`` shown; give the figure over it and
        over ``period.previous``.
    :return: a ``Kpi`` ``{"key": str, "label": str, "value": number or None,
        "previous": number or None, "unit": str or None, "better": "up" or
        "down" or None}`` (label translated; None where nothing was
        counted), a list of them, or None.
    """


@collector
def report_columns(staff: Staff, period: ReportPeriod, by: str) -> ReportColumn | list[ReportColumn] | None:
    """Add columns to the per-agent and per-department reports of the dashboard.

    The core's report counts, per agent (the assignee) or department, the
    tickets resolved in the period and their reopen rate; plugins add what
    they know (business-time durations, satisfaction). Called when the
    reports are shown or exported, for supervisors and admins; reads only.
    A column that raises or is malformed is left out (and recorded).

    :param staff: the ``Staff`` viewing the report.
    :param period: the ``ReportPeriod`` shown (count tickets resolved in it).
    :param by: ``"agent"`` or ``"department"``.
    :return: a ``ReportColumn`` ``{"key": str, "label": str, "values":
        {group: number or None}, "unit": str or None}`` where ``group`` is
        the staff id or department id as a string (``""`` for none), a list
        of them, or None.
    """
