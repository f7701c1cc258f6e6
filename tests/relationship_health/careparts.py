"""Parts for the account-owner and care tests: a real webhook receiver on
loopback, and reads of what the care path wrote."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from service.extensions import db
from service.models import Ticket


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.bodies.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_receiver():
    """An HTTP server on 127.0.0.1 recording the JSON bodies POSTed to it (``.bodies``, ``.url``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.bodies, server.lock = [], threading.Lock()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def care_tickets(customer_id: int) -> list[Ticket]:
    """The customer's care tickets, oldest first, read fresh."""
    db.session.rollback()
    return list(db.session.scalars(sa.select(Ticket).where(Ticket.customer_id == customer_id,
                                                           Ticket.kind == "care").order_by(Ticket.id)))
