"""The console's admin pages (issue 20, item 3): every page for admins only,
in zh and en, CSRF on every form, bad input re-rendered with the field's
message and nothing saved, good input saved (checked in the database or
through the API). The SLA policy, tier overrides and webhooks pages are
served by their plugins (``admin_pages``)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from webpages import csrf_of

from plugins.tier_sla.models import CustomerTier, SlaPolicy
from plugins.webhooks.models import WebhookDelivery, WebhookEndpoint
from service.extensions import db
from service.jobs import registry as job_api
from service.models import Category, Customer, OutboxJob, Staff
from service.usecases.uow import UnitOfWork

# Each page, and its heading in English and Chinese.
PAGES = {
    "/console/admin/": ("Admin", "管理"),
    "/console/admin/staff": ("Staff", "员工"),
    "/console/admin/departments": ("Departments", "部门"),
    "/console/admin/categories": ("Categories", "类别"),
    "/console/admin/plugins": ("Plugins", "插件"),
    "/console/admin/jobs": ("Background jobs", "后台任务"),
    "/console/admin/sla/policy": ("SLA policy", "服务时限策略"),
    "/console/admin/sla/tiers": ("Tier overrides", "客户等级调整"),
    "/console/admin/webhooks/": ("Webhooks", "Webhook 回调"),
}


def _h1(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL).group(1).strip()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_admin_page_renders_for_admins_in_both_languages(client, staff_login, language):
    staff_login("admin", language=language)
    for path, titles in PAGES.items():
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert _h1(page.text) == titles[language == "zh"], path
        # The admin navigation lists the core's pages and the plugins' pages.
        nav = re.search(r'<nav class="admin-nav".*?</nav>', page.text, re.DOTALL).group(0)
        for listed in ("/console/admin/staff", "/console/admin/sla/policy", "/console/admin/sla/tiers",
                       "/console/admin/webhooks/"):
            assert f'href="{listed}"' in nav, (path, listed)
    index = client.get("/console/admin/").text
    assert "Through the API" not in index and "/api/v1/sla/policy" not in index
    assert 'href="/api/docs' in index or "/api/" in index


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_admin_pages_are_forbidden_below_admin(client, staff_login, role):
    staff_login(role)
    for path in [*PAGES, "/console/admin/staff/1", "/console/admin/categories/1", "/console/admin/departments/1"]:
        assert client.get(path).status_code == 403, path
    token = csrf_of(client.get("/console/").text)
    before = db.session.scalar(select(func.count()).select_from(SlaPolicy))
    assert client.post("/console/admin/sla/policy", data={"csrf_token": token}).status_code == 403
    assert client.post("/console/admin/webhooks/", data={"csrf_token": token, "url": "https://x.example.com/h",
                                                          "events": "ticket.created"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == before
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_visitors_are_sent_to_sign_in(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/console/login" in response.headers["Location"], path


def test_every_admin_form_needs_its_csrf_token(client, staff_login, departments):
    me = staff_login("admin")
    category = db.session.scalar(select(Category).order_by(Category.id))
    posts = {
        "/console/admin/sla/policy": {},
        "/console/admin/sla/tiers": {"customer": "1", "tier": "vip", "reason": "x"},
        "/console/admin/webhooks/": {"url": "https://hooks.example.com/k", "events": "ticket.created"},
        f"/console/admin/staff/{me.id}": {"role": "admin", "active": "1"},
        f"/console/admin/categories/{category.id}": {"name": "Renamed"},
        f"/console/admin/departments/{departments['sales'].id}": {"name": "Renamed"},
        "/console/admin/staff": {"name": "X", "email": "x@kefu.test", "role": "agent"},
    }
    for path, data in posts.items():
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "The form has expired" in response.text
    db.session.expire_all()
    assert category.name != "Renamed" and departments["sales"].name != "Renamed"
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


# --------------------------------------------------------------------------- SLA policy


def _policy_form(client) -> tuple[dict, str]:
    """The policy form's fields as the browser would send them, and the page."""
    return _policy_form_from(client.get("/console/admin/sla/policy").text)


def _policy_form_from(page: str) -> tuple[dict, str]:
    form = re.search(r'<form method="post" id="sla-policy".*?</form>', page, re.DOTALL).group(0)
    data = {}
    for tag in re.finditer(r"<input ([^>]*)>", form):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag.group(1)))
        if attrs.get("type") == "checkbox":
            if " checked" in tag.group(1):
                data[attrs["name"]] = attrs["value"]
        elif "name" in attrs:
            data[attrs["name"]] = attrs.get("value", "")
    for sel in re.finditer(r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', form, re.DOTALL):
        chosen = re.search(r'<option value="([^"]*)" selected>', sel.group(2))
        data[sel.group(1)] = chosen.group(1) if chosen else ""
    for area in re.finditer(r'<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.DOTALL):
        data[area.group(1)] = area.group(2)
    return data, page


def _tier_index(page: str, label: str) -> int:
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>\s*<td data-label', page)
    return rows.index(label)


def test_the_sla_policy_form_shows_the_policy_in_force_and_saves_a_new_version(client, staff_login, admin):
    staff_login("admin")
    data, page = _policy_form(client)
    a = _tier_index(page, "Tier A")
    assert data[f"t{a}.urgent.fr"] == "30" and data["ladder0.at"] == "75"
    data.update({f"t{a}.urgent.fr": "20", f"t{a}.high.res": "", "ladder1.at": "110", "cal0.closed_days": "2026-12-24",
                 "cal0.w5": "10:00-14:00", "note": "faster urgent answers"})
    saved = client.post("/console/admin/sla/policy", data=data)
    assert saved.status_code == 302, saved.text
    shown = client.get("/console/admin/sla/policy").text
    assert "SLA policy saved as version" in shown
    policy = client.get("/api/v1/sla/policy", headers=admin).json
    assert policy["note"] == "faster urgent answers"
    assert policy["data"]["targets"]["A"]["urgent"] == {"first_response": 20, "resolution": 240}
    assert policy["data"]["targets"]["A"]["high"]["resolution"] is None
    assert policy["data"]["ladder"][1] == {"name": "breach", "at": 1.1, "action": "notify_supervisor_and_flag"}
    business = policy["data"]["calendars"]["business"]
    assert business["closed_days"] == ["2026-12-24"] and business["windows"]["5"] == [["10:00", "14:00"]]
    # What the form does not show is carried over.
    assert policy["data"]["tier_calendars"] == {"vip": "24x7"} and policy["data"]["kinds"] == {}


def test_stricter_targets_per_kind_are_set_in_the_form_and_apply_to_that_kind(client, staff_login, admin,
                                                                              file_ticket):
    from plugins.tier_sla import policy as sla_policy
    from service.models import KINDS

    staff_login("admin")
    data, page = _policy_form(client)
    a, k = _tier_index(page, "Tier A"), list(KINDS).index("complaint")
    assert '<details class="kind-targets" id="kind-complaint">' in page  # closed: no stricter target yet
    assert data[f"k{k}.t{a}.urgent.fr"] == ""
    data.update({f"k{k}.t{a}.urgent.fr": "15", f"k{k}.t{a}.urgent.res": "120"})
    assert client.post("/console/admin/sla/policy", data=data).status_code == 302
    policy = client.get("/api/v1/sla/policy", headers=admin).json["data"]
    assert policy["kinds"] == {"complaint": {"A": {"urgent": {"first_response": 15, "resolution": 120}}}}
    # A complaint gets the shorter targets; a request keeps the general ones.
    assert sla_policy.targets_for(policy, "A", "urgent", "complaint") == (15, 120)
    assert sla_policy.targets_for(policy, "A", "urgent", "request") == (30, 240)
    shown = client.get("/console/admin/sla/policy").text
    assert '<details class="kind-targets" id="kind-complaint" open>' in shown
    assert f'id="k{k}.t{a}.urgent.fr" name="k{k}.t{a}.urgent.fr" inputmode="numeric" value="15"' in shown
    # A bad stricter target is named with its kind, at its field; nothing is saved.
    data, _page = _policy_form_from(shown)
    data[f"k{k}.t{a}.high.fr"] = "soon"
    refused = client.post("/console/admin/sla/policy", data=data)
    assert refused.status_code == 422
    assert "Complaint / Tier A / High / First response: must be a positive whole number" in refused.text
    assert f'aria-describedby="k{k}.t{a}.high.fr-error"' in refused.text
    # Clearing the cells removes the kind's targets.
    data, _page = _policy_form_from(client.get("/console/admin/sla/policy").text)
    data.update({f"k{k}.t{a}.urgent.fr": "", f"k{k}.t{a}.urgent.res": ""})
    assert client.post("/console/admin/sla/policy", data=data).status_code == 302
    assert client.get("/api/v1/sla/policy", headers=admin).json["data"]["kinds"] == {}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_bad_sla_input_is_shown_by_field_keeps_what_was_typed_and_saves_nothing(client, staff_login, language):
    staff_login("admin", language=language)
    data, page = _policy_form(client)
    a = _tier_index(page, "Tier A" if language == "en" else "A 级")
    before = db.session.scalar(select(func.count()).select_from(SlaPolicy))
    data.update({f"t{a}.urgent.fr": "soon", f"t{a}.normal.fr": "999", "ladder0.at": "-5",
                 "cal0.timezone": "Mars/Olympus", "cal0.w0": "9 to 5", "cal0.extra_working_days": "2026-13-01"})
    response = client.post("/console/admin/sla/policy", data=data)
    assert response.status_code == 422
    text = response.text
    if language == "en":
        assert "Tier A / Urgent / First response: must be a positive whole number of minutes" in text
        assert "Tier A / Normal / First response: the first response cannot be due after the resolution" in text
        assert "Escalation step 1: a share of the target in percent" in text
        assert "Mars/Olympus is not a time zone" in text
        assert "Calendar business / Monday: write the working hours as from-to times" in text
        assert "2026-13-01 is not a date" in text
    else:
        assert "A 级 / 紧急 / 首次响应：" in text
    # Each message sits at its field, and the field keeps what was typed.
    assert re.search(rf'id="t{a}\.urgent\.fr" name="t{a}\.urgent\.fr" inputmode="numeric" value="soon" '
                     rf'aria-invalid="true" aria-describedby="t{a}\.urgent\.fr-error"', text)
    assert f'id="t{a}.urgent.fr-error"' in text and 'value="9 to 5"' in text
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == before


def test_overlapping_working_hours_are_named_on_their_day(client, staff_login):
    staff_login("admin")
    data, _page = _policy_form(client)
    data["cal0.w2"] = "09:00-12:00, 11:00-13:00"
    before = db.session.scalar(select(func.count()).select_from(SlaPolicy))
    response = client.post("/console/admin/sla/policy", data=data)
    assert response.status_code == 422
    assert "Calendar business / Wednesday: 09:00-12:00 and 11:00-13:00 overlap." in response.text
    assert 'aria-describedby="cal0.w2-error"' in response.text
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == before


def test_what_only_the_policys_own_validation_catches_is_shown_at_its_field(client, staff_login):
    staff_login("admin")
    data, _page = _policy_form(client)
    data["cal0.country"] = "XX"  # two letters, but no country the holidays package knows
    before = db.session.scalar(select(func.count()).select_from(SlaPolicy))
    response = client.post("/console/admin/sla/policy", data=data)
    assert response.status_code == 422
    assert "Not accepted: country: unsupported country code &#39;XX&#39;" in response.text
    assert 'id="cal0.country" name="cal0.country" type="text" value="XX" aria-invalid="true"' in response.text
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == before


def test_the_policy_validations_field_paths_map_onto_the_form():
    """The form maps the API validation's field paths onto its fields (a
    path the form does not show goes to the form as a whole)."""
    from plugins.tier_sla.policy import DEFAULT_POLICY
    from plugins.tier_sla.policy_form import field_of

    tiers = list(DEFAULT_POLICY["targets"])
    a = tiers.index("A")
    assert field_of("targets.A.urgent.resolution", DEFAULT_POLICY) == f"t{a}.urgent.res"
    assert field_of("targets.A.urgent", DEFAULT_POLICY) == f"t{a}.urgent.fr"
    assert field_of("ladder.1.at", DEFAULT_POLICY) == "ladder1.at"
    assert field_of("calendars.24x7", DEFAULT_POLICY, "timezone: unknown zone") == "cal1.timezone"
    assert field_of("calendars.business", DEFAULT_POLICY, "windows.3[0]: invalid time") == "cal0.w3"
    assert field_of("calendars.business", DEFAULT_POLICY, "closed_days: invalid date") == "cal0.closed_days"
    from service.models import KINDS

    assert field_of("kinds.complaint.A.urgent.resolution", DEFAULT_POLICY) == \
        f"k{list(KINDS).index('complaint')}.t{a}.urgent.res"
    assert field_of("tier_calendars.vip", DEFAULT_POLICY) == "t0.calendar"
    assert field_of("fallback_tier", DEFAULT_POLICY) == "fallback_tier"
    assert field_of("kinds.complaint.vip.urgent.first_response", DEFAULT_POLICY) == \
        f"k{list(KINDS).index('complaint')}.t{tiers.index('vip')}.urgent.fr"
    assert field_of("kinds.no_such_kind.vip.urgent.first_response", DEFAULT_POLICY) == "_"  # a kind not in force


def test_a_form_opened_before_another_save_does_not_undo_it(client, staff_login, admin):
    staff_login("admin")
    data, page = _policy_form(client)
    a = _tier_index(page, "Tier A")
    # Meanwhile someone stores a version through the API.
    policy = client.get("/api/v1/sla/policy", headers=admin).json["data"]
    policy["targets"]["A"]["low"]["first_response"] = 200
    assert client.put("/api/v1/sla/policy", headers=admin, json={"data": policy}).status_code == 201
    versions = db.session.scalar(select(func.count()).select_from(SlaPolicy))
    data[f"t{a}.urgent.fr"] = "25"
    stale = client.post("/console/admin/sla/policy", data=data)
    assert stale.status_code == 409 and "Someone saved another version of the policy" in stale.text
    assert 'value="25"' in stale.text  # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(SlaPolicy)) == versions
    # Seen; saved on top of the new version (the form shows its values where nothing was typed).
    again, _page = _policy_form_from(stale.text)
    assert again[f"t{a}.low.fr"] == "240"  # the form as it was typed, not the API's 200
    again[f"t{a}.low.fr"] = "200"
    assert client.post("/console/admin/sla/policy", data=again).status_code == 302
    saved = client.get("/api/v1/sla/policy", headers=admin).json["data"]["targets"]["A"]
    assert saved["urgent"]["first_response"] == 25 and saved["low"]["first_response"] == 200


# --------------------------------------------------------------------------- tier overrides


def _customer(name="Key Account Ltd", email="buyer@key.example"):
    customer = Customer(name=name, email=email)
    db.session.add(customer)
    db.session.commit()
    return customer


def test_admins_set_and_clear_tier_overrides(client, staff_login, admin):
    staff_login("admin")
    customer = _customer()
    page = client.get("/console/admin/sla/tiers").text
    assert "No customer has an override." in page
    token = csrf_of(page)
    bad = client.post("/console/admin/sla/tiers", data={"csrf_token": token, "customer": "nobody@else.example",
                                                         "tier": "vip", "reason": "  "})
    assert bad.status_code == 422 and 'id="customer-error"' in bad.text
    assert "No customer with this number or e-mail address." in bad.text
    blank = client.post("/console/admin/sla/tiers", data={"csrf_token": token, "customer": "buyer@key.example",
                                                           "tier": "vip", "reason": " ", "until": "2001-01-01"})
    assert blank.status_code == 422
    assert "Give the reason for the override." in blank.text and 'id="until-error"' in blank.text
    assert 'value="buyer@key.example"' in blank.text
    assert db.session.get(CustomerTier, customer.id) is None
    done = client.post("/console/admin/sla/tiers", data={"csrf_token": token, "customer": str(customer.id),
                                                          "tier": "vip", "reason": "Strategic account",
                                                          "until": ""})
    assert done.status_code == 302
    listed = client.get("/console/admin/sla/tiers").text
    assert "Key Account Ltd" in listed and "Strategic account" in listed and "VIP" in listed
    assert client.get(f"/api/v1/customers/{customer.id}/tier", headers=admin).json["tier"] == "vip"
    cleared = client.post(f"/console/admin/sla/tiers/{customer.id}/clear", data={"csrf_token": token})
    assert cleared.status_code == 302
    assert client.get(f"/api/v1/customers/{customer.id}/tier", headers=admin).json["override"] is None
    assert "No customer has an override." in client.get("/console/admin/sla/tiers").text


# --------------------------------------------------------------------------- webhooks


def test_admins_register_webhooks_see_the_secret_once_and_manage_them(client, staff_login, admin):
    staff_login("admin")
    page = client.get("/console/admin/webhooks/").text
    token = csrf_of(page)
    bad = client.post("/console/admin/webhooks/", data={"csrf_token": token, "url": "ftp://files.example.com",
                                                         "description": "ERP"})
    assert bad.status_code == 422
    assert 'id="url-error"' in bad.text and 'id="events-error"' in bad.text and 'value="ERP"' in bad.text
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    made = client.post("/console/admin/webhooks/", data={"csrf_token": token, "url": "https://hooks.example.com/kefu",
                                                          "events": ["ticket.created", "sla.breached"],
                                                          "other_events": "acme.order_shipped"})
    assert made.status_code == 201
    row = db.session.scalar(select(WebhookEndpoint))
    assert row.events == ["ticket.created", "sla.breached", "acme.order_shipped"]
    assert re.search(r'id="new-secret">([^<]+)<', made.text).group(1) == row.secret
    # Never again: not on the list, not on the endpoint's page, not through the API.
    assert row.secret not in client.get("/console/admin/webhooks/").text
    detail = client.get(f"/console/admin/webhooks/{row.id}").text
    assert row.secret not in detail and "Nothing was sent to this endpoint yet." in detail
    old = row.secret
    rotated = client.post(f"/console/admin/webhooks/{row.id}/rotate", data={"csrf_token": token})
    db.session.refresh(row)
    assert rotated.status_code == 200 and row.secret != old and row.secret in rotated.text

    # The delivery log, and a failed delivery sent again.
    failed = WebhookDelivery(endpoint_id=row.id, event="ticket.created", event_id="e-1", status="failed",
                             attempts=5, last_status_code=503, payload={"ticket": {"number": "KF-000001"}})
    db.session.add(failed)
    db.session.commit()
    log = client.get(f"/console/admin/webhooks/{row.id}").text
    assert "HTTP 503" in log and "KF-000001" in log and "Failed" in log
    again = client.post(f"/console/admin/webhooks/deliveries/{failed.id}/redeliver",
                        data={"csrf_token": token, "endpoint_id": row.id}, follow_redirects=True)
    assert f"Delivery {failed.id} is queued again." in again.text
    db.session.refresh(failed)
    assert failed.status == "pending"
    twice = client.post(f"/console/admin/webhooks/deliveries/{failed.id}/redeliver",
                        data={"csrf_token": token, "endpoint_id": row.id}, follow_redirects=True)
    assert "Only failed deliveries to an active endpoint are sent again." in twice.text

    # The address and events change on the endpoint's page; a bad address keeps what was typed.
    assert 'value="https://hooks.example.com/kefu"' in log and 'value="acme.order_shipped"' in log
    refused = client.post(f"/console/admin/webhooks/{row.id}/edit", data={
        "csrf_token": token, "url": "ftp://files.example.com", "events": ["ticket.created"], "description": "ERP v2"})
    assert refused.status_code == 422
    assert 'id="url-error"' in refused.text and 'value="ERP v2"' in refused.text
    assert '<details id="edit-endpoint" open>' in refused.text
    db.session.refresh(row)
    assert row.url == "https://hooks.example.com/kefu"
    changed = client.post(f"/console/admin/webhooks/{row.id}/edit", data={
        "csrf_token": token, "url": "https://hooks.example.com/kefu-v2", "events": ["ticket.updated"],
        "description": "ERP v2"}, follow_redirects=True)
    assert "Saved." in changed.text
    db.session.refresh(row)
    assert (row.url, row.events, row.description) == ("https://hooks.example.com/kefu-v2", ["ticket.updated"], "ERP v2")
    # Deleting asks first: the button sits in a closed disclosure that says what goes.
    box = changed.text[changed.text.index('<details class="confirm-delete" id="delete-box">'):]
    assert "and its delivery log? Nothing more is sent to it" in box[:box.index("</details>")]

    off = client.post(f"/console/admin/webhooks/{row.id}/active", data={"csrf_token": token, "active": "0"})
    assert off.status_code == 302
    assert client.get(f"/api/v1/admin/webhooks/{row.id}", headers=admin).json["active"] is False
    gone = client.post(f"/console/admin/webhooks/{row.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "Deleted the endpoint https://hooks.example.com/kefu-v2" in gone.text
    assert client.get(f"/api/v1/admin/webhooks/{row.id}", headers=admin).status_code == 404


# --------------------------------------------------------------------------- staff, categories, departments


def test_the_staff_table_has_one_row_per_person_and_an_edit_page(client, staff_login, make_staff):
    me = staff_login("admin")
    people = [make_staff("agent")[0] for _ in range(8)]
    page = client.get("/console/admin/staff").text
    table = re.search(r'<table class="cards" id="staff-table">.*?</table>', page, re.DOTALL).group(0)
    assert "<select" not in table and "<form" not in table
    assert len(re.findall(r'<tr id="staff-\d+"', table)) == len(people) + 1
    for header in ("Name", "E-mail", "Role", "Department", "May sign in", "Last sign-in"):
        assert f'<th scope="col">{header}</th>' in table
    # The admin signed in on the console just now; the others never did.
    db.session.refresh(me)
    assert me.last_sign_in_at is not None
    mine = re.search(rf'<tr id="staff-{me.id}".*?</tr>', table, re.S).group(0)
    assert f'datetime="{me.last_sign_in_at.isoformat()}"' in mine
    assert "not known" in re.search(rf'<tr id="staff-{people[0].id}".*?</tr>', table, re.S).group(0)
    other = people[0]
    edit = client.get(f"/console/admin/staff/{other.id}").text
    token = csrf_of(edit)
    forged = client.post(f"/console/admin/staff/{other.id}", data={"csrf_token": token, "role": "emperor",
                                                                  "department": "", "active": "1"})
    assert forged.status_code == 422 and 'id="role-error"' in forged.text
    saved = client.post(f"/console/admin/staff/{other.id}", data={"csrf_token": token, "role": "supervisor",
                                                                 "department": "finance", "active": "0"})
    assert saved.status_code == 302
    db.session.refresh(other)
    assert (other.role, other.department.code, other.active) == ("supervisor", "finance", False)
    refused = client.post(f"/console/admin/staff/{me.id}", data={"csrf_token": token, "role": "agent",
                                                                "department": "", "active": "1"})
    assert refused.status_code == 409
    assert "You cannot demote or deactivate yourself; ask another admin." in refused.text
    assert db.session.get(Staff, me.id).role == "admin"


def test_categories_are_renamed_and_deactivated_and_leave_the_form(client, staff_login, file_ticket, agent):
    staff_login("admin", language="zh")
    category = db.session.scalar(select(Category).where(Category.code == "other"))
    number = file_ticket(category="other")["number"]
    page = client.get(f"/console/admin/categories/{category.id}").text
    token = csrf_of(page)
    blank = client.post(f"/console/admin/categories/{category.id}", data={"csrf_token": token, "name": " ",
                                                                          "name_zh": "其它问题", "active": "1"})
    assert blank.status_code == 422 and 'id="name-error"' in blank.text and 'value="其它问题"' in blank.text
    db.session.refresh(category)
    assert category.name_zh != "其它问题"
    saved = client.post(f"/console/admin/categories/{category.id}", data={"csrf_token": token, "name": "Something else",
                                                                          "name_zh": "其它问题"})
    assert saved.status_code == 302
    db.session.refresh(category)
    assert (category.name, category.name_zh, category.active) == ("Something else", "其它问题", False)
    assert 'value="other"' not in client.get("/").text  # gone from the customer form
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["category"] == "other"  # the ticket keeps it
    client.post(f"/console/admin/categories/{category.id}", data={"csrf_token": token, "name": "Something else",
                                                                  "name_zh": "", "active": "1"})
    assert 'value="other"' in client.get("/").text


def test_departments_are_renamed_and_deactivated_and_leave_the_routing_choices(client, staff_login, file_ticket,
                                                                              departments, act, supervisor):
    number = file_ticket()["number"]
    act(supervisor, number, "confirm", department="logistics")
    staff_login("admin")
    logistics = departments["logistics"]
    token = csrf_of(client.get(f"/console/admin/departments/{logistics.id}").text)
    saved = client.post(f"/console/admin/departments/{logistics.id}", data={"csrf_token": token, "name": "Shipping",
                                                                            "name_zh": "发运"})
    assert saved.status_code == 302
    db.session.refresh(logistics)
    assert (logistics.name, logistics.name_zh, logistics.active) == ("Shipping", "发运", False)
    assert "Shipping" in client.get("/console/admin/departments").text
    # Its own ticket still shows (and keeps) it; another ticket is not offered it.
    own = client.get(f"/console/tickets/{number}").text
    assert re.search(r'<option value="logistics" selected>Shipping</option>', own)
    other = file_ticket()["number"]
    assert 'value="logistics"' not in client.get(f"/console/tickets/{other}").text
    # Nor does the API's list of departments to confirm tickets to.
    assert "logistics" not in [d["code"] for d in client.get("/api/v1/departments", headers=supervisor).json]
    # Staff are placed there no more: the new-account form does not offer it.
    assert 'value="logistics"' not in client.get("/console/admin/staff").text.split('id="department"')[1]


# --------------------------------------------------------------------------- plugins and jobs


def test_the_plugins_page_shows_declared_settings_with_secrets_masked(client, staff_login, kefu_plugins):
    import marshmallow as ma

    from service import hookimpl

    class Acme:
        @hookimpl
        def register_settings(self):
            class Settings(ma.Schema):
                ACME_URL = ma.fields.String(load_default="https://acme.example.com/api",
                                            metadata={"description": "Where the orders are"})
                ACME_API_TOKEN = ma.fields.String(load_default="tok-very-secret-1234")

            return Settings

    kefu_plugins.register(Acme(), name="acme")
    staff_login("admin")
    page = client.get("/console/admin/plugins").text
    section = re.search(r'<section class="card" id="settings-acme".*?</section>', page, re.DOTALL).group(0)
    assert "ACME_URL" in section and "https://acme.example.com/api" in section and "Where the orders are" in section
    assert "ACME_API_TOKEN" in section and "(hidden)" in section
    assert "tok-very-secret-1234" not in page, page[page.index("tok-very-secret-1234") - 300:][:400]
    tier = re.search(r'<section class="card" id="settings-tier_sla".*?</section>', page, re.DOTALL).group(0)
    assert "TIER_METHOD" in tier and "pyramid" in tier
    # A number of days named ..._TOKEN_DAYS is no secret.
    survey = re.search(r'<section class="card" id="settings-satisfaction_survey".*?</section>', page, re.S).group(0)
    assert "SURVEY_TOKEN_DAYS" in survey and "(hidden)" not in survey


def test_the_jobs_page_counts_scheduled_jobs_apart_from_queued_ones(client, staff_login):
    with UnitOfWork() as uow:
        job_api.enqueue("mail.notice", delay=timedelta(hours=1), message_id=1)
        job_api.enqueue("mail.notice", message_id=2)
        uow.commit()
    staff_login("admin")
    page = client.get("/console/admin/jobs").text
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', page))
    assert counts == {"scheduled": "1", "queued": "1", "running": "0", "retrying": "0", "failed": "0"}
    scheduled = re.search(r'<section id="jobs-scheduled".*?</section>', page, re.DOTALL).group(0)
    assert "mail.notice" in scheduled
    row = db.session.scalar(select(OutboxJob).where(OutboxJob.run_at.is_not(None)))
    assert f">{row.id}</th>" in scheduled
