"""The SDK's language helpers translate as Flask-Babel's do (the catalog of
the language in force, ``%(name)s`` filled in, a ``force_locale`` block
honoured); ``read`` runs a Core select in the session's transaction;
``ticket_number`` is the number people see. The console's ``minute``
filter shows what Babel's ``yyyy-MM-dd HH:mm`` pattern shows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import flask_babel
import pytest
from sqlalchemy import bindparam, select

from service import sdk
from service.extensions import db
from service.models import Customer
from service.web.i18n import minute


@pytest.mark.parametrize("accept, tier, ago", [("zh-CN", "客户等级", "最近 30 天"), ("en", "Tier", "In the last 30 days")])
def test_gettext_is_the_catalog_of_the_language_in_force(app, accept, tier, ago):
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        flask_babel.refresh()  # as each request does (the test's app context outlives one)
        assert sdk.gettext("Tier") == flask_babel.gettext("Tier") == tier
        # Variables are filled in as Flask-Babel fills them.
        assert sdk.gettext("In the last %(days)s days", days=30) == flask_babel.gettext(
            "In the last %(days)s days", days=30)
        assert sdk.gettext("In the last %(days)s days", days=30) == ago
        assert sdk.gettext("a text nobody translated") == "a text nobody translated"


def test_a_forced_locale_and_a_refresh_are_honoured_within_one_request(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        flask_babel.refresh()
        assert sdk.gettext("Tier") == "Tier"
        with flask_babel.force_locale("zh_CN"):  # a mail in the customer's language
            assert sdk.gettext("Tier") == "客户等级"
            assert sdk.pgettext("tier", "VIP") == flask_babel.pgettext("tier", "VIP") == "贵宾客户"
        assert sdk.gettext("Tier") == "Tier"  # back to the page's language


def test_ngettext_and_the_lazy_forms(app):
    label = sdk.lazy_gettext("Tier")
    tier = sdk.lazy_pgettext("tier", "VIP")
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        flask_babel.refresh()
        assert str(label) == "客户等级" and str(tier) == "贵宾客户"
        assert sdk.ngettext("%(num)s day", "%(num)s days", 3) == flask_babel.ngettext("%(num)s day", "%(num)s days", 3)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        flask_babel.refresh()
        assert str(label) == "Tier"  # the same object, read in another language
        assert sdk.ngettext("%(num)s day", "%(num)s days", 1) == "1 day"
        assert sdk.ngettext("%(num)s day", "%(num)s days", 2) == "2 days"


def test_read_sees_the_sessions_flushed_rows_and_returns_rows(app):
    with app.app_context():
        customer = Customer(name="Read Me", email="read.me@example.test", language="en")
        db.session.add(customer)
        db.session.flush()  # not committed: read runs in the same transaction
        rows = sdk.read(select(Customer.id, Customer.name).where(Customer.email == "read.me@example.test")).all()
        assert [(r.id, r.name) for r in rows] == [(customer.id, "Read Me")]
        named = sdk.read(select(Customer.name).where(Customer.id == bindparam("customer_id")), {"customer_id": customer.id})
        assert named.scalar_one() == "Read Me"
        db.session.rollback()
        assert sdk.read(select(Customer.id).where(Customer.email == "read.me@example.test")).first() is None


def test_ticket_number_follows_the_prefix(app):
    with app.app_context():
        assert sdk.ticket_number(12) == "KF-000012"
        app.config["TICKET_PREFIX"] = "CS"
        assert sdk.ticket_number(1234567) == "CS-1234567"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("accept", ["zh-CN", "en"])
def test_the_minute_filter_shows_what_babels_pattern_shows(app, zone, accept):
    app.config["DEFAULT_TIMEZONE"] = zone
    start = datetime(2026, 3, 7, 22, 59, 59, tzinfo=timezone.utc)  # across New York's change to summer time
    with app.test_request_context("/", headers={"Accept-Language": accept}):
        flask_babel.refresh()
        for hours in range(0, 60, 7):
            value = start + timedelta(hours=hours, minutes=hours * 3)
            assert minute(value) == flask_babel.format_datetime(value, "yyyy-MM-dd HH:mm"), (zone, value)
