"""Fixtures for the deployment tests: a PostgreSQL cluster of the tests'
own, which a test may stop and start (the suite's own PostgreSQL server
cannot be stopped under the other tests); ``redis_server`` is the suite's.
Everything started here is stopped in ``finally``."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from pgcluster import PgCluster
from testdb import _reset_pg, _upgrade


@pytest.fixture(scope="session")
def own_pg(tmp_path_factory):
    """A migrated PostgreSQL cluster of the deployment tests' own: ``(cluster, seeded rows)``."""
    cluster = PgCluster()
    try:
        cluster.create()
        _upgrade(cluster.url, tmp_path_factory.mktemp("own-pg") / "instance")
        engine = sa.create_engine(cluster.url)
        with engine.connect() as conn:
            seeded = {"categories": [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM categories"))]}
        engine.dispose()
        yield cluster, seeded
    finally:
        cluster.destroy()


@pytest.fixture
def pg(own_pg):
    """The own cluster, running and emptied (but for reference data) for this test."""
    cluster, seeded = own_pg
    if cluster.pid() is None:
        cluster.start()
    _reset_pg(cluster.url, seeded)
    try:
        yield cluster
    finally:
        if cluster.pid() is None:
            cluster.start()
