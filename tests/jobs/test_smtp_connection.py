"""Mail jobs share one SMTP connection per worker thread: one handshake for
a run of mails, a new connection when the server dropped the old one or it
sat idle, and nothing lost either way (a real SMTP server on loopback)."""
from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from jobparts import SinkHandler, free_port, smtp_settings

from service.extensions import db
from service.mail.outgoing.send import close_connection
from service.models import OutboxJob


@pytest.fixture
def overrides(smtp_sink):
    return smtp_settings(smtp_sink)


@pytest.fixture(autouse=True)
def no_connection_left():
    close_connection()
    yield
    close_connection()


def _file_and_confirm(file_ticket, act, agent, n):
    numbers = [file_ticket(email=f"c{i}@example.test")["number"] for i in range(n)]
    for number in numbers:
        act(agent, number, "confirm", department="logistics")
    return numbers


def test_a_run_of_mails_goes_over_one_connection(app, agent, file_ticket, act, jobs, smtp_sink):
    numbers = _file_and_confirm(file_ticket, act, agent, 4)
    jobs.drain(periodic=False)
    handler = smtp_sink.handler_obj
    assert sorted(m["X-Kefu-Ticket"] for m in handler.messages) == sorted(numbers * 2)  # received + confirmed
    assert len(set(handler.peers)) == 1, handler.peers


@pytest.mark.kefu_settings(SMTP_IDLE_SECONDS=0)
def test_a_connection_idle_too_long_is_opened_again(app, smtp_sink, agent, file_ticket, act, jobs):
    _file_and_confirm(file_ticket, act, agent, 2)
    jobs.drain(periodic=False)
    handler = smtp_sink.handler_obj
    assert len(handler.messages) == 4 and len(set(handler.peers)) == 4


def _serve(port):
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    return controller, handler


class TestAServerThatRestarts:
    """The server goes away under an open connection and comes back on its port."""

    @pytest.fixture
    def port(self):
        return free_port()

    @pytest.fixture
    def overrides(self, port):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 10}

    def test_the_dropped_connection_is_opened_again_and_the_mail_sent(self, app, port, agent, file_ticket, act,
                                                                     jobs):
        first, before = _serve(port)
        try:
            _file_and_confirm(file_ticket, act, agent, 1)
            jobs.drain(periodic=False)
            assert len(before.messages) == 2
        finally:
            first.stop()  # the open connection is dead now
        second, after = _serve(port)
        try:
            numbers = _file_and_confirm(file_ticket, act, agent, 2)
            jobs.drain(periodic=False)
            assert sorted(m["X-Kefu-Ticket"] for m in after.messages) == sorted(numbers * 2)
            assert len(set(after.peers)) == 1
            # Every mail job done on its first attempt: the reconnect is the send's, not a retry.
            assert {(row.done_at is not None, row.attempts) for row in db.session.query(OutboxJob)} == {(True, 1)}
        finally:
            second.stop()
