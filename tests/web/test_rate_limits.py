"""Rate limits behind a proxy, per account, and with Retry-After (issue
"Hardening", row 4).

Clients are told apart by the address the test client sends from
(``REMOTE_ADDR``) and, behind the proxy, by ``X-Forwarded-For``; every
address is a loopback one.
"""
from __future__ import annotations

import pytest
from webpages import PASSWORD, csrf_of

from service.extensions import db
from tests.api.test_errors_and_security import PUBLIC_BODY, assert_error

PROXY = "127.0.0.1"  # the reverse proxy every request comes through


@pytest.fixture
def staff_account(app, departments):
    """``staff_account()`` -> the e-mail of a new agent whose password is ``PASSWORD``."""
    from service.usecases.staff import create_staff

    counter = iter(range(1, 100))

    def make():
        staff, _token = create_staff(f"limits{next(counter)}@kefu.test", "Agent", "agent", "after_sales",
                                     password=PASSWORD)
        db.session.commit()
        return staff.email

    return make


@pytest.fixture
def sign_in(app):
    """``sign_in(email, password, address, forwarded=None)`` -> the response of
    one sign-in attempt from a fresh browser at ``address`` (behind the proxy
    when ``forwarded`` is given)."""

    def attempt(email, password, address, forwarded=None):
        browser = app.test_client()
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        environ = {"REMOTE_ADDR": address}
        page = browser.get("/console/login", headers=headers, environ_base=environ)
        return browser.post("/console/login", headers=headers, environ_base=environ,
                            data={"email": email, "password": password, "csrf_token": csrf_of(page.text)})

    return attempt


def _retry_after(response) -> int:
    value = int(response.headers["Retry-After"])
    assert 1 <= value <= 15 * 60, value
    return value


@pytest.mark.parametrize("overrides", [{"LOGIN_RATE_LIMIT": "3 per minute", "PROXY_FIX_X_FOR": 1}])
def test_behind_the_proxy_one_client_cannot_lock_out_another(sign_in, staff_account):
    email = staff_account()
    for _ in range(3):
        assert sign_in(email, "wrong password", PROXY, forwarded="127.0.0.10").status_code == 401
    blocked = sign_in(email, "wrong password", PROXY, forwarded="127.0.0.10")
    assert blocked.status_code == 429
    _retry_after(blocked)
    # Another client behind the same proxy has a bucket of its own.
    assert sign_in(staff_account(), PASSWORD, PROXY, forwarded="127.0.0.11").status_code == 302


@pytest.mark.parametrize("overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}])
def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(sign_in, staff_account):
    email = staff_account()
    for i in range(3):
        assert sign_in(email, "wrong password", "127.0.0.20", forwarded=f"127.0.0.{30 + i}").status_code == 401
    assert sign_in(staff_account(), PASSWORD, "127.0.0.20", forwarded="127.0.0.99").status_code == 429


@pytest.mark.parametrize("overrides", [{"LOGIN_RATE_LIMIT": "100 per minute",
                                        "LOGIN_ACCOUNT_RATE_LIMIT": "3 per 15 minutes"}])
def test_one_account_cannot_be_sprayed_from_many_addresses(sign_in, staff_account):
    target, other = staff_account(), staff_account()
    for i in range(3):
        assert sign_in(target.upper(), "wrong password", f"127.0.0.{40 + i}").status_code == 401
    # A fourth address, even with the right password: the account waits.
    blocked = sign_in(f"  {target} ", PASSWORD, "127.0.0.50")
    assert blocked.status_code == 429
    assert _retry_after(blocked) > 60  # the account's window, not the address's minute
    # The same addresses may still sign in to other accounts.
    assert sign_in(other, PASSWORD, "127.0.0.40").status_code == 302


@pytest.mark.parametrize("overrides", [{"LOGIN_ACCOUNT_RATE_LIMIT": "3 per 15 minutes"}])
def test_the_owner_signing_in_spends_nothing_of_the_account_limit(sign_in, staff_account):
    email = staff_account()
    for i in range(6):
        assert sign_in(email, PASSWORD, f"127.0.0.{60 + i}").status_code == 302


@pytest.mark.parametrize("overrides", [{"PUBLIC_RATE_LIMIT": "2 per minute", "PROXY_FIX_X_FOR": 1}])
def test_public_limits_count_per_client_behind_the_proxy_and_say_when_to_retry(app):
    def file(browser, forwarded):
        return browser.post("/api/v1/public/tickets", json=PUBLIC_BODY, environ_base={"REMOTE_ADDR": PROXY},
                            headers={"X-Forwarded-For": forwarded})

    first, second = app.test_client(), app.test_client()
    assert [file(first, "127.0.0.70").status_code for _ in range(2)] == [201, 201]
    blocked = file(first, "127.0.0.70")
    assert_error(blocked, 429, "rate_limited")
    assert 1 <= _retry_after(blocked) <= 60
    assert file(second, "127.0.0.71").status_code == 201
    # The customer form's 429 page says when, too.
    where = {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": {"X-Forwarded-For": "127.0.0.72"}}
    browser = app.test_client()
    answers = []
    for _ in range(3):
        page = browser.get("/", **where)
        answers.append(browser.post("/", **where, data={
            "kind": "complaint", "category": "other", "subject": "Late", "description": "Still waiting.",
            "name": "Wang Fang", "email": "wang@example.test", "csrf_token": csrf_of(page.text)}))
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert _retry_after(answers[2]) >= 1
