"""The customer profile reads what the plugins' sections show with the
customer (``customer_columns`` for ``PROFILE``): the sections are the same
as when each plugin queries for itself, the page runs a handful of
statements whatever is installed, and a plugin whose expression breaks in
the database costs its speed, not the page."""
from __future__ import annotations

import customerparts as parts
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from plugins.credit_check.profile import sections as credit_sections
from plugins.satisfaction_survey.profile import sections as satisfaction_sections
from plugins.tier_sla.profile import sections as tier_sections
from service import hookimpl, sdk
from service.extensions import db
from service.reads.lookup import PROFILE, customer_by_id


@pytest.fixture
def customers(file_ticket):
    """Two customers whose rows interleave: a query that ignored which
    customer it was about would show the other's newer rating or survey."""
    li = parts.customer("Li Lei", email="li@example.test")
    wang = parts.customer("Wang Fang", email="wang@example.test")
    parts.tier(li, "vip", 900_000, 1)
    parts.tier(wang, "small", 1_000, 2, override="major")
    parts.transaction(li, "INV-1", 12_345, days_ago=3)
    parts.transaction(li, "INV-2", 500_000, days_ago=500)  # outside the tier period
    parts.transaction(wang, "INV-3", 99_900, days_ago=1)
    parts.rating(li, "A", quarter="2026Q2", score="75.00")
    parts.rating(li, "AA", quarter="2026Q3", score="88.00")  # li's rating in force
    parts.rating(wang, "C", quarter="2026Q4", score="12.00")  # newer, but wang's
    parts.survey(li, parts.ticket_for(file_ticket, li, "Noisy dryer"), 5)
    parts.survey(wang, parts.ticket_for(file_ticket, wang, "Broken door"), 1, solved=False)
    return {"li": li, "wang": wang, "nobody": parts.customer("Zhou Jie", email="zhou@example.test")}


def _sections(customer, staff):
    return (tier_sections(customer), satisfaction_sections(customer), credit_sections(customer, staff))


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
def test_the_sections_from_the_profile_read_equal_the_plugins_own_queries(app, customers, make_staff, accept):
    supervisor = make_staff("supervisor")[0]
    for person in customers.values():
        with app.test_request_context("/", headers={"Accept-Language": accept}):
            read_with = customer_by_id(person.id, preload=PROFILE)
            assert sdk.preloaded(read_with, "credit_check.profile.total") is not sdk.NOT_LOADED
            preloaded = _sections(read_with, supervisor)
            db.session.rollback()  # a new transaction: what was read with the customer is forgotten
            read_alone = customer_by_id(person.id)
            assert sdk.preloaded(read_alone, "credit_check.profile.total") is sdk.NOT_LOADED
            assert preloaded == _sections(read_alone, supervisor), person.name
            db.session.rollback()


def test_the_profile_shows_each_customers_own_rows(client, staff_login, customers):
    staff_login("supervisor")
    li = client.get(f"/console/customers/{customers['li'].id}").text
    credit = li.split('data-panel="credit"', 1)[1].split("</section>", 1)[0]
    assert ">AA<" in credit and "88.00" in credit and "2026Q3" in credit and "<dd>2</dd>" in credit
    transactions = li.split('data-panel="transactions"', 1)[1].split("</section>", 1)[0]
    assert "<dd>2</dd>" in transactions and "CN¥5,123.45" in transactions and "CN¥123.45" in transactions
    tier = li.split('data-panel="tier"', 1)[1].split("</section>", 1)[0]
    assert "VIP" in tier and "CN¥9,000.00" in tier
    wang = client.get(f"/console/customers/{customers['wang'].id}").text
    assert "Supervisor&#39;s override" in wang.split('data-panel="tier"', 1)[1].split("</section>", 1)[0]
    satisfaction = wang.split('data-panel="satisfaction"', 1)[1].split("</section>", 1)[0]
    assert "Rating: 1/5" in satisfaction and "Rating: 5/5" not in satisfaction
    nobody = client.get(f"/console/customers/{customers['nobody'].id}").text
    assert "Not computed yet" in nobody and "No surveys yet" in nobody and ">not rated yet<" in nobody


def _statements(app, run) -> list[str]:
    seen = []

    def count(conn, cursor, statement, params, context, many):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_the_profile_runs_a_handful_of_statements(app, client, staff_login, customers):
    staff_login("supervisor")
    path = f"/console/customers/{customers['nobody'].id}"
    client.get(path)
    seen = [s for s in _statements(app, lambda: client.get(path)) if not s.lstrip().upper().startswith(
        ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"))]
    # The staff member, the customer with every plugin's columns, the counts
    # (no ticket, note or merged record: those lists are not read), and the
    # console's frame: the bell's unread count, the mark of the newest ticket
    # change (the sidebar's queue counts are kept while it holds:
    # service.web.queues.queue_counts), the saved views and the plugins'
    # links (relationship_health's unread notices).
    assert len(seen) == 7, seen
    frame = seen[3:]
    for part in ("FROM notifications", "max(tickets.id)", "FROM saved_views", "account_owner_notices"):
        assert sum(part in s for s in frame) == 1, part
    for table in ("customer_tiers", "tier_transactions", "surveys", "credit_ratings", "customer_health"):
        assert sum(f"FROM {table}" in s for s in seen[2:]) == 0, table  # nothing of theirs after the read


class Broken:
    @hookimpl
    def customer_columns(self, purpose):
        # Fine to build, broken to run: a column no table has.
        return {"broken.value": sa.literal_column("no_such_column")} if purpose == sdk.PROFILE else None


def test_a_plugin_column_that_fails_in_the_database_costs_speed_not_the_page(client, staff_login, customers,
                                                                              kefu_plugins):
    kefu_plugins.register(Broken(), name="broken")
    staff_login("supervisor")
    page = client.get(f"/console/customers/{customers['li'].id}")
    assert page.status_code == 200
    credit = page.text.split('data-panel="credit"', 1)[1].split("</section>", 1)[0]
    assert ">AA<" in credit  # the sections queried for themselves
    assert 'data-panel="tier"' in page.text and 'data-panel="satisfaction"' in page.text
