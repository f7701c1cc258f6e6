"""Fixtures for the job tests: a throwaway redis-server, an SMTP server on
loopback, ``kefu worker`` processes; all stopped in ``finally``."""
from __future__ import annotations

import pytest
from jobparts import Workers


@pytest.fixture
def workers(app_config, tmp_path):
    """Start ``kefu worker`` processes on the test's settings (``workers.start()``)."""
    pool = Workers(app_config, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
