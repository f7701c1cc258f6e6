"""Fixtures for the job tests: a throwaway redis-server, an SMTP server on
loopback, ``kefu worker`` processes; all stopped in ``finally``."""
from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from jobparts import SinkHandler, Workers, free_port


@pytest.fixture
def smtp_sink():
    """An SMTP server on loopback recording what it receives (``.handler.messages``)."""
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    controller.handler_obj = handler
    try:
        yield controller
    finally:
        handler.release.set()
        controller.stop()


@pytest.fixture
def workers(app_config, tmp_path):
    """Start ``kefu worker`` processes on the test's settings (``workers.start()``)."""
    pool = Workers(app_config, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
