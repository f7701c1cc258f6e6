"""kefu's pytest fixtures (service.testing), tested as pytest tests its own
plugins: an inner pytest run, in a folder of its own with nothing but test
files - as a plugin author's project starts. The inner run finds the
fixtures through kefu's ``pytest11`` entry point and uses the same database
as the outer one (SQLite, or the PostgreSQL server of
``KEFU_TEST_DATABASE_URL``), with the default reference data. One inner run
holds every module below (one session: the database is migrated once); each
outer test checks its own module's tests.
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

INNER: dict[str, str] = {}  # inner module name -> its source


def inner(name: str, source: str) -> str:
    INNER[name] = textwrap.dedent(source)
    return name


@pytest.fixture(scope="module")
def inner_run(tmp_path_factory):
    """``(returncode, output)`` of one pytest run over every inner module, in
    a process of its own (kefu's models are declared once per process)."""
    folder = tmp_path_factory.mktemp("plugin-author")
    for name, source in INNER.items():
        (folder / f"{name}.py").write_text(source)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(folder)],
                            cwd=folder, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr


def outcomes(run, module: str) -> dict[str, int]:
    """How the inner tests of ``module`` ended, counted (-rA lists each)."""
    found: dict[str, int] = {}
    for outcome in re.findall(rf"^(PASSED|FAILED|ERROR|SKIPPED) \S*{module}\.py::", run[1], re.M):
        found[outcome] = found.get(outcome, 0) + 1
    return found


APP = inner("test_app", '''
        from service import sdk

        def test_reference_data(kefu_app):
            codes = {d.code for d in sdk.db.session.scalars(sdk.db.select(sdk.Department))}
            assert codes == {"sales", "after_sales", "technical", "logistics", "finance", "quality"}
            assert sdk.db.session.scalar(sdk.db.select(sdk.db.func.count()).select_from(sdk.Category)) > 0
            roles = {s.email: s.role for s in sdk.db.session.scalars(sdk.db.select(sdk.Staff))}
            assert roles == {"agent@kefu.test": "agent", "supervisor@kefu.test": "supervisor",
                             "admin@kefu.test": "admin", "finance@kefu.test": "finance"}

        def test_tokens_per_role(kefu_client, kefu_staff):
            assert kefu_client.get("/api/v1/admin/jobs", headers=kefu_staff.headers("admin")).status_code == 200
            assert kefu_client.get("/api/v1/admin/jobs", headers=kefu_staff.headers("agent")).status_code == 403
            assert kefu_client.get("/api/v1/me", headers=kefu_staff.headers("agent")).json["email"] == "agent@kefu.test"
            other, headers = kefu_staff.create("supervisor", department="quality")
            assert kefu_client.get("/api/v1/me", headers=headers).json["id"] == other.id

        def test_a_console_client_in_chinese(kefu_staff):
            console = kefu_staff.console("supervisor", language="zh")
            page = console.get("/console/")
            assert page.status_code == 200 and "工单" in page.text
            assert console.staff.email == "supervisor@kefu.test"

        def test_each_test_starts_from_the_reference_data_again(kefu_app, kefu_tickets):
            kefu_tickets.ticket()
            assert sdk.db.session.scalar(sdk.db.select(sdk.db.func.count()).select_from(sdk.Ticket)) == 1

        def test_and_again(kefu_app):
            assert sdk.db.session.scalar(sdk.db.select(sdk.db.func.count()).select_from(sdk.Ticket)) == 0
''')


TICKETS = inner("test_tickets", '''
        import pytest
        from service import sdk

        @pytest.mark.parametrize("status", ["new", "confirmed", "in_progress", "waiting_on_customer",
                                            "resolved", "closed", "cancelled"])
        def test_status(kefu_tickets, status):
            ticket = kefu_tickets.ticket(status=status, priority="high")
            assert ticket.status == status and ticket.priority == "high"
            actions = [e.action for e in sdk.db.session.scalars(
                sdk.db.select(sdk.TicketEvent).where(sdk.TicketEvent.ticket_id == ticket.id))]
            assert actions[0] == "created"

        def test_mail_and_messages(kefu_tickets, kefu_mail, kefu_client):
            customer = kefu_tickets.customer(name="Li Lei", email="li@example.test", language="zh")
            ticket = kefu_tickets.ticket(status="resolved", customer=customer, resolution="Refunded in full today.")
            notices = [m.notice for m in kefu_mail.to("li@example.test")]
            assert notices[0] == "received" and "resolved" in notices
            [resolved] = kefu_mail.find(to="li@example.test", notice="resolved", ticket=ticket.number)
            assert "Refunded in full today." in resolved.text
            kefu_mail.clear()
            assert kefu_mail.messages == []
            kefu_tickets.message(ticket, "Thanks, but the refund has not arrived.")
            note = kefu_tickets.message(ticket, "Checking with finance.", by="agent", internal=True)
            assert note.internal and not kefu_mail.to("li@example.test")
            token = kefu_tickets.token(ticket)
            assert kefu_client.get(f"/api/v1/public/tickets/{ticket.number}",
                                   headers={"X-Tracking-Token": token}).status_code in (200, 401, 404)

        def test_an_unknown_status_is_refused(kefu_tickets):
            with pytest.raises(ValueError, match="status must be one of"):
                kefu_tickets.ticket(status="done")
''')


SETTINGS = inner("test_settings", '''
        from datetime import datetime, timedelta, timezone

        import pytest
        from service import hookimpl, sdk

        pytestmark = pytest.mark.kefu_settings(AUTO_CLOSE_DAYS=3, REOPEN_WINDOW_DAYS=9)

        @pytest.mark.kefu_settings(AUTO_CLOSE_DAYS=5)
        def test_the_closest_marker_wins_key_by_key(kefu_app, kefu_settings):
            assert kefu_app.config["AUTO_CLOSE_DAYS"] == 5 and kefu_app.config["REOPEN_WINDOW_DAYS"] == 9
            assert kefu_settings == {"AUTO_CLOSE_DAYS": 5, "REOPEN_WINDOW_DAYS": 9}

        class Urgent:
            @hookimpl
            def opening_ticket(self, draft):
                return {"changes": {"priority": "urgent"}}

        def test_a_plugin_for_one_test(kefu_plugins, kefu_tickets):
            kefu_plugins.register(Urgent(), name="urgent_rule")
            assert kefu_plugins.info("urgent_rule").hooks == ["opening_ticket"]
            assert kefu_tickets.ticket().priority == "urgent"

        def test_gone_in_the_next(kefu_plugins, kefu_tickets):
            assert all(i.name != "urgent_rule" for i in kefu_plugins.manager.infos)
            assert kefu_tickets.ticket().priority == "normal"

        def test_the_clock(kefu_clock, kefu_tickets):
            start = kefu_clock.move_to("2030-03-01T09:00:00", tick=False)
            assert sdk.utcnow() == datetime(2030, 3, 1, 9, tzinfo=timezone.utc) == start
            ticket = kefu_tickets.ticket()
            assert ticket.created_at == start
            assert kefu_clock.advance(hours=5) == start + timedelta(hours=5)
            assert sdk.utcnow() == start + timedelta(hours=5)

        def test_the_clock_is_back_afterwards():
            assert datetime.now(timezone.utc).year < 2030
''')


def test_an_app_with_reference_data_staff_tokens_and_a_console(inner_run):
    assert outcomes(inner_run, APP) == {"PASSED": 5}, inner_run[1]


def test_tickets_in_every_status_through_the_use_cases_with_their_mail(inner_run):
    assert outcomes(inner_run, TICKETS) == {"PASSED": 9}, inner_run[1]


def test_settings_plugins_and_the_clock(inner_run):
    assert outcomes(inner_run, SETTINGS) == {"PASSED": 5}, inner_run[1]


def test_the_inner_run_passed_as_a_whole(inner_run):
    assert inner_run[0] == 0, inner_run[1]
