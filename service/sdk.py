"""``service.sdk``: everything a kefu plugin may use, and nothing else.

A plugin imports ``service`` (for ``hookimpl``) and this module; anything
else in ``service`` is private and may change between releases. What is
here is documented in docs/plugins.md ("The SDK") and covered by
tests/sdk. In short:

* **Reading**: ``get_ticket``, ``find_ticket``, ``get_customer``,
  ``get_staff``, the models to query (``Ticket``, ``Customer``, ``Staff``,
  ``Department``, ``Category``, ``Message``, ``TicketEvent``: read them,
  never write them) and ``db`` for queries of your own.
* **Language**: ``gettext``, ``pgettext``, ``ngettext`` and their
  ``lazy_`` forms translate in the language in force (the page's, the
  mail's), as Flask-Babel's do, only faster; ``read`` runs a Core select
  past the ORM (for sections and columns drawn on every page).
* **Writing through the core's use cases**, as a person would: every
  change raises the ticket's version, is recorded in its history under your
  plugin's name, re-targets the SLA on a priority change, asks the guards,
  fires the notifications and webhooks, and answers 409 on a stale version:
  ``update_ticket``, ``transition``, ``add_note``, ``reply``,
  ``record_event``, ``open_ticket``, ``answer_resolution``, ``refresh_sla``.
* **Your own tables**: declare models on ``Model`` (columns of type
  ``UTCDateTime`` for times), ship migrations (``register_migrations``),
  and write them inside a ``UnitOfWork``: it commits, relays the jobs you
  enqueued and fires what you emitted or published, after the commit.
  ``hold_customer`` first when your rows refer to a customer; ``add_once``
  for a row two writers may create at once.
* **Jobs and events**: ``enqueue`` (once per ``dedupe_key``),
  ``effect_once``, ``publish`` through ``UnitOfWork.publish``, ``ask``
  (a decider your plugin declares), ``collect`` (a collector it
  declares), ``alert_staff``, ``send_mail``; ``notify_staff`` tells the
  people who answer for a ticket (the bell in the console, and mail per
  their preference), with ``NOTICE_KINDS``.
* **Routes**: ``require_role``, ``current_staff``, ``authenticate``,
  ``read_only``, ``public_rate_limit``; console pages (an admin page of
  your plugin): ``console_page``, ``require_console_role``, ``console_staff``; the errors and ``ErrorSchema``,
  ``filled`` and ``NotBlank`` for text fields of your schemas.
* **Settings**: ``plugin_settings(name)`` (declared with ``register_settings``).
* **Markers and shapes** for your own hook specs and answers.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from service import hookimpl
from service.api.errors import ErrorSchema
from service.api.text import NotBlank, filled
from service.domain.actors import SYSTEM, Actor
from service.domain.errors import (
    Conflict,
    Forbidden,
    KefuError,
    NotFound,
    Refused,
    StaleVersion,
    Unauthorized,
    ValidationFailed,
)
from service.domain.workflow import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    STATUSES,
    reopen_is_late,
)
from service.extensions import db
from service.extensions import limiter as _limiter
from service.hooks import plugins as _plugins
from service.hooks import ticket_codes as _ticket_codes
from service.hooks.isolation import core_connection as _core_connection
from service.hooks.manager import FAILED as _FAILED
from service.hooks.plugin_settings import settings_of as plugin_settings
from service.hooks.specs import collector, decider, notification, step
from service.hooks.types import (
    AdminPage,
    ChartSeries,
    ChartSpec,
    ColumnChoice,
    ConsoleLink,
    CustomerListColumn,
    CustomerSection,
    DemoPeriod,
    JobDeclaration,
    Kpi,
    MergeMoved,
    Opening,
    OpeningChanges,
    PanelRow,
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
from service.hooks.types import check as _check
from service.jobs import registry as _jobs
from service.jobs.effects import EffectBusy, effect_once
from service.links import customer_links, external_url, tracking_url
from service.mail.outgoing import compose as _compose
from service.mail.outgoing import notices as _notices
from service.mail.outgoing.send import deliver as _deliver
from service.models import (
    CHANNELS,
    KINDS,
    PRIORITIES,
    Category,
    Customer,
    Department,
    Message,
    Staff,
    Ticket,
    TicketEvent,
)
from service.models.base import UTCDateTime, utcnow
from service.models.notification import NOTICE_KINDS as _NOTICE_KINDS
from service.models.ticket import format_number as _format_number
from service.reads import listing as _listing
from service.reads import lookup as _lookup
from service.reads.lookup import NOT_LOADED, OPENING, PROFILE, SHOWING, preloaded
from service.reads.read_only import read_only
from service.translate import gettext, lazy_gettext, lazy_pgettext, ngettext, pgettext
from service.usecases import decisions as _decisions
from service.usecases import history as _history
from service.usecases import messages as _messages
from service.usecases import notifications as _notifications
from service.usecases import opening as _opening
from service.usecases import tickets as _tickets
from service.usecases.auth import authenticate, current_staff, require_role
from service.usecases.events import CORE_EVENTS
from service.usecases.holds import add_once, hold_customer
from service.usecases.uow import UnitOfWork
from service.usecases.uow import active_unit as _active_unit
from service.web.csv_export import download as csv_download

Model = db.Model
"""The declarative base for a plugin's own tables (``class Thing(sdk.Model)``)."""

# --------------------------------------------------------------------------- who


def plugin_actor(name: str) -> Actor:
    """The actor for changes your plugin makes: its ``name`` is what the
    ticket's history, the notifications and the console show."""
    return Actor("plugin", name=name)


# --------------------------------------------------------------------------- reading


def get_ticket(number: str) -> Ticket:
    """The ticket numbered ``number`` (e.g. ``KF-000123``), its customer,
    category, department and assignee loaded with it; ``NotFound`` (404) when
    there is none."""
    return _lookup.ticket_by_number(number)


def find_ticket(number: str) -> Ticket | None:
    """As ``get_ticket``, but None when there is no such ticket."""
    try:
        return _lookup.ticket_by_number(number)
    except NotFound:
        return None


def get_customer(customer_id: int, field: str | None = None) -> Customer:
    """The customer with id ``customer_id``; ``NotFound`` (404) when there is
    none, or 422 naming ``field`` when given (the id came in a request body)."""
    return _lookup.customer_by_id(customer_id, field=field)


def get_staff(staff_id: int) -> Staff:
    """The staff member with id ``staff_id`` (active or not); ``NotFound`` (404)."""
    staff = db.session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member {staff_id}")
    return staff


def ticket_messages(ticket: Ticket, include_internal: bool = True) -> list[Message]:
    """The ticket's messages, oldest first; internal notes only with ``include_internal``."""
    return list(_listing.ticket_messages(ticket, include_internal=include_internal))


# --------------------------------------------------------------------------- writing through the use cases


def ticket_number(ticket_id: int) -> str:
    """The number people see for ticket ``ticket_id`` (``KF-000123`` under
    the configured prefix): what ``Ticket.number`` is, for a plugin that read
    the id alone."""
    return _format_number(ticket_id)


def read(statement, params: dict | None = None):
    """Run a Core ``select`` of columns (not ORM objects) and return its
    ``Result``: in the session's transaction, past the ORM's per-statement
    set-up (about 30 us a statement, a fair share of a page's plugin
    section). Inside an isolated plugin call the savepoint opens first, as
    ``db.session.execute`` would. Contract: a read; the session's pending
    changes are not flushed first."""
    return _core_connection(db.session).execute(statement, params or {})


def _ticket(ticket: Ticket | str) -> Ticket:
    return _lookup.ticket_by_number(ticket) if isinstance(ticket, str) else ticket


def update_ticket(ticket: Ticket | str, changes: dict, actor: Actor, version: int | None = None) -> Ticket:
    """Change ``priority``, ``category`` (code), ``department`` (code or None),
    ``assignee`` (staff id or None) or ``tags`` (list of short texts) of a
    ticket (a ``Ticket`` or its number), as ``actor`` (``plugin_actor``).

    Exactly as a person's edit: the guards are asked, the version is raised,
    the history records ``{field: [old, new]}`` under the actor's name, a
    priority change re-targets the SLA, ``ticket_updated`` and the
    ``ticket.updated`` event fire after the commit. ``version``: the version
    you read (default: the one of the ticket you hold); 409 ``StaleVersion``
    when someone changed it since; 409 ``Refused`` when a guard refuses; 422
    for an unknown code; 409 for a closed ticket. Inside a ``UnitOfWork`` it
    joins it; otherwise it is its own transaction.
    """
    ticket = _ticket(ticket)
    return _tickets.update_ticket(ticket, ticket.version if version is None else version, changes, actor)


def transition(ticket: Ticket | str, action: str, actor: Actor, version: int | None = None,
               **values) -> tuple[Ticket, Ticket | None]:
    """Move a ticket through the workflow (``confirm`` with ``department``,
    ``start``, ``wait``, ``resolve`` with ``resolution``, ``reopen`` or
    ``cancel`` with ``reason``, ``close``) as ``actor``; returns ``(ticket,
    follow-up or None)``. A plugin acts with the rights of an admin.

    As a person's step: guards, history, notifications and mail to the
    customer, the SLA clock. 409 ``IllegalTransition`` / ``StaleVersion`` /
    ``Refused``, 422 for a missing field.
    """
    ticket = _ticket(ticket)
    return _tickets.transition(ticket, action, ticket.version if version is None else version, values,
                               Actor(actor.type, actor.id, actor.name, actor.role or "admin"))


def add_note(ticket: Ticket | str, body: str, actor: Actor) -> Message:
    """Add an internal note (staff only, never shown to the customer) by
    ``actor``; ``message_added`` fires after the commit. 422 for a blank body."""
    return _messages.add_message(_ticket(ticket), body, actor, internal=True)


def reply(ticket: Ticket | str, body: str, actor: Actor) -> Message:
    """Add a public reply by ``actor``: the customer sees it on the tracking
    page and gets it by mail, and the ``message.added`` event is published."""
    return _messages.add_message(_ticket(ticket), body, actor, internal=False)


def record_event(ticket: Ticket, actor: Actor, action: str, **details) -> None:
    """Add an event of your plugin's own kind to the ticket's history
    (``action``: a short snake_case name, e.g. ``survey_answered``;
    ``details``: JSON-able). Must be called inside a ``UnitOfWork``: the
    event is written when it commits, and dropped if it rolls back."""
    if _active_unit() is None:
        raise RuntimeError("record_event must be called inside a UnitOfWork")
    if not isinstance(action, str) or not action or len(action) > 40:
        raise ValueError("a history action is a name of 1 to 40 characters")
    _history.record(ticket, actor, action, **details)


def open_ticket(data: dict, actor: Actor, channel: str = "api") -> tuple[Ticket, str | None]:
    """Open a ticket as ``actor``; returns it with the customer's tracking
    token. ``data`` as the API's: ``subject``, ``description``, ``kind``,
    ``category``, ``priority``, ``department``, ``assignee``, ``tags``,
    ``remedy``, and ``customer_id`` or ``contact``. Openers, deciders,
    history, ``ticket_created`` and the customer's receipt mail as for any
    new ticket. Joins the current ``UnitOfWork`` if there is one. ``kind``
    and ``channel`` must be in force (``ticket_kinds``, ``ticket_channels``:
    the core's, or those a plugin declared with ``register_ticket_codes``),
    else 422 naming the field."""
    kind = data.get("kind") or "complaint"
    if kind not in _ticket_codes.kinds():
        raise ValidationFailed(f"unknown ticket kind {kind!r}", {"kind": [f"one of {', '.join(_ticket_codes.kinds())}"]})
    if channel not in _ticket_codes.channels():
        raise ValidationFailed(f"unknown channel {channel!r}",
                               {"channel": [f"one of {', '.join(_ticket_codes.channels())}"]})
    with UnitOfWork() as uow:
        customer = (_lookup.customer_by_id(data["customer_id"], field="customer_id", preload=OPENING)
                    if data.get("customer_id") is not None else None)
        if customer is None:
            from service.usecases.customers import customer_for_contact

            customer = customer_for_contact(data.get("contact") or {})
        ticket, token = _opening.create(data, actor, channel, customer, uow=uow)
        uow.commit()
    return ticket, token


def ticket_kinds() -> tuple[str, ...]:
    """Every ticket kind in force: the core's ``KINDS``, then those plugins
    declared (``register_ticket_codes``)."""
    return _ticket_codes.kinds()


def ticket_channels() -> tuple[str, ...]:
    """Every channel in force: the core's ``CHANNELS``, then those plugins declared."""
    return _ticket_codes.channels()


def followup_subject(ticket: Ticket) -> str:
    """The subject kefu gives a follow-up to ``ticket`` (a reopen past the
    window does the same): "Follow-up to <number>: <the case's subject>",
    never a chain of them. For your own follow-ups (``open_ticket`` with
    ``parent``)."""
    from service.usecases.tickets import followup_subject as subject

    return subject(ticket)


def answer_resolution(ticket: Ticket, accepted: bool, reason: str | None, actor: Actor) -> Ticket | None:
    """Accept (close) or reject (reopen, or past the reopen window a
    follow-up) a resolution on the customer's behalf - the customer's own
    feed-back step. Returns the follow-up ticket, if one was opened (its
    ``new_token`` is the customer's link). 409 unless resolved."""
    return _tickets.answer_resolution(ticket, accepted, reason, actor)


def refresh_sla(ticket_id: int, reason: str, retier: bool = False) -> Ticket | None:
    """Ask ``sla_targets`` again (and with ``retier`` ``customer_tier``) for a
    ticket whose clock your SLA plugin changed; the version is not raised
    (due times are the SLA's bookkeeping). See ``service.usecases.decisions``."""
    return _decisions.refresh_sla(ticket_id, reason, retier)


# --------------------------------------------------------------------------- jobs, events, mail


def enqueue(name: str, *, dedupe_key: str | None = None, delay: timedelta | None = None,
            run_at: datetime | None = None, **kwargs):
    """Ask for job ``name`` (declared with ``register_jobs``) with JSON
    ``kwargs`` (ids, never objects), to run after the current transaction
    commits; a rolled-back change runs nothing. ``dedupe_key``: the same key
    again (now or later) is the same job. ``delay`` / ``run_at``: not before
    then. Inside a ``UnitOfWork`` the job is relayed when it commits."""
    return _jobs.enqueue(name, dedupe_key=dedupe_key, delay=delay, run_at=run_at, **kwargs)


def ask(hook: str, *, shape=None, validate=None, **kwargs):
    """Ask a decider (one your plugin declared with ``register_hookspecs``):
    ``(answer, plugin name, failures)``; the first non-None answer wins.
    Implementations that raise are skipped and listed in ``failures`` as
    ``(plugin name, exception)``, and so are those whose answer is not a
    ``shape`` (a TypedDict) or that ``validate(answer)`` rejects by raising
    ``ValueError``: the next one is asked."""
    checks = [c for c in ((lambda a: _check(a, shape)) if shape is not None else None, validate) if c is not None]

    def _validate(answer):
        for one in checks:
            one(answer)

    return _plugins().decide(hook, validate=_validate if checks else None, **kwargs)


def collect(hook: str, *, check_item=None, **kwargs) -> tuple[list[tuple[str, object]], list[str]]:
    """Gather the answers of a collector your plugin declared (with
    ``register_hookspecs``): ``([(plugin name, item), ...], [plugin names
    that failed])``, each implementation's list flattened. An implementation
    that raises, or an item that ``check_item(item)`` rejects by raising, is
    left out (logged and counted as the plugin's failure) and its plugin
    listed once in the second part; the others still count."""
    items = _plugins().collect_isolated(hook, check_item=check_item, **kwargs)
    good = [(plugin, item) for plugin, item in items if item is not _FAILED]
    failed = list(dict.fromkeys(plugin for plugin, item in items if item is _FAILED))
    return good, failed


def alert_staff(staff_id: int, ticket: Ticket, kind: str, text: str, key: str) -> None:
    """Mail staff member ``staff_id`` about ``ticket`` (``kind`` in the subject,
    ``text`` the body), once per ``key``, after the current transaction commits."""
    _notices.alert_staff(staff_id, ticket, kind, text, key)


def alert_staff_many(alerts: list[dict]) -> None:
    """As ``alert_staff`` for many at once (dicts of ``staff_id``,
    ``ticket_id``, ``kind``, ``text``, ``key``): a few jobs, not one per alert."""
    _notices.alert_staff_many(alerts)


NOTICE_KINDS = _NOTICE_KINDS


def notify_staff(ticket: Ticket, kind: str, actor: Actor, also=(), detail: str | None = None) -> None:
    """Tell the staff who answer for ``ticket`` of ``kind`` (one of
    ``NOTICE_KINDS``: ``bad_survey_answer``, ``sla_warning``,
    ``sla_breach``, ``sla_takeover``, ...), caused by ``actor``, after the
    current ``UnitOfWork`` commits: a notice under the console's bell for
    each, and a mail for those who take mail (once each, in their
    language, with ``detail`` - your words - in the body).

    Who answers for a ticket: its assignee; when unassigned, the agents and
    supervisors of its department and the department's supervisor; with no
    department, every active supervisor. ``also``: more staff ids to tell
    (e.g. the supervisor of an escalation). The actor, if a staff member,
    is never told of their own action. ``ValueError`` for an unknown kind
    or when called outside a unit of work; a rolled-back change tells no one.
    """
    _notifications.notify_staff(ticket, kind, actor, also=also, detail=detail)


def mail_language(language: str | None) -> str:
    """The mail template language (``en`` or ``zh``) for a person's language tag."""
    return _compose.mail_language(language)


def code_label(group: str, code) -> str:
    """A code as people read it, in the page's language: the core's names
    (``status``, ``priority``, ``kind``, ``channel``, ``role``, ``remedy``,
    ``sla``, ...) and every plugin's (``code_label`` hook: ``tier``,
    ``plugin``, ...); a code nobody names with its underscores as spaces,
    "" for None. For a panel row's value: ``{"label": _("Status"), "value":
    sdk.code_label("status", ticket.status), "kind": "badge"}``."""
    from service.web.i18n import label

    return label(group, code)


def current_language() -> str:
    """The language of whoever is being answered (``en`` or ``zh``): the
    console's, the request's Accept-Language, else ``DEFAULT_LANGUAGE``
    (in jobs and commands). For a guard's message or a panel's labels,
    which kefu shows as given."""
    from flask_babel import get_locale

    return _compose.mail_language(str(get_locale() or current_app.config["DEFAULT_LANGUAGE"]))


def send_mail(*, notice: str, to: tuple[str, str], lang: str, key: str, ticket: Ticket | None,
              links: list[tuple[str, str]] | None = None, **context) -> str:
    """Compose ``mail/<lang>/<notice>.txt`` (a template of your plugin's
    template folder: first line the subject) and send it now - call it from a
    job, inside ``effect_once(key)``. ``to``: ``(name, address)``; ``links``:
    ``(label key, url)`` buttons; ``context`` reaches the template. The mail
    threads under the ticket's and its Message-ID comes from ``key``, so a
    repeat is folded by mail clients. ``ticket`` None: a notice about no
    ticket (a customer's, say): its subject has no ticket number and it
    starts no thread. Returns where it went."""
    if ticket is None:
        return _deliver(_compose.build(number=None, to=to, notice=notice, lang=lang, key=key, ticket=None,
                                       links=links or [], **context))
    email = _compose.build(number=ticket.number, to=to, notice=notice, lang=lang, key=key,
                           references=[ticket.email_message_id] if ticket.email_message_id else None,
                           ticket=ticket, links=links or [], **context)
    return _deliver(email)


# --------------------------------------------------------------------------- routes


def console_page(blueprint) -> None:
    """Make ``blueprint`` (a ``flask.Blueprint`` of console pages your plugin
    registers with ``register_blueprints``) behave like the core's console
    pages: the signed-in staff member is loaded before each view (so the page
    is in their language and time zone), and errors (404, 403, a use case's
    ``KefuError``) answer an HTML error page in that language instead of the
    API's JSON. Forms need no more: every POST outside ``/api/`` must carry
    the session's CSRF token (the template macro ``csrf()`` of
    ``web/_macros.html`` writes it), checked before your view runs. Extend
    ``web/admin/layout.html`` for an admin page (block ``title``, block
    ``admin_main``), ``web/console/layout.html`` for another console page."""
    from service.web.pages import register_error_pages
    from service.web.session import load_console_staff

    blueprint.before_request(load_console_staff)
    register_error_pages(blueprint)


def require_console_role(role: str = "agent", *also: str):
    """Decorate a console page view (a plugin's ``flask.Blueprint``, see
    ``console_page``): a visitor who is not signed in to the console is sent
    to the sign-in page (and back after), a staff member below ``role`` (on
    the ladder agent < supervisor < admin) gets 403; ``also`` names roles
    beside the ladder that may reach it too (``finance``). Roles are read
    from the database on every request. For the JSON API use ``require_role``."""
    from service.web.session import require_staff

    return require_staff(role, *also)


def console_staff() -> Staff | None:
    """The staff member signed in to this request's console session (the
    session cookie, not an API token), else None. Inside a view decorated
    with ``require_console_role`` it is never None."""
    from service.web.session import console_staff as _console_staff

    return _console_staff()


def public_rate_limit(blueprint_or_view):
    """Apply ``PUBLIC_RATE_LIMIT`` (per client) to a public blueprint or view
    of your plugin, as the core's customer routes are."""
    return _limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"])(blueprint_or_view)


__all__ = [
    # markers and shapes
    "hookimpl", "notification", "decider", "collector", "step",
    "AdminPage", "ChartSeries", "ChartSpec", "ColumnChoice", "ConsoleLink", "CustomerListColumn", "CustomerSection", "DemoPeriod",
    "JobDeclaration", "Kpi", "MergeMoved", "Opening", "OpeningChanges", "PanelRow", "Refusal", "RemedyDecision",
    "ReportColumn", "ReportPeriod", "SlaTargets", "TicketChange", "TicketCodes", "TicketDraft", "TicketPanel", "TrackingPanel",
    # errors
    "KefuError", "NotFound", "Unauthorized", "Forbidden", "Conflict", "StaleVersion", "ValidationFailed",
    "Refused", "ErrorSchema", "EffectBusy",
    # actors
    "Actor", "SYSTEM", "plugin_actor",
    # database and models
    "db", "Model", "UTCDateTime", "utcnow", "Ticket", "Customer", "Staff", "Department", "Category",
    "Message", "TicketEvent", "STATUSES", "OPEN_STATUSES", "FINAL_STATUSES", "PRIORITIES", "KINDS",
    "CHANNELS", "ticket_kinds", "ticket_channels", "reopen_is_late",
    # reading
    "get_ticket", "find_ticket", "get_customer", "get_staff", "ticket_messages", "preloaded", "NOT_LOADED",
    "OPENING", "SHOWING", "PROFILE", "read", "ticket_number",
    # language
    "gettext", "pgettext", "ngettext", "lazy_gettext", "lazy_pgettext", "code_label",
    # writing
    "UnitOfWork", "add_once", "hold_customer", "update_ticket", "transition", "add_note", "reply", "record_event",
    "open_ticket", "answer_resolution", "followup_subject", "refresh_sla",
    # jobs, events, mail
    "enqueue", "effect_once", "ask", "collect", "alert_staff", "alert_staff_many", "notify_staff",
    "NOTICE_KINDS", "CORE_EVENTS", "mail_language", "current_language",
    "send_mail", "customer_links", "tracking_url", "external_url",
    # routes and settings
    "require_role", "current_staff", "authenticate", "read_only", "public_rate_limit", "plugin_settings",
    "console_page", "require_console_role", "console_staff", "csv_download",
    "filled", "NotBlank",
]
