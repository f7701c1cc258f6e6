"""Console sessions end on the server: a copy of the session cookie (another
browser, a stolen cookie) stops working when its staff member signs out,
changes password or is deactivated, within the cookie's 8-hour lifetime."""
from __future__ import annotations

import pytest

from webpages import PASSWORD, csrf_of
from service.domain.errors import ValidationFailed
from service.extensions import db
from service.usecases.staff import create_staff, set_password

CONSOLE = "/console/"


@pytest.fixture
def account(app, departments):
    """``account(role)`` creates a staff member with the console password ``PASSWORD``."""
    counter = iter(range(1, 1000))

    def make(role="agent"):
        staff, _token = create_staff(f"{role}{next(counter)}@kefu.test", role.title(), role, "after_sales",
                                     password=PASSWORD)
        return staff

    return make


def _copy_of_session(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    copy = app.test_client()
    copy.set_cookie(name, client.get_cookie(name).value)
    return copy


def _signed_in(app, email, password=PASSWORD):
    """A new browser, signed in to the console as ``email``."""
    browser = app.test_client()
    page = browser.get("/console/login")
    response = browser.post("/console/login", data={"email": email, "password": password,
                                                    "csrf_token": csrf_of(page.text)})
    assert response.status_code == 302, response.text
    return browser


def _sign_out(client):
    response = client.post("/console/logout", data={"csrf_token": csrf_of(client.get(CONSOLE).text)})
    assert response.status_code == 302 and response.headers["Location"] == "/console/login"


def _ended(browser) -> bool:
    """True when ``browser``'s session no longer opens the console (sent to sign in)."""
    response = browser.get(CONSOLE)
    if response.status_code == 200:
        return False
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login"), response
    return True


def test_a_copied_cookie_stops_working_at_sign_out(app, account):
    me = account()
    browser = _signed_in(app, me.email)
    copy = _copy_of_session(app, browser)
    assert not _ended(copy)  # the copy works as well as the original
    _sign_out(browser)
    assert _ended(copy)
    assert _ended(browser)


def test_sign_out_ends_every_session_of_that_staff_member_only(app, account):
    me, other = account(), account()
    my_laptop, my_phone = _signed_in(app, me.email), _signed_in(app, me.email)
    others_browser = _signed_in(app, other.email)
    _sign_out(my_laptop)
    assert _ended(my_phone)  # "sign out" is "sign out everywhere"
    assert not _ended(others_browser)  # someone else's session is theirs


def test_a_fresh_sign_in_after_sign_out_works_and_the_old_copy_stays_ended(app, account):
    me = account()
    browser = _signed_in(app, me.email)
    copy = _copy_of_session(app, browser)
    _sign_out(browser)
    assert not _ended(_signed_in(app, me.email))
    assert _ended(copy)


def test_a_password_change_ends_every_session(app, account):
    me, other = account(), account()
    mine, others = _signed_in(app, me.email), _signed_in(app, other.email)
    copy = _copy_of_session(app, mine)
    set_password(me.id, "a brand new passphrase")
    assert _ended(mine) and _ended(copy)
    assert not _ended(others)
    assert not _ended(_signed_in(app, me.email, "a brand new passphrase"))
    refused = app.test_client()
    page = refused.get("/console/login")
    assert refused.post("/console/login", data={"email": me.email, "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)}).status_code == 401


def test_a_password_must_be_10_to_200_characters(app, account):
    me = account()
    before = me.password_hash
    for bad in ("", "short", "x" * 201):
        with pytest.raises(ValidationFailed) as raised:
            set_password(me.id, bad)
        assert raised.value.status == 422 and list(raised.value.fields) == ["password"]
    db.session.refresh(me)
    assert me.password_hash == before  # nothing written


def test_deactivation_ends_every_session_and_reactivation_does_not_revive_them(app, account):
    agent, admin = account("agent"), account("admin")
    agents_browser, admins_browser = _signed_in(app, agent.email), _signed_in(app, admin.email)
    assert not _ended(agents_browser)
    token = csrf_of(admins_browser.get("/console/admin/staff").text)
    admins_browser.post(f"/console/admin/staff/{agent.id}", data={"csrf_token": token, "role": "agent",
                                                                  "active": "0"})
    assert _ended(agents_browser)
    admins_browser.post(f"/console/admin/staff/{agent.id}", data={"csrf_token": token, "role": "agent",
                                                                  "active": "1"})
    assert _ended(agents_browser)  # the old cookie stays dead; the agent signs in afresh
    assert not _ended(_signed_in(app, agent.email))
    assert not _ended(admins_browser)  # the admin's own session is untouched


def test_a_role_change_applies_to_the_open_session_at_once(app, account):
    # Roles are read from the database on every request: a demotion needs no
    # sign-out, and the demoted supervisor keeps working as an agent.
    supervisor, admin = account("supervisor"), account("admin")
    supervisors_browser, admins_browser = _signed_in(app, supervisor.email), _signed_in(app, admin.email)
    assert supervisors_browser.get("/console/dashboard").status_code == 200
    token = csrf_of(admins_browser.get("/console/admin/staff").text)
    admins_browser.post(f"/console/admin/staff/{supervisor.id}", data={"csrf_token": token, "role": "agent",
                                                                       "active": "1"})
    assert supervisors_browser.get("/console/dashboard").status_code == 403
    assert not _ended(supervisors_browser)


def test_a_session_without_a_session_version_is_not_accepted(app, account):
    # A cookie signed before the upgrade (no version in it) asks for a fresh sign-in.
    me = account()
    browser = _signed_in(app, me.email)
    with browser.session_transaction() as session:
        session.pop("staff_sv", None)
        session.pop("staff_fp", None)
        assert session["staff_id"] == me.id
    assert _ended(browser)


def test_the_cookie_slides_forward_at_most_once_per_refresh_interval(app, account):
    """A console page re-issues the session cookie (its 8 hours start again)
    only when it was signed ``SESSION_REFRESH_AFTER`` seconds ago or more,
    not on every response; a changed session is always written."""
    me = account()
    browser = _signed_in(app, me.email)
    browser.get(CONSOLE)  # the page's forms add the CSRF secret to the new session: written once
    first = browser.get(CONSOLE)
    assert first.status_code == 200 and "Set-Cookie" not in first.headers  # unchanged, signed a moment ago
    app.config["SESSION_REFRESH_AFTER"] = 0
    again = browser.get(CONSOLE)
    assert again.status_code == 200 and app.config["SESSION_COOKIE_NAME"] in again.headers["Set-Cookie"]
    assert "HttpOnly" in again.headers["Set-Cookie"] and not _ended(browser)  # the new cookie keeps the session
    app.config["SESSION_REFRESH_AFTER"] = 300
    switched = browser.post("/lang/en", data={"csrf_token": csrf_of(browser.get(CONSOLE).text),
                                                          "back": CONSOLE})
    assert switched.status_code in (302, 303)
    assert app.config["SESSION_COOKIE_NAME"] in switched.headers["Set-Cookie"]  # the session changed: written
