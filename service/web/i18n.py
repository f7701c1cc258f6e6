"""Languages and time zones for pages (Flask-Babel), and translated labels.

The language of a page: the signed-in staff member's setting, else the
language the visitor picked with the switch (kept in the session), else
the browser's Accept-Language, else ``DEFAULT_LANGUAGE``. Times are shown in
the staff member's time zone, else ``DEFAULT_TIMEZONE``.
"""
from __future__ import annotations

from flask import Flask, current_app, g, has_app_context, has_request_context, session
from flask_babel import Babel, get_locale, refresh, to_user_timezone
from markupsafe import Markup

from service.languages import accepted_language, normalise
from service.translate import lazy_gettext as _l
from service.translate import lazy_pgettext, translations
from service.web.session import console_staff

babel = Babel()


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order);
    ``DEFAULT_LANGUAGE`` outside a request (jobs, commands)."""
    if not has_request_context():
        return current_app.config["DEFAULT_LANGUAGE"]
    staff = console_staff()
    if staff is not None and normalise(staff.language):
        return normalise(staff.language)
    if normalise(session.get("lang")):
        return normalise(session["lang"])
    return accepted_language() or current_app.config["DEFAULT_LANGUAGE"]


def select_timezone() -> str:
    """Flask-Babel's time zone selector: the staff member's, else the default."""
    staff = console_staff()
    return (staff.timezone if staff is not None and staff.timezone else None) or current_app.config["DEFAULT_TIMEZONE"]


def is_chinese() -> bool:
    """True when this page is rendered in Chinese."""
    return str(get_locale()).startswith("zh")


def local_name(row) -> str:
    """A department's, category's or canned reply's name in the page's language
    (``name_zh`` in Chinese when it has one, else ``name``)."""
    if row is None:
        return ""
    return (row.name_zh if is_chinese() and getattr(row, "name_zh", None) else row.name) or row.code


LABELS = {
    "status": {
        "new": _l("New"), "confirmed": _l("Confirmed"), "in_progress": _l("In progress"),
        "waiting_on_customer": _l("Waiting on the customer"), "resolved": _l("Resolved"),
        "closed": _l("Closed"), "cancelled": _l("Cancelled"),
    },
    "step": {"listen": _l("Listen"), "confirm": _l("Confirm"), "handle": _l("Handle"),
             "feed_back": _l("Feed back")},
    "priority": {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")},
    "kind": {"complaint": _l("Complaint"), "service_request": _l("Service request"),
             "inquiry": _l("Inquiry"), "suggestion": _l("Suggestion")},
    "channel": {"web": _l("Web form"), "email": _l("E-mail"), "phone": _l("Phone"), "api": _l("API"),
                "walk_in": _l("Walk-in"), "fax": _l("Fax"), "chat": _l("Chat")},
    "role": {"agent": _l("Agent"), "supervisor": _l("Supervisor"), "admin": _l("Admin"), "finance": _l("Finance")},
    "action": {
        "confirm": _l("Confirm"), "start": _l("Start handling"), "wait": _l("Wait for the customer"),
        "resolve": _l("Resolve"), "reopen": _l("Reopen"), "close": _l("Close"), "cancel": _l("Cancel"),
        "customer_reply": _l("Customer replied"), "created": _l("Filed"), "updated": _l("Edited"),
        "message_added": _l("Public reply"), "note_added": _l("Internal note"),
        "sla_applied": _l("SLA targets set"), "sla_refreshed": _l("SLA targets changed"),
        "tier_decided": _l("Tier decided"), "remedy_decided": _l("Remedy decided"),
        "remedy_approved": _l("Remedy approved"), "remedy_refused": _l("Remedy refused"),
        "sla_warning": _l("SLA warning"), "sla_breach": _l("SLA breached"), "sla_takeover": _l("SLA take-over"),
        "plugin_error": _l("Plugin error"), "followup_opened": _l("Follow-up opened"),
        "auto_closed": _l("Closed automatically"), "attachment_added": _l("File attached"),
        "change_refused": _l("Change refused by a plugin"), "opening_changes": _l("Changed when opened"),
        "customer_merged": _l("Customer records merged"),
    },
    "language": {"en": _l("English"), "zh_CN": _l("Chinese")},
    # The state of a ticket's next SLA target (service.reads.sla_state).
    # In the "sla" context: "At risk" also names a relationship health level.
    "sla": {"on_track": lazy_pgettext("sla", "On track"), "at_risk": lazy_pgettext("sla", "At risk"),
            "breached": lazy_pgettext("sla", "Breached"), "paused": lazy_pgettext("sla", "Paused"),
            "met": lazy_pgettext("sla", "Met")},
    "remedy": {"approved": _l("approved"), "needs_approval": _l("waits for approval"), "refused": _l("refused")},
    # The satisfaction classes of DOMAIN.md (a plugin derives them).
    "satisfaction": {"loyal": _l("Loyal"), "ordinary": _l("Ordinary"), "complaining": _l("Complaining"),
                     "lost": _l("Lost")},
    "author": {"customer": _l("Customer"), "staff": _l("Service team"), "system": _l("System"),
               "plugin": _l("Plugin")},
    # Reasons the core itself records (default remedy decisions); the SLA
    # plugin names its own ("clock paused", ...) through ``code_label``.
    "reason": {"no amount asked": _l("No amount asked")},
    # Keys of the details on history events.
    "field": {
        "department": _l("Department"), "resolution": _l("Resolution"), "reason": _l("Reason"),
        "channel": _l("Channel"), "kind": _l("Kind"), "category": _l("Category"), "priority": _l("Priority"),
        "assignee": _l("Assignee"), "policy": _l("Policy"), "first_response_due": _l("First response due"),
        "resolution_due": _l("Resolution due"), "tier": _l("Tier"), "decision": _l("Decision"),
        "followup": _l("Follow-up"), "parent": _l("Follow-up to"), "hook": _l("Hook"), "error": _l("Error"),
        "days": _l("Days"), "filename": _l("File"), "code": _l("Code"), "message": _l("Message"),
        "changes": _l("Changes"), "tags": _l("Tags"), "tried_by": _l("Tried by"), "action": _l("Step"),
        "fields": _l("Changes"), "from_customer": _l("From customer"), "to_customer": _l("To customer"),
        "approver": _l("Approver"),
    },
}


def _install_template_gettext(app: Flask) -> None:
    # As Flask-Babel installs them (new-style, so %-variables are escaped), through ``translations``.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def known_label(group: str, value) -> str | None:
    """The translated label of ``value`` in ``group``: the core's own (status,
    priority, ...), else the plugins' (``code_label`` decider, asked once per
    group, value and language in a request); None when nobody names it."""
    if value is None:
        return None
    found = LABELS.get(group, {}).get(value)
    if found is not None:
        return str(found)
    if not has_app_context() or "kefu_plugins" not in current_app.extensions:
        return None
    asked = g.setdefault("kefu_code_labels", {})
    key = (group, str(value), str(get_locale()))
    if key not in asked:
        answer = current_app.extensions["kefu_plugins"].decide("code_label", group=group, code=str(value))[0]
        asked[key] = str(answer) if answer else None
    return asked[key]


def label(group: str, value) -> str:
    """``known_label``, else the value with its underscores as spaces ("" for None)."""
    if value is None:
        return ""
    found = known_label(group, value)
    if found is not None:
        return found
    # A plugin that does not name itself is shown by its package name.
    return str(value) if group == "plugin" else str(value).replace("_", " ")


def minute(value) -> str:
    """``value`` in the page's time zone to the minute, ``2026-03-01 09:05``:
    what ``datetimeformat('yyyy-MM-dd HH:mm')`` shows in every language we
    have (digits only, no names), without Babel's pattern formatting, 17 us
    a time - a list of 25 customers or tickets shows one or two per row."""
    return to_user_timezone(value).strftime("%Y-%m-%d %H:%M")


def stacked_time(value) -> Markup:
    """``value`` as ``minute`` shows it, in a ``<time>`` whose date and clock
    are each kept whole (a narrow cell breaks between them only); "" for
    None. A filter rather than a template macro: the queue draws three per
    row, and a macro call costs several times the formatting."""
    if not value:
        return Markup("")
    date, _, clock = minute(value).partition(" ")
    return Markup('<time datetime="%s"><span class="nowrap">%s</span> <span class="nowrap">%s</span></time>') % (
        value.isoformat(), date, clock)


def _forget_code_labels() -> None:
    # The plugins' names are asked again in each request (plugins may change between them).
    g.pop("kefu_code_labels", None)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel (catalogs in ``service/translations``) and the template helpers."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["DEFAULT_TIMEZONE"])
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    _install_template_gettext(app)
    # Flask-Babel caches the locale on ``g``, which lives as long as the app
    # context; where one app context serves several requests (tests, CLI
    # code) each request must choose again.
    app.before_request(refresh)
    app.before_request(_forget_code_labels)
    app.jinja_env.filters["minute"] = minute
    app.jinja_env.filters["stacked_time"] = stacked_time
    app.jinja_env.globals.update(console_staff=console_staff, label=label, local_name=local_name, is_chinese=is_chinese,
                                 current_locale=lambda: str(get_locale()))
