"""Fixtures for the deployment tests: a PostgreSQL cluster of the tests'
own, which a test may stop and start (the suite's own PostgreSQL server
cannot be stopped under the other tests); ``redis_server`` is the suite's.
Everything started here is stopped in ``finally``."""
from __future__ import annotations

import pytest
from pgcluster import PgCluster

from service.testing.database import TestDatabases


@pytest.fixture(scope="session")
def own_pg(tmp_path_factory, kefu_reference_data):
    """The deployment tests' own cluster, its database migrated: ``(cluster, TestDatabases)``."""
    cluster = PgCluster()
    try:
        cluster.create()
        databases = TestDatabases(tmp_path_factory.mktemp("own-pg"), kefu_reference_data, cluster.url,
                                  own_database=False).prepare({})
        yield cluster, databases
    finally:
        cluster.destroy()


@pytest.fixture
def pg(own_pg, tmp_path):
    """The own cluster, running and emptied (but for reference data) for this test."""
    cluster, databases = own_pg
    if cluster.pid() is None:
        cluster.start()
    databases.fresh(tmp_path)
    try:
        yield cluster
    finally:
        if cluster.pid() is None:
            cluster.start()
