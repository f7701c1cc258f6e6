"""``kefu demo`` loads into an empty database only: a second run says why it
stops (a clear error, not a traceback of clashing rows), ``--if-empty``
skips quietly (``make run`` on an instance that already has data)."""
from __future__ import annotations

from sqlalchemy import func, select

from service.cli import main as kefu_cli
from service.extensions import db
from service.models import Ticket


def test_the_demo_loads_once_and_then_says_why_not(app):
    runner = app.test_cli_runner()
    first = runner.invoke(kefu_cli, ["demo", "--small"])
    assert first.exit_code == 0, first.output
    tickets = db.session.scalar(select(func.count(Ticket.id)))
    again = runner.invoke(kefu_cli, ["demo", "--small"])
    assert again.exit_code == 1
    assert "the database already has data" in again.output and "--if-empty" in again.output
    assert "Traceback" not in again.output
    quiet = runner.invoke(kefu_cli, ["demo", "--small", "--if-empty"])
    assert quiet.exit_code == 0 and "demo not loaded" in quiet.output
    assert db.session.scalar(select(func.count(Ticket.id))) == tickets  # nothing added twice
