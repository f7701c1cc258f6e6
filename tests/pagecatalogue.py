"""Every page of kefu, for every role, on the demo's data: what the
bilingual test (tests/web/test_bilingual.py) and the accessibility run
(tests/browser/test_accessibility.py) walk.

``seed()`` loads the demo (the quick one the tests use) and answers a
``Catalogue``: for each role (``customer`` for the public pages, then the
staff roles) the pages that role may open, as (name, path). A page added to
the app without an entry here fails ``missing_endpoints`` (the bilingual test
checks it), so the walk stays "every page".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from service.demo import DEMO_LOGINS, load_demo
from service.extensions import db
from service.models import Customer, Macro, Message, Staff, Ticket, TicketEvent

ROLES = ("customer", "agent", "supervisor", "finance", "admin")
# Not pages: health probes, the dashboard's CSV downloads (their headers
# are checked in both languages by tests/web/test_dashboard_reports.py), a
# case's file downloaded through its tracking link (tests/web/test_customer_attachments.py),
# a ticket's file downloads and its presence fragment (the ticket page shows
# the same fragment; tests/web/test_ticket_page.py checks both);
# add here a console fragment or JSON answer a script fetches (not a whole page).
NOT_PAGES = frozenset({"health.healthz", "health.readyz", "static", "dashboard.export", "web.track_file",
                       "console_ticket.attachment", "console_ticket.presence_poll"})
PASSWORDS = {role: password for _email, role, password, _token in DEMO_LOGINS}
EMAILS = {role: email for email, role, _password, _token in DEMO_LOGINS}


@dataclass
class Catalogue:
    """The pages of the seeded demo: ``pages[role]`` is a list of
    ``(name, path)``; ``endpoints`` the Flask endpoints they cover;
    ``user_data`` the strings people typed, shown as written."""

    pages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)
    user_data: list[str] = field(default_factory=list)
    planned_missing: list[str] = field(default_factory=list)


def _ticket(**where) -> Ticket:
    query = select(Ticket).order_by(Ticket.id)
    for name, value in where.items():
        query = query.where(getattr(Ticket, name) == value)
    return db.session.scalars(query.limit(1)).first()


def _track_path(ticket: Ticket) -> str:
    from service.usecases.tracking import mail_token

    return f"/track/{mail_token(ticket)}"


def seed() -> Catalogue:
    """Load the demo into the (empty, migrated) database of the current app
    and list its pages per role."""
    load_demo()
    cat = Catalogue()
    open_ticket = _ticket(status="in_progress") or _ticket()
    resolved = _ticket(status="resolved")
    new = _ticket(status="new")
    at_risk = _at_risk()
    public = [("form", "/"), ("find", "/find"), ("track-new", _track_path(new)),
              ("track-resolved", _track_path(resolved)),
              ("answer-accept", _track_path(resolved) + "/accept"),
              ("answer-reject", _track_path(resolved) + "/reject"), ("login", "/console/login")]
    cat.endpoints |= {"web.form", "web.find", "web.track", "web.answer", "console_auth.login"}
    # /filed shows the confirmation of a case this browser filed; the test files one to see it.
    survey = _survey_path(resolved)
    if survey:
        public.append(("survey", survey))
        cat.endpoints.add("satisfaction_survey_page.page")
    cat.pages["customer"] = public
    customer = db.session.get(Customer, new.customer_id)
    other = db.session.scalars(select(Customer).where(Customer.id != customer.id).order_by(Customer.id)).first()
    customers = [("customers", "/console/customers"), ("customers-search", "/console/customers?q=a&sort=value"),
                 ("customers-at-risk", "/console/customers?relationship_health.level=at_risk&sort=tier_sla.value"),
                 ("customer", f"/console/customers/{customer.id}")]
    assert at_risk is not None, "the demo leaves customers at risk (relationship_health's demo)"
    customers.append(("customer-at-risk", f"/console/customers/{at_risk}"))
    cat.endpoints |= {"console_customers.index", "console_customers.show", "console_merge.choose"}
    tickets = customers + [("ticket-open", f"/console/tickets/{open_ticket.number}"),
               ("ticket-new", f"/console/tickets/{new.number}"),
               ("ticket-resolved", f"/console/tickets/{resolved.number}"), ("settings", "/console/settings"),
               ("notifications", "/console/notifications")]
    tickets += _more_tickets({open_ticket.id, new.id, resolved.id}) + _more_customers({customer.id, at_risk})
    agent = [("queue", "/console/")] + [(f"queue-{name}", f"/console/queue/{name}")
                                        for name in ("mine", "department", "unassigned", "at_risk", "all")] + tickets
    # A ticket for a caller (agents and up), and the same with the customers a search found.
    agent += [("ticket-create", "/console/tickets/new"),
              ("ticket-create-found", f"/console/tickets/new?q={customer.name.split()[0]}")]
    cat.endpoints.add("console_new.new")
    # The queue with several filters and a sort, and the global search (issue 16).
    agent += [("queue-filtered", "/console/queue/all?status=new&status=in_progress&priority=high&sort=priority"),
              ("search", "/console/search?q=a")]
    cat.endpoints.add("console_search.search")
    # The demo agent owns the demo's lapsed key account: the owner's notices and customers.
    agent.append(("accounts", "/console/accounts"))
    # Canned replies: the demo's shared ones, one previewed for a ticket; the
    # edit page is a supervisor's (an agent may not edit shared macros).
    shared = db.session.scalars(select(Macro).where(Macro.owner_id.is_(None)).order_by(Macro.id)).first()
    agent += [("macros", "/console/macros"), ("macro-new", "/console/macros/new"),
              ("macro-preview", f"/console/tickets/{open_ticket.number}/macros/{shared.id}")]
    cat.endpoints |= {"console_macros.index", "console_macros.new", "console_macros.preview", "console_macros.edit"}
    cat.endpoints.add("relationship_health_accounts.page")
    finance = [("queue", "/console/"), ("queue-remedies", "/console/queue/remedies")] + tickets
    cat.endpoints |= {"console_queues.queue", "console_ticket.show", "console_auth.settings",
                      "console_notifications.index"}
    supervisor = agent + [("queue-remedies", "/console/queue/remedies"), ("dashboard", "/console/dashboard"),
                          ("merge-choose", f"/console/customers/{customer.id}/merge"),
                          ("merge-confirm", f"/console/customers/{customer.id}/merge?from_customer_id={other.id}"),
                          ("macro-edit", f"/console/macros/{shared.id}")]
    cat.endpoints.add("dashboard.show")
    from plugins.webhooks import endpoints

    hook = endpoints.register({"url": "http://127.0.0.1:9/kefu-hooks", "events": ["ticket.created"],
                              "description": "", "active": True})
    db.session.commit()
    staff_id = db.session.scalars(select(Staff.id).where(Staff.email == EMAILS["agent"])).one()
    admin = supervisor + [("admin", "/console/admin/"), ("admin-staff", "/console/admin/staff"),
                          ("admin-staff-edit", f"/console/admin/staff/{staff_id}"),
                          ("admin-departments", "/console/admin/departments"),
                          ("admin-department-edit", f"/console/admin/departments/{open_ticket.department_id or 1}"),
                          ("admin-categories", "/console/admin/categories"),
                          ("admin-category-edit", f"/console/admin/categories/{open_ticket.category_id or 1}"),
                          ("admin-plugins", "/console/admin/plugins"), ("admin-jobs", "/console/admin/jobs"),
                          ("admin-sla-policy", "/console/admin/sla/policy"),
                          ("admin-tier-overrides", "/console/admin/sla/tiers"),
                          ("admin-webhooks", "/console/admin/webhooks/"),
                          ("admin-webhook", f"/console/admin/webhooks/{hook.id}")]
    cat.endpoints |= {"admin.index", "admin.staff", "admin.staff_edit", "admin.departments", "admin.department_edit",
                      "admin.categories", "admin.category_edit", "admin.plugins", "admin.jobs",
                      "tier_sla_admin.policy", "tier_sla_admin.overrides", "webhooks_admin.index",
                      "webhooks_admin.show"}
    cat.pages.update(agent=agent, supervisor=supervisor, finance=finance, admin=admin)
    _add_planned(cat)
    # The words a staff member typed into the search box come back on the page: typed data.
    cat.user_data = _user_data() + SEARCHED
    return cat


# The global search's result pages, walked for the roles that may search
# (an exact ticket number is not a page: it goes straight to the ticket). A
# page listed here whose route does not exist is skipped and named by
# ``planned_but_missing`` (the bilingual test prints them); a console page
# whose route exists and is listed nowhere fails ``missing_endpoints``.
SEARCHED = ["洗衣机", "zzzz-nothing"]
PLANNED = (
    ("search-text", "/console/search?q=%E6%B4%97%E8%A1%A3%E6%9C%BA", ("agent", "supervisor", "finance", "admin")),
    ("search-nothing", "/console/search?q=zzzz-nothing", ("agent", "supervisor", "finance", "admin")),
)


def _endpoint_of(path: str) -> str | None:
    """The endpoint the current app serves ``GET path`` with, or None."""
    from flask import current_app
    from werkzeug.exceptions import HTTPException

    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(path.split("?", 1)[0], "GET")
    except HTTPException:  # not found, method not allowed, or a redirect (a missing trailing slash)
        return None
    return endpoint


def _add_planned(cat: Catalogue) -> None:
    cat.planned_missing = []
    for name, path, roles in PLANNED:
        endpoint = _endpoint_of(path)
        # /console/tickets/new may match the ticket page's <number> until the new-ticket page exists.
        if endpoint is None or endpoint == "console_ticket.show":
            cat.planned_missing.append(path)
            continue
        cat.endpoints.add(endpoint)
        for role in roles:
            cat.pages[role].append((name, path))


def _more_tickets(seen: set) -> list[tuple[str, str]]:
    """One ticket page per status not shown yet (confirmed, waiting, closed,
    cancelled, reopened), each remedy decision the credit plugin's demo
    makes (its panel, the decision in the history), a ticket marked for
    recovery by a bad survey answer (the survey panel's recovery rows), and
    relationship health's care ticket (its policy and note)."""
    from plugins.relationship_health.care import POLICY as CARE_POLICY
    from plugins.satisfaction_survey.models import Recovery

    pages = []
    for status in ("confirmed", "waiting_on_customer", "closed", "cancelled"):
        ticket = _ticket(status=status)
        if ticket is not None and ticket.id not in seen:
            pages.append((f"ticket-{status}", f"/console/tickets/{ticket.number}"))
            seen.add(ticket.id)
    reopened = db.session.scalars(select(Ticket).where(Ticket.reopen_count > 0).order_by(Ticket.id)).first()
    recovery = db.session.scalars(select(Recovery.ticket_id).order_by(Recovery.id)).first()
    care = _ticket(sla_policy=CARE_POLICY)
    for name, ticket in (("ticket-reopened", reopened), ("ticket-recovery", recovery and db.session.get(Ticket, recovery)),
                         ("ticket-care", care)):
        assert ticket is not None, f"the demo has no {name} page"
        if ticket.id not in seen:
            pages.append((name, f"/console/tickets/{ticket.number}"))
            seen.add(ticket.id)
    for decision in ("approved", "needs_approval", "refused"):
        for approver in ((None,) if decision != "needs_approval" else ("supervisor", "finance")):
            where = [Ticket.remedy_decision == decision] + ([Ticket.remedy_approver == approver] if approver else [])
            ticket = db.session.scalars(select(Ticket).where(*where).order_by(Ticket.id)).first()
            if ticket is not None and ticket.id not in seen:
                pages.append((f"ticket-remedy-{approver or decision}", f"/console/tickets/{ticket.number}"))
                seen.add(ticket.id)
    assert any(name.startswith("ticket-remedy") for name, _ in pages), "the demo has no ticket with a remedy"
    return pages


def _more_customers(seen: set) -> list[tuple[str, str]]:
    """Every other demo customer's profile: each tier, grade and class the
    plugins' sections show."""
    return [(f"customer-{cid}", f"/console/customers/{cid}")
            for cid in db.session.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))
                                          .order_by(Customer.id)) if cid not in seen]


def _at_risk() -> int | None:
    """A customer the demo left at risk (relationship_health's demo: a lapsed
    key customer, a complainer), after everyone's health is recomputed as
    the periodic job would: its profile section has signals to explain and
    the at-risk list a row. None when nobody is at risk."""
    from plugins.relationship_health.models import CustomerHealth
    from plugins.relationship_health.recompute import recompute

    recompute()
    return db.session.scalar(select(CustomerHealth.customer_id).where(CustomerHealth.level == "at_risk")
                             .order_by(CustomerHealth.customer_id))


def _survey_path(ticket: Ticket) -> str | None:
    """The survey page of ``ticket``'s resolution, opened for answers (the
    demo answers its surveys; this one waits for the customer)."""
    from plugins.satisfaction_survey import surveys, tokens

    survey = surveys.schedule(ticket) or surveys.ticket_surveys(ticket.id)[-1]
    surveys.open_now(survey.id)
    return "/survey/" + tokens.token_for(survey)


def _user_data() -> list[str]:
    """Strings people typed, shown as they were written."""
    texts = []
    for row in db.session.execute(select(Customer.name, Customer.email, Customer.phone, Customer.external_ref)):
        texts += list(row)
    for row in db.session.execute(select(Ticket.subject, Ticket.description, Ticket.resolution, Ticket.number,
                                         Ticket.remedy_text)):
        texts += list(row)
    from plugins.satisfaction_survey.models import Survey

    texts += db.session.scalars(select(Survey.comment)).all()  # what customers answered
    texts += db.session.scalars(select(Message.body)).all()
    for row in db.session.execute(select(Macro.name, Macro.body_en, Macro.body_zh)):
        texts += [" ".join(t.split()) for t in row if t]  # as a page shows them, on one line
    from service.usecases.tracking import mail_token

    # The link a canned reply's {tracking_link} becomes (the preview page shows it).
    texts += [mail_token(t) for t in db.session.scalars(select(Ticket))]
    for row in db.session.execute(select(Staff.name, Staff.email)):
        texts += list(row)
    from plugins.tier_sla.models import CustomerTier

    texts += db.session.scalars(select(CustomerTier.override_reason)).all()  # what a supervisor wrote
    # Reasons people gave for a step (a cancellation, a reopening); not those a plugin wrote.
    for (details,) in db.session.execute(select(TicketEvent.details).where(TicketEvent.actor_type.in_(
            ("staff", "customer")))):
        if isinstance(details, dict) and isinstance(details.get("reason"), str):
            texts.append(details["reason"])
    # As the page shows them: runs of white space as one space.
    return [" ".join(str(t).split()) for t in texts if t]


def missing_endpoints(app, cat: Catalogue) -> set[str]:
    """GET endpoints of pages (not the API, static files or probes) that the
    catalogue does not open."""
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(("/api", "/static")):
            found.add(rule.endpoint)
    return found - cat.endpoints - NOT_PAGES - {"web.filed"}


def sign_in(client, role: str, language: str) -> None:
    """Sign ``client`` in as the demo's ``role`` login, its console in ``language``."""
    from webpages import csrf_of

    staff = db.session.scalars(select(Staff).where(Staff.email == EMAILS[role])).one()
    staff.language = language
    db.session.commit()
    page = client.get("/console/login")
    response = client.post("/console/login", data={"email": EMAILS[role], "password": PASSWORDS[role],
                                                    "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
