"""Web security: CSRF on every form (API exempt), headers, session cookie, login throttling."""
from __future__ import annotations

import re

import pytest

from webpages import PASSWORD, csrf_of


def test_forms_without_a_csrf_token_are_refused(client, file_on_form, staff_login):
    response = client.post("/", data={"subject": "x", "description": "y", "name": "n", "email": "a@b.test"})
    assert response.status_code == 400
    assert "The form has expired" in response.text
    number, path = file_on_form()
    assert client.post(path + "/reply", data={"body": "hi"}).status_code == 400
    staff_login("agent")
    assert client.post(f"/console/tickets/{number}/transition",
                       data={"action": "confirm", "version": "1", "department": "logistics"}).status_code == 400
    assert client.post("/console/logout").status_code == 400
    # A forged token is refused as well.
    assert client.post("/", data={"csrf_token": "forged"}).status_code == 400


def test_the_json_api_is_exempt_from_csrf(client, agent, file_ticket):
    # Bearer-token clients send no CSRF token; the API answers them as before.
    number = file_ticket()["number"]
    response = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                           json={"action": "confirm", "version": 1, "department": "logistics"})
    assert response.status_code == 200


def test_security_headers_on_pages(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script" not in response.text  # no inline script to allow
    api = client.get("/api/v1/public/tickets/nope")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_tracking_and_console_pages_are_not_cached(client, file_on_form):
    _number, path = file_on_form()
    assert client.get(path).headers["Cache-Control"] == "no-store"
    assert client.get("/console/login").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client, staff_login):
    staff_login("agent")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure


@pytest.mark.parametrize("overrides", [{"SESSION_COOKIE_SECURE": True}])
def test_session_cookie_is_secure_when_configured(app, client, departments):
    from service.usecases.staff import create_staff

    staff, _ = create_staff("secure@kefu.test", "S", "agent", password=PASSWORD)
    page = client.get("/console/login")
    response = client.post("/console/login", data={"email": staff.email, "password": PASSWORD,
                                                    "csrf_token": csrf_of(page.text)})
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}])
def test_login_is_throttled(app, client, departments):
    from service.usecases.staff import create_staff

    staff, _ = create_staff("throttle@kefu.test", "T", "agent", password=PASSWORD)
    token = csrf_of(client.get("/console/login").text)
    for _ in range(3):
        wrong = client.post("/console/login", data={"email": staff.email, "password": "wrong-password",
                                                     "csrf_token": token})
        assert wrong.status_code == 401
        assert "Wrong e-mail or password" in wrong.text
    blocked = client.post("/console/login", data={"email": staff.email, "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert client.get("/console/").status_code == 302  # still signed out


def test_login_does_not_redirect_off_site(client, departments):
    from service.usecases.staff import create_staff

    staff, _ = create_staff("redirect@kefu.test", "R", "agent", password=PASSWORD)
    token = csrf_of(client.get("/console/login").text)
    response = client.post("/console/login", data={"email": staff.email, "password": PASSWORD, "csrf_token": token,
                                                    "next": "//evil.example/console"})
    assert response.headers["Location"] == "/console/"


def test_sign_out_ends_the_session_and_a_deactivated_account_is_signed_out(client, staff_login):
    from service.extensions import db

    staff = staff_login("agent")
    assert client.get("/console/").status_code == 200
    page = client.get("/console/")
    assert client.post("/console/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 302
    assert client.get("/console/").status_code == 302

    staff = staff_login("agent")
    staff.active = False
    db.session.commit()
    assert client.get("/console/").headers["Location"].startswith("/console/login")


def test_the_language_switch_stays_on_this_site(client):
    token = csrf_of(client.get("/").text)
    for back in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        response = client.post("/lang/en", data={"csrf_token": token, "back": back})
        assert response.headers["Location"] == "/", back
    assert client.post("/lang/en", data={"csrf_token": token, "back": "/track/abc"}).headers["Location"] == "/track/abc"


def test_an_unknown_e_mail_and_a_wrong_password_get_the_same_answer(client, departments):
    from service.usecases.staff import create_staff

    staff, _ = create_staff("known@kefu.test", "K", "agent", password=PASSWORD)
    token = csrf_of(client.get("/console/login").text)
    unknown = client.post("/console/login", data={"email": "nobody@kefu.test", "password": "x" * 12,
                                                   "csrf_token": token})
    wrong = client.post("/console/login", data={"email": staff.email, "password": "x" * 12, "csrf_token": token})
    assert unknown.status_code == wrong.status_code == 401
    def page(response, email):
        return re.sub(r'value="[^"]*"', "", response.text.replace(email, "E"))

    assert page(unknown, "nobody@kefu.test") == page(wrong, staff.email)


def test_a_new_secret_key_ends_sessions_signed_with_the_old_one(app, client, staff_login):
    # The cookie's signer is kept per set of keys (service.web.cookie): a
    # rotated key must still be the one that signs and checks.
    staff_login("agent")
    assert client.get("/console/").status_code == 200
    old = app.secret_key
    app.secret_key = "a-new-secret-key-for-this-test-0123456789"
    assert client.get("/console/").status_code == 302  # the old signature no longer counts
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/console/").status_code == 200  # ... unless the old key is a fallback
