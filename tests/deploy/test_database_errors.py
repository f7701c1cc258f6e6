"""Which database errors mean "unreachable" (503) and which stay what they
are: the real exceptions of real drivers, not made-up ones."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from deployparts import BODY
from jobparts import free_port

from service.extensions import db


def raised(engine, *statements):
    try:
        with engine.connect() as conn:
            for statement in statements or ("SELECT 1",):
                conn.execute(sa.text(statement))
    except Exception as exc:  # noqa: BLE001 - the test looks at what the driver raised
        return exc
    finally:
        engine.dispose()
    raise AssertionError("nothing was raised")


def unavailable(exc) -> bool:
    from service.web import health

    return health.is_database_unavailable(exc)


def test_a_refused_connection_is_unavailable():
    nobody = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kefu"
    assert unavailable(raised(sa.create_engine(nobody)))


def test_an_exhausted_pool_is_unavailable(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/pool.db", poolclass=sa.pool.QueuePool, pool_size=1,
                              max_overflow=0, pool_timeout=0.05)
    held = engine.connect()
    try:
        with pytest.raises(sa.exc.TimeoutError) as waited:
            engine.connect()
        assert unavailable(waited.value)
    finally:
        held.close()
        engine.dispose()


@pytest.mark.parametrize("statement", ["SELECT * FROM no_such_table", "SELEC 1"])
def test_mistakes_in_sql_are_not_outages(tmp_path, statement):
    assert not unavailable(raised(sa.create_engine(f"sqlite:///{tmp_path}/x.db"), statement))


def test_a_constraint_violation_is_not_an_outage(tmp_path):
    exc = raised(sa.create_engine(f"sqlite:///{tmp_path}/x.db"),
                 "CREATE TABLE t (a INTEGER NOT NULL)", "INSERT INTO t VALUES (NULL)")
    assert isinstance(exc, sa.exc.IntegrityError)
    assert not unavailable(exc)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("overrides", [{"PROPAGATE_EXCEPTIONS": False}])
def test_other_database_errors_stay_500(app, client):
    """A missing table is a broken deployment, not a blink: a 500, logged, as before."""
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE ticket_events"))
    answer = client.post("/api/v1/public/tickets", json=BODY)
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers
