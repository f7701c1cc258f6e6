"""Fixtures for the webhooks plugin: a real HTTP receiver on loopback, and helpers."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from plugins.webhooks.models import WebhookDelivery
from service.extensions import db


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with receiver.lock:
            receiver.requests.append({"path": self.path, "body": body,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
            status = receiver.answers.pop(0) if receiver.answers else 200
        if receiver.delay:
            time.sleep(receiver.delay)
        content = b"ok" if status < 300 else b"receiver says no"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except OSError:  # the sender gave up (a timeout test)
            pass

    def log_message(self, *args):  # keep the test output quiet
        pass


class Receiver:
    """Records every POST (``requests``: path, lower-cased headers, raw body);
    answers the statuses in ``answers`` first, then 200; waits ``delay`` s."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.receiver = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kefu"


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 (a free port), stopped afterwards."""
    rec = Receiver()
    thread = threading.Thread(target=rec.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        rec.server.shutdown()
        rec.server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def dead_url():
    """An http URL on loopback where nothing listens (a port bound, then closed)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/gone"


@pytest.fixture
def register(client, admin):
    """``register(url, events=[...], **fields)`` -> the create answer (with the secret)."""

    def do(url, events=("ticket.created",), **fields):
        response = client.post("/api/v1/admin/webhooks", headers=admin,
                               json={"url": url, "events": list(events), **fields})
        assert response.status_code == 201, response.json
        return response.json

    return do


@pytest.fixture
def log(client, admin):
    """``log(endpoint_id)`` -> the endpoint's deliveries from the API, newest first."""

    def do(endpoint_id, **query):
        db.session.rollback()  # the jobs committed in sessions of their own
        response = client.get(f"/api/v1/admin/webhooks/{endpoint_id}/deliveries", headers=admin,
                              query_string=query)
        assert response.status_code == 200, response.json
        return response.json["items"]

    return do


def stored_deliveries(endpoint_id=None) -> list[WebhookDelivery]:
    """Committed deliveries (of one endpoint), oldest first, read fresh."""
    db.session.rollback()
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    return db.session.scalars(stmt).all()


@pytest.fixture
def deliveries():
    return stored_deliveries
