"""Read-only API views (``service.reads.read_only.read_only``) run without a transaction;
everything else keeps one.

What is checked is the driver connection's own state for every statement a
request runs, so the test sees what the database sees (no BEGIN, no
ROLLBACK), not SQLAlchemy's bookkeeping events: psycopg's autocommit flag on
PostgreSQL; on SQLite, whether sqlite3 has a transaction open (its driver
begins one only before a write, so reads run outside one by themselves).
"""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from service import hookimpl
from service.extensions import db


def _autocommit(dbapi_connection) -> bool:
    """True when the statement about to run is outside any transaction."""
    if hasattr(dbapi_connection, "in_transaction"):  # sqlite3
        return not dbapi_connection.in_transaction
    return bool(dbapi_connection.autocommit)  # psycopg


@contextmanager
def statements():
    """Collect ``(statement, autocommit)`` for every statement run meanwhile."""
    seen = []

    def listener(conn, _cursor, statement, *_args):
        seen.append((statement, _autocommit(conn.connection.dbapi_connection)))

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def _ticket_for_a_customer(client, agent):
    created = client.post("/api/v1/tickets", headers=agent, json={
        "contact": {"name": "Zhao Lei", "email": "zhao@example.test"}, "subject": "Late", "description": "Late."})
    assert created.status_code == 201, created.json
    db.session.commit()  # end the test's own transaction: each request below starts on a fresh one
    return created.json["number"], created.json["customer"]["id"]


def test_staff_reads_run_in_autocommit_and_writes_in_a_transaction(app, client, agent):
    number, customer_id = _ticket_for_a_customer(client, agent)
    for url in (f"/api/v1/tickets/{number}", "/api/v1/tickets?limit=5", f"/api/v1/tickets/{number}/history",
                f"/api/v1/tickets/{number}/messages", f"/api/v1/customers/{customer_id}",
                "/api/v1/customers?limit=5", f"/api/v1/customers/{customer_id}/tickets",
                "/api/v1/departments", "/api/v1/categories"):
        with statements() as seen:
            response = client.get(url, headers=agent)
        assert response.status_code == 200, (url, response.json)
        assert seen, url  # the read did reach the database
        assert all(autocommit for _, autocommit in seen), (url, seen)

    # A write right after, in the same app context (and session), is one transaction again.
    with statements() as seen:
        reply = client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                            json={"body": "We are on it.", "internal": False})
    assert reply.status_code == 201
    # (sqlite3 begins right before the first write: the statements after it are inside.)
    assert seen and not all(autocommit for _, autocommit in seen), seen
    with statements() as seen:
        edited = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"priority": "high", "version": 1})
    assert edited.status_code == 200, edited.json
    assert not all(autocommit for _, autocommit in seen), seen


def test_a_read_inside_an_open_transaction_stays_in_it(app, client, agent):
    # Where the session already holds a transaction (a longer app context:
    # tests, CLI code), the read joins it instead of switching modes.
    number, _ = _ticket_for_a_customer(client, agent)
    db.session.execute(sa.text("UPDATE tickets SET version = version WHERE id < 0"))  # opens one on both databases
    with statements() as seen:
        assert client.get(f"/api/v1/tickets/{number}", headers=agent).status_code == 200
    assert seen and not any(autocommit for _, autocommit in seen), seen
    db.session.rollback()


def test_a_decider_whose_query_fails_in_a_read_only_request_spoils_nothing(kefu_plugins, client, agent):
    # Without a transaction a failed statement aborts nothing (on PostgreSQL it
    # would abort the transaction, hence the savepoints deciders get inside one):
    # the failure is skipped and the request's later reads still work.
    class Broken:
        @hookimpl
        def customer_tier(self, customer):
            db.session.execute(sa.text("SELECT no_such_column FROM customers"))

    _, customer_id = _ticket_for_a_customer(client, agent)
    kefu_plugins.register(Broken(), name="broken")
    with statements() as seen:
        shown = client.get(f"/api/v1/customers/{customer_id}", headers=agent)
    assert shown.status_code == 200, shown.json
    assert shown.json["tier"] is None and shown.json["name"] == "Zhao Lei"
    # The plugin's failure is counted once the request is over, on a
    # connection of its own (service.hooks.failures); the request's reads
    # ran without a transaction.
    counted = [statement for statement, _ in seen if "plugin_failures" in statement]
    assert len(counted) == 1
    seen = [pair for pair in seen if "plugin_failures" not in pair[0]]
    assert all(autocommit for _, autocommit in seen)
    assert not any("SAVEPOINT" in statement for statement, _ in seen), seen
    listed = client.get("/api/v1/customers?limit=5", headers=agent)
    assert listed.status_code == 200 and [c["tier"] for c in listed.json["items"]] == [None]


def test_a_page_of_customers_is_one_statement_whatever_its_size(app, client, agent):
    # The builtin plugins' tier and satisfaction class come with the customers
    # (customer_columns), not from a query per customer.
    for n in range(12):
        assert client.post("/api/v1/customers", headers=agent,
                           json={"name": f"Customer {n}", "email": f"c{n}@example.test"}).status_code == 201
    db.session.commit()
    for limit in (2, 10):
        with statements() as seen:
            page = client.get(f"/api/v1/customers?limit={limit}", headers=agent)
        assert page.status_code == 200 and len(page.json["items"]) == limit
        assert all("tier" in c and "satisfaction_class" in c for c in page.json["items"])
        assert len(seen) == 1, seen
