"""Tests of chat_notifier on kefu's pytest fixtures, against a real chat
server: an HTTP receiver on 127.0.0.1 that records what it is posted.

A breach happens as in production: ``kefu_clock`` moves past the ticket's
first-response due time and ``kefu_jobs.drain()`` runs the builtin
``tier_sla`` plugin's periodic SLA sweep, which fires ``sla_breached``; the
plugin's job then posts, in the same drain.
"""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import kefu_chat_notifier


@pytest.fixture
def chat():
    """A chat server on 127.0.0.1: ``chat.url``; ``chat.posted``, what it took,
    as ``(path, content type, JSON body)``; ``chat.failing``, how many posts
    it still answers 503 to (and leaves out of ``posted``). Stopped after the test."""

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if server.failing:
                server.failing -= 1
                self.send_response(503)
            else:
                server.posted.append((self.path, self.headers["Content-Type"], json.loads(body)))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.url, server.posted, server.failing = f"http://127.0.0.1:{server.server_port}/hooks/kefu", [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def kefu_settings(kefu_settings, chat):
    """The plugin posts to the test's chat server (a test's marker still wins)."""
    return {"CHAT_NOTIFIER_URL": chat.url, **kefu_settings}


@pytest.mark.kefu_settings(CHAT_NOTIFIER_CHANNEL="#escalations")
def test_a_breach_is_posted_to_the_chat_once(kefu_tickets, kefu_jobs, kefu_clock, chat):
    ticket = kefu_tickets.ticket(priority="high")  # filed, and nobody answers it
    number, due = ticket.number, ticket.first_response_due
    kefu_jobs.drain()  # the SLA sweep starts the ticket's clock: nothing is due yet
    assert chat.posted == []

    kefu_clock.move_to(due + timedelta(minutes=1))
    kefu_jobs.drain()  # the sweep records the warning and the breach; the breach is posted
    [(path, content_type, message)] = chat.posted
    assert path == "/hooks/kefu" and content_type == "application/json"
    assert message == {"channel": "#escalations", "ticket": number, "priority": "high", "target": "first_response",
                       "step": "breach", "due": due.isoformat(),
                       "text": f"{number} (high) missed its first response target, due {due.isoformat()} (breach)."}

    kefu_jobs.drain()  # later sweeps find nothing new
    kefu_chat_notifier.post(ticket.id, "first_response", due.isoformat(), "breach")  # the job delivered twice
    assert len(chat.posted) == 1


def test_each_target_and_step_is_posted_once(kefu_tickets, kefu_jobs, kefu_clock, chat):
    ticket = kefu_tickets.ticket(priority="high")
    kefu_jobs.drain()
    # Past the resolution target: by then the first response was missed long
    # ago, and escalated (tier_sla's default ladder: breach, then take-over).
    kefu_clock.move_to(ticket.resolution_due + timedelta(minutes=1))
    kefu_jobs.drain()
    assert sorted((m["ticket"], m["target"], m["step"]) for _, _, m in chat.posted) == [
        (ticket.number, "first_response", "breach"), (ticket.number, "first_response", "takeover"),
        (ticket.number, "resolution", "breach")]


def test_a_chat_server_that_fails_gets_the_message_when_the_job_is_retried(kefu_tickets, kefu_jobs, kefu_clock,
                                                                             chat):
    ticket = kefu_tickets.ticket(priority="high")
    kefu_jobs.drain()
    chat.failing = 1
    kefu_clock.move_to(ticket.first_response_due + timedelta(minutes=1))
    kefu_jobs.drain()  # the post is answered 503: the job fails, and is retried after JOB_RETRY_INTERVALS
    assert chat.failing == 0 and chat.posted == []

    kefu_clock.advance(seconds=5)
    kefu_jobs.drain()
    assert [(m["ticket"], m["target"], m["step"]) for _, _, m in chat.posted] == [
        (ticket.number, "first_response", "breach")]


@pytest.mark.kefu_settings(DISABLED_PLUGINS=["tier_sla"])
def test_with_tier_sla_off_the_plugin_still_loads_idle(kefu_plugins, kefu_tickets, kefu_jobs, kefu_clock, chat):
    # sla_breached is marked optionalhook: no spec without tier_sla, and no refusal either.
    assert kefu_plugins.info("chat_notifier").failures == []
    kefu_tickets.ticket(priority="urgent")
    kefu_clock.advance(days=3)
    kefu_jobs.drain()
    assert chat.posted == []
